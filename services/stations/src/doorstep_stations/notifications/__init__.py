"""Notifications: messages to residents, queued in the outbox with the change and sent by the worker."""
