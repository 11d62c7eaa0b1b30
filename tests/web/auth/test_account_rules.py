"""The account rules on their own: phone numbers, emails, names, passwords, redirects, scopes."""

import pytest
from flask_babel import force_locale

from web import create_app
from web.navigation import safe_next
from web.services import accounts
from web.services.accounts import AccountError, PhoneError


@pytest.fixture(scope="module")
def plain_app():
    """An app context in English for the rules that read configuration but no table."""
    app = create_app(
        {
            "TESTING": True,
            "APP_ENV": "test",
            "SQLALCHEMY_DATABASE_URI": "sqlite://",
            "RATELIMIT_ENABLED": False,
        }
    )
    with app.app_context(), force_locale("en"):
        yield app


@pytest.mark.parametrize(
    "typed",
    [
        "01012345678",
        "010 1234 5678",
        "010-1234-5678",
        "+20 10 1234 5678",
        "+201012345678",
        "00201012345678",
        "٠١٠١٢٣٤٥٦٧٨",
        "۰۱۰۱۲۳۴۵۶۷۸",
        "+٢٠ ١٠ ١٢٣٤ ٥٦٧٨",
        "\u200e01012345678\u200f",
        "\u2066+20 101 234 5678\u2069",
    ],
)
def test_phone_typed_any_way_becomes_e164(plain_app, typed):
    assert accounts.normalise_phone(typed) == "+201012345678"


def test_gulf_numbers_keep_their_country(plain_app):
    assert accounts.normalise_phone("+966 50 123 4567") == "+966501234567"
    assert accounts.normalise_phone("0501234567", region="SA") == "+966501234567"


@pytest.mark.parametrize("typed", ["", "12345", "010 1234", "phone", "+20 10", "9" * 300, "++"])
def test_invalid_phone_numbers_are_refused(plain_app, typed):
    with pytest.raises(PhoneError):
        accounts.normalise_phone(typed)


def test_check_phone_messages(plain_app):
    assert accounts.check_phone("", required=False) is None
    with pytest.raises(AccountError, match="Enter your mobile phone number") as info:
        accounts.check_phone("  ", required=True)
    assert info.value.field == "phone"
    with pytest.raises(AccountError, match="not a valid phone number"):
        accounts.check_phone("12", required=False)


def test_check_email(plain_app):
    assert accounts.check_email("  Mona@Example.ORG ", required=True) == "mona@example.org"
    assert accounts.check_email("", required=False) is None
    for bad in ["mona", "mona@", "@example.org", "mona@example", "mo na@example.org", "a@.org"]:
        with pytest.raises(AccountError, match="not a valid email"):
            accounts.check_email(bad, required=False)
    with pytest.raises(AccountError, match="Enter an email"):
        accounts.check_email(" ", required=True)


def test_check_full_name_cleans_invisible_marks_and_spaces(plain_app):
    assert accounts.check_full_name("\u202b منى \u200b  علي\u202c ") == "منى علي"
    assert accounts.check_full_name("x" * 120) == "x" * 120
    with pytest.raises(AccountError, match="too long"):
        accounts.check_full_name("x" * 121)
    with pytest.raises(AccountError, match="Enter your full name"):
        accounts.check_full_name("\u200f\u200e")


def test_check_password_bounds(plain_app):
    assert accounts.check_password("x" * 10) == "x" * 10
    assert accounts.check_password("x" * 128) == "x" * 128
    for bad in [None, "", "x" * 9, "x" * 129]:
        with pytest.raises(AccountError):
            accounts.check_password(bad)


def test_check_locale(plain_app):
    assert accounts.check_locale("ar") == "ar"
    assert accounts.check_locale("") is None
    with pytest.raises(AccountError):
        accounts.check_locale("fr")


@pytest.mark.parametrize(
    ("target", "safe"),
    [
        ("/account", "/account"),
        ("/opportunities?governorate=EG-C&page=2", "/opportunities?governorate=EG-C&page=2"),
        ("", None),
        (None, None),
        ("https://evil.example/", None),
        ("//evil.example/", None),
        ("/\\evil.example/", None),
        ("/\\\\evil.example/", None),
        ("\\\\evil.example", None),
        ("javascript:alert(1)", None),
        ("account", None),
        ("http:/evil.example", None),
    ],
)
def test_safe_next_only_allows_local_paths(target, safe):
    assert safe_next(target) == safe


def test_scope_rules(app, factory):
    home = factory.institution()
    assert accounts.check_scope("manager", [home.id]).institutions == [home]
    scope = accounts.check_scope("coordinator", governorate_codes=["eg-c", "EG-GZ", "EG-C"])
    assert [g.code for g in scope.governorates] == ["EG-C", "EG-GZ"]
    assert accounts.check_scope("coordinator", national=True).national is True
    assert accounts.check_scope("admin") == accounts.Scope([], [], False)
    refused = [
        (("volunteer",), {}, "role"),
        (("manager",), {}, "institutions"),
        (("manager", [home.id], ["EG-C"]), {}, "governorates"),
        (("manager", [home.id]), {"national": True}, "governorates"),
        (("manager", [home.id + 1000]), {}, "institutions"),
        (("coordinator",), {}, "governorates"),
        (("coordinator", [], ["EG-C"]), {"national": True}, "governorates"),
        (("coordinator", [], ["XX-1"]), {}, "governorates"),
        (("coordinator", [home.id]), {"national": True}, "institutions"),
        (("admin", [], ["EG-C"]), {}, "role"),
        (("admin",), {"national": True}, "role"),
    ]
    for args, kwargs, field in refused:
        with pytest.raises(AccountError) as info:
            accounts.check_scope(*args, **kwargs)
        assert info.value.field == field, (args, kwargs)
