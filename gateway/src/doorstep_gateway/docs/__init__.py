"""API documentation: one OpenAPI document merged from the gateway and every service (``/docs``)."""
