"""Services: the rules and transactions of the app, between the views and the models."""
