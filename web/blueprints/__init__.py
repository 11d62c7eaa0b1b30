"""The list of blueprints the app registers, one per area."""

from web.blueprints.admin import bp as admin_bp
from web.blueprints.attendance import bp as attendance_bp
from web.blueprints.auth import bp as auth_bp
from web.blueprints.calendar import bp as calendar_bp
from web.blueprints.coordinator import bp as coordinator_bp
from web.blueprints.credentials import bp as credentials_bp
from web.blueprints.dashboards import bp as dashboards_bp
from web.blueprints.dataio import bp as dataio_bp
from web.blueprints.guide import bp as guide_bp
from web.blueprints.manager import bp as manager_bp
from web.blueprints.matching import bp as matching_bp
from web.blueprints.monitoring import bp as monitoring_bp
from web.blueprints.opportunities import bp as opportunities_bp
from web.blueprints.privacy import bp as privacy_bp
from web.blueprints.programmes import bp as programmes_bp
from web.blueprints.public import bp as public_bp
from web.blueprints.sms import bp as sms_bp
from web.blueprints.volunteer import bp as volunteer_bp

BLUEPRINTS = [
    public_bp,
    auth_bp,
    admin_bp,
    opportunities_bp,
    coordinator_bp,
    dashboards_bp,
    guide_bp,
    matching_bp,
    manager_bp,
    volunteer_bp,
    sms_bp,
    dataio_bp,
    attendance_bp,
    privacy_bp,
    programmes_bp,
    credentials_bp,
    calendar_bp,
    monitoring_bp,
]
