"""Every model of the app, importable from one place."""

from web.models.assignment import HOLDING_STATES, SOURCES, STATES, TRANSITIONS, Assignment
from web.models.attendance import (
    CERTIFICATE_LANGUAGES,
    AttendanceRecord,
    Certificate,
    HoursEntry,
    ImmutableRowError,
)
from web.models.audit import AuditEvent
from web.models.base import UTCDateTime, utcnow  # noqa: F401 - re-exported
from web.models.credential import (
    CREDENTIAL_STATUSES,
    CalendarFeed,
    CredentialType,
    VolunteerCredential,
    shift_credential_requirement,
)
from web.models.data_import import IMPORT_KINDS, DataImport
from web.models.institution import INSTITUTION_KINDS, Institution
from web.models.matching import (
    ACTIVE_RUN_STATUSES,
    RUN_STATUSES,
    SCOPE_KINDS,
    MatchingRun,
    MatchingSchedule,
    RunLock,
    RunProposal,
)
from web.models.messaging import (
    InboundMessage,
    MessagingContact,
    OutboundMessage,
    PhoneVerification,
)
from web.models.monitoring import (
    CHECK_ANSWERS,
    REPORT_STATUSES,
    SEVERITIES,
    MonitoringReport,
    MonitoringReportEvent,
    MonitoringReportPhoto,
)
from web.models.opportunity import (
    GENDER_RULES,
    Opportunity,
    OpportunityInterest,
    Shift,
    ShiftSeries,
    ShiftSkillRequirement,
)
from web.models.password_reset import RESET_CHANNELS, PasswordReset
from web.models.programme import (
    COHORT_STATUSES,
    ENROLMENT_STATUSES,
    PROGRAMME_KINDS,
    Cohort,
    Enrolment,
    Programme,
)
from web.models.reference import Governorate, Skill
from web.models.upload import UploadedFile
from web.models.user import ROLES, STAFF_ROLES, User
from web.models.volunteer import (
    GENDERS,
    LANGUAGES,
    AvailabilityException,
    AvailabilityRule,
    VolunteerProfile,
)

__all__ = [
    "ACTIVE_RUN_STATUSES",
    "CERTIFICATE_LANGUAGES",
    "CHECK_ANSWERS",
    "COHORT_STATUSES",
    "CREDENTIAL_STATUSES",
    "ENROLMENT_STATUSES",
    "GENDERS",
    "GENDER_RULES",
    "HOLDING_STATES",
    "IMPORT_KINDS",
    "INSTITUTION_KINDS",
    "LANGUAGES",
    "PROGRAMME_KINDS",
    "REPORT_STATUSES",
    "RESET_CHANNELS",
    "ROLES",
    "RUN_STATUSES",
    "SCOPE_KINDS",
    "SEVERITIES",
    "SOURCES",
    "STAFF_ROLES",
    "STATES",
    "TRANSITIONS",
    "Assignment",
    "AttendanceRecord",
    "AuditEvent",
    "AvailabilityException",
    "AvailabilityRule",
    "CalendarFeed",
    "Certificate",
    "Cohort",
    "CredentialType",
    "DataImport",
    "Enrolment",
    "Governorate",
    "HoursEntry",
    "ImmutableRowError",
    "InboundMessage",
    "Institution",
    "MatchingRun",
    "MatchingSchedule",
    "MessagingContact",
    "MonitoringReport",
    "MonitoringReportEvent",
    "MonitoringReportPhoto",
    "Opportunity",
    "OpportunityInterest",
    "OutboundMessage",
    "PasswordReset",
    "PhoneVerification",
    "Programme",
    "RunLock",
    "RunProposal",
    "Shift",
    "ShiftSeries",
    "ShiftSkillRequirement",
    "Skill",
    "UploadedFile",
    "User",
    "VolunteerCredential",
    "VolunteerProfile",
    "shift_credential_requirement",
    "utcnow",
]
