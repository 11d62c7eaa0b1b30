"""User-facing names of domain codes: institution kinds, shift genders, languages, run statuses."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

KIND_LABELS = {
    "orphanage": _l("Orphanage"),
    "elderly_home": _l("Elderly home"),
    "disability_centre": _l("Disability centre"),
    "other": _l("Other care institution"),
}
# Who may take a shift (Shift.gender).
GENDER_LABELS = {
    "any": _l("Women and men"),
    "female": _l("Women only"),
    "male": _l("Men only"),
}
# Languages a volunteer speaks and a shift asks for (web.models.LANGUAGES).
LANGUAGE_LABELS = {
    "ar": _l("Arabic"),
    "en": _l("English"),
    "fr": _l("French"),
    "de": _l("German"),
    "es": _l("Spanish"),
    "it": _l("Italian"),
    "tr": _l("Turkish"),
    "ur": _l("Urdu"),
    "sgn": _l("Sign language"),
}
# A matching run's status (MatchingRun.status).
RUN_STATUS_LABELS = {
    "queued": _l("Queued"),
    "running": _l("Running"),
    "proposed": _l("Proposed"),
    "published": _l("Published"),
    "discarded": _l("Discarded"),
    "failed": _l("Failed"),
}
# The matcher's solution statuses.
SOLUTION_STATUS_LABELS = {
    "OPTIMAL": _l("optimal"),
    "FILL_OPTIMAL": _l("most places possible"),
    "FEASIBLE": _l("not proven best"),
    "EMPTY": _l("nothing to fill"),
}

# Why the matcher ruled a volunteer out of a place (its reason codes), as a user reads it.
REASON_LABELS = {
    "availability": _l("not available then"),
    "gender": _l("gender rule"),
    "age": _l("below the minimum age"),
    "credentials": _l("missing a required credential"),
    "languages": _l("no common language"),
    "distance": _l("too far away"),
    "skills": _l("missing the skill"),
    "taken_elsewhere": _l("needed on another shift"),
    "schedule": _l("another shift too close"),
    "overlap": _l("another shift at the same time"),
    "rest": _l("too little rest between shifts"),
    "caps": _l("weekly limit reached"),
    "max_shifts": _l("weekly shift limit reached"),
    "max_hours": _l("weekly hour limit reached"),
    "assigned_here": _l("already on this shift"),
    "available": _l("free, but the search stopped first"),
    "places": _l("no free place"),
    "locked": _l("a confirmed volunteer would be left out"),
}
# A programme's kind (web.models.PROGRAMME_KINDS).
PROGRAMME_KIND_LABELS = {
    "mentoring": _l("Mentoring"),
    "psychosocial_support": _l("Psychosocial support"),
    "sports": _l("Sports"),
    "choir": _l("Choir"),
    "tutoring": _l("Tutoring"),
    "monitoring_visits": _l("Monitoring visits"),
}
# Where a volunteer's application to a cohort stands (Enrolment.status).
ENROLMENT_STATUS_LABELS = {
    "applied": _l("Applied"),
    "accepted": _l("Accepted"),
    "waitlisted": _l("On the waiting list"),
    "rejected": _l("Not accepted"),
    "withdrawn": _l("Withdrawn"),
}
# How serious a monitoring report is (web.models.SEVERITIES).
SEVERITY_LABELS = {
    "none": _l("No concern"),
    "minor": _l("Minor concern"),
    "serious": _l("Serious violation"),
    "critical": _l("Critical: someone is in danger"),
}
# Where a monitoring report is in its workflow (web.models.REPORT_STATUSES).
REPORT_STATUS_LABELS = {
    "submitted": _l("Submitted"),
    "under_review": _l("Under review"),
    "referred": _l("Referred"),
    "closed": _l("Closed"),
}
# A checklist answer.
CHECK_ANSWER_LABELS = {
    "yes": _l("Yes"),
    "no": _l("No"),
    "not_seen": _l("Could not check"),
}
