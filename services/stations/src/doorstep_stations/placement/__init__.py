"""Where the stations sit in the org directory: a station follows its compound's community."""
