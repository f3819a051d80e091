"""County figures gathered from the services, and the dashboard that shows them (``/api/v1/reports``)."""
