"""Bookings: class sessions and appointment slots, bookings of their seats, the waitlist, check-in."""
