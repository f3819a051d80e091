"""What the proxy tells others: webhook events to machine clients, and "residents changed" in-process."""
