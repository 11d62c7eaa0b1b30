"""Flask-WTF forms, one module per area, sharing the fields in ``fields``."""
