"""Pytest fixtures for the replica (imported by tests/conftest.py)."""

from __future__ import annotations

import pytest

from .server import GapReplica


@pytest.fixture
def replica():
    """A fresh replica on a free port for one test: its own faults and request log."""
    with GapReplica() as server:
        yield server


@pytest.fixture(scope="session")
def replica_session():
    """One replica for the whole session; tests using it must leave no faults behind."""
    with GapReplica() as server:
        yield server
