"""Demands (群众诉求清): consultations and requests, by channel, with their status."""
