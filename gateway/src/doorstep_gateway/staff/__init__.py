"""Staff accounts as data (``/api/v1/staff``): county and community admins create, change,
deactivate and reset the accounts of their scope; the platform admin creates county admins."""
