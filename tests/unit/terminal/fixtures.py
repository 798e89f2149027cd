"""Fixtures of the terminal agent's tests: the vendor's xtquant over the native stand-in, and a fake QuantLink
API on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.unit.terminal.terminal_fakes import FakeQuantLink
from tests.unit.terminal.vendor_xtquant import VendorXtquant, extract_pure_python, vendor_xtquant, wheel_path


@pytest.fixture(scope="session")
def xtquant_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The pinned xtquant wheel's pure-Python modules, extracted once per run."""
    return extract_pure_python(wheel_path(), tmp_path_factory.mktemp("xtquant-wheel"))


@pytest.fixture
def real_xtquant(xtquant_wheel: Path) -> Iterator[VendorXtquant]:
    """The vendor's xttrader/xttype/xtconstant, unchanged, importable as `xtquant` for this test, over the
    native stand-in (`real_xtquant.counter` is its broker)."""
    with vendor_xtquant(xtquant_wheel) as vendor:
        yield vendor


@pytest.fixture
def fake_api() -> Iterator[FakeQuantLink]:
    server = FakeQuantLink().start()
    yield server
    server.stop()
