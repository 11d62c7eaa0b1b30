"""The list of blueprints the app registers, one per area."""

from web.blueprints.public import bp as public_bp

BLUEPRINTS = [public_bp]
