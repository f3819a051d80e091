"""Where the ledger's compounds sit in the org directory: new compounds added, redrawn ones
re-homed with their households, residents, open cases, planned visits and leads."""
