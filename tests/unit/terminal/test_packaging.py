"""What the terminal wheel ships: every data file the agent reads is declared as package data."""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

TERMINAL = Path(__file__).resolve().parents[3] / "terminal"


def test_every_data_file_ships_in_the_wheel() -> None:
    declared = tomllib.loads((TERMINAL / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"][
        "package-data"
    ]["quantlink_terminal"]
    package = TERMINAL / "quantlink_terminal"
    data_files = [p.relative_to(package).as_posix() for p in (package / "data").iterdir()]
    assert sorted(data_files) == ["data/config.example.toml", "data/market_holidays.json"]
    for name in data_files:
        assert any(fnmatch.fnmatch(name, pattern) for pattern in declared), name


def test_the_agent_keeps_its_python_floor() -> None:
    project = tomllib.loads((TERMINAL / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["project"]["requires-python"] == ">=3.8"
    assert project["tool"]["ruff"]["target-version"] == "py38"
