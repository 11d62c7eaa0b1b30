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
