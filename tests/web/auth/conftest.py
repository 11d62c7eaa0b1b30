"""Fixtures of the account tests: cheap password hashing (the real cost is tested elsewhere)."""

import pytest


@pytest.fixture(autouse=True)
def _cheap_hashes(fast_password_hashing: None) -> None:
    """Every test here hashes passwords with ``fast_password_hashing`` (tests/conftest.py)."""
