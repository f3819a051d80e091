"""The staff roster export (``/api/v1/roster/export``): the staff records the services follow."""
