"""The org directory the gateway owns: the county's communities and grids, and the staff in them (``/api/v1/directory``)."""
