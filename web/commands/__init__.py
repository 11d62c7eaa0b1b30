"""`flask` command groups of the app."""
