"""Events: what stations publishes to webhook subscribers, and the subscription routes."""
