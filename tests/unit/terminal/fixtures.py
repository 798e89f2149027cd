"""Fixtures of the terminal agent's tests: the fake xtquant package and a fake QuantLink API on loopback."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from tests.unit.terminal.terminal_fakes import FakeQuantLink

FAKE_XTQUANT_DIR = Path(__file__).parent / "fake_xtquant"


def _load(name: str, path: Path, monkeypatch: pytest.MonkeyPatch, package: bool = False) -> ModuleType:
    locations = [str(FAKE_XTQUANT_DIR)] if package else None
    spec = importlib.util.spec_from_file_location(name, path, submodule_search_locations=locations)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, name, module)  # registered first so relative imports resolve to the fake
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def fake_xtquant(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The fake xtquant, importable as `xtquant` for this test only (fresh BROKER each time)."""
    package = _load("xtquant", FAKE_XTQUANT_DIR / "__init__.py", monkeypatch, package=True)
    for name in ("xtconstant", "xttype", "xttrader", "xtdata"):
        setattr(package, name, _load(f"xtquant.{name}", FAKE_XTQUANT_DIR / f"{name}.py", monkeypatch))
    return package


@pytest.fixture
def fake_api() -> Iterator[FakeQuantLink]:
    server = FakeQuantLink().start()
    yield server
    server.stop()
