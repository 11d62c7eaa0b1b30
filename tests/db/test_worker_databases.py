"""Each pytest-xdist worker runs its PostgreSQL tests in a database of its own."""

from __future__ import annotations

import os

import pytest

from tests.conftest import CONFIGURED_DATABASE_URL, TEST_DATABASE_URL, worker_database_url


def test_a_worker_gets_a_database_named_after_it_beside_the_configured_one():
    url = "postgresql://postgres@127.0.0.1:5432/test"
    assert worker_database_url(url, "gw1") == "postgresql://postgres@127.0.0.1:5432/test_gw1"
    assert worker_database_url(url + "?sslmode=disable", "gw0").endswith(
        "/test_gw0?sslmode=disable"
    )
    assert worker_database_url(url, None) == url
    # a worker's child process sees the rewritten URL and the worker's name again
    assert worker_database_url(worker_database_url(url, "gw1"), "gw1").endswith("/test_gw1")
    assert worker_database_url(None, "gw0") is None


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="needs TEST_DATABASE_URL (CI sets it)")
def test_this_run_uses_its_own_database_everywhere():
    """In a worker: the worker's database, for the fixtures and for child processes alike;
    in a run without workers: the configured one, untouched."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    expected = worker_database_url(CONFIGURED_DATABASE_URL, worker)
    assert expected == TEST_DATABASE_URL
    assert os.environ["TEST_DATABASE_URL"] == expected
    if worker:
        assert expected != CONFIGURED_DATABASE_URL
