"""Fixtures of the account tests: cheap password hashing (the real cost is tested elsewhere)."""

from functools import partial

import pytest
from werkzeug.security import generate_password_hash


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch):
    """A few pbkdf2 rounds instead of scrypt: same API, milliseconds instead of 0.2 s a hash."""
    fast = partial(generate_password_hash, method="pbkdf2:sha256:1000")
    monkeypatch.setattr("web.models.user.generate_password_hash", fast)
    monkeypatch.setattr("web.services.accounts.generate_password_hash", fast)
    from web.services import accounts

    accounts._dummy_hash.cache_clear()
    yield
    accounts._dummy_hash.cache_clear()
