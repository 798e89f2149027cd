"""The e2e tier: the real local stack started as a subprocess (`python -m quantlink_local`), driven
over HTTP like any client. One stack per test session; one fresh owner per test."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator

import pytest
import requests

from quantlink_local.client import OwnerClient
from quantlink_local.process import RunningStack, start_stack


def pytest_configure(config: pytest.Config) -> None:
    """A stack a test starts without --data-dir must not use (or lock) the repo's .quantlink/."""
    os.environ.setdefault("QUANTLINK_DATA_DIR", tempfile.mkdtemp(prefix="quantlink-e2e-data-"))


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    stack = start_stack(tmp_path_factory.mktemp("stack"))
    assert requests.get(f"{stack.api_base}/api/health", timeout=10).json() == {"status": "ok"}
    yield stack
    stack.stop()


@pytest.fixture
def owner(local_stack: RunningStack) -> OwnerClient:
    return local_stack.new_owner()
