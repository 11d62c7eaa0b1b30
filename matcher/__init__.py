"""Volunteer matching: the v1 problem model, the matching rules, the solver and its CLI."""
