"""Reading the agent's config file."""

from __future__ import annotations

import json
from datetime import time
from pathlib import Path

import pytest

from quantlink_terminal.config import ConfigError, load_config

EXAMPLE = Path(__file__).resolve().parents[3] / "terminal" / "examples" / "config.toml"


def write(tmp_path: Path, text: str, name: str = "config.toml") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_the_shipped_example_is_a_valid_config() -> None:
    config = load_config(str(EXAMPLE))
    assert config.executor == "xtquant" and config.xtquant is not None
    assert config.xtquant.userdata_path.endswith("userdata_mini")
    assert config.xtquant.account_id == "8880000001"
    assert (config.sizing.mode, config.sizing.on_insufficient_cash) == ("ratio", "shrink")
    assert config.report_after_close == time(15, 5)


def test_json_config_with_paths_relative_to_the_file(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        json.dumps(
            {
                "api_base": "http://127.0.0.1:9/",
                "auth_token": "tt",
                "executor": "paper",
                "paper": {"state_file": "acct.json", "initial_cash": 100000, "prices": {"600000.sh": 10}},
                "report": {"enabled": False},
            }
        ),
        name="config.json",
    )
    config = load_config(path)
    assert config.api_base == "http://127.0.0.1:9"
    assert config.paper is not None and config.paper.state_file == str(tmp_path / "acct.json")
    assert config.paper.prices == {"600000.SH": 10.0}
    assert config.journal_path == str(tmp_path / "quantlink-journal.sqlite3")
    assert config.report_after_close is None


def test_a_utf8_bom_from_notepad_is_fine(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(b"\xef\xbb\xbf" + b'api_base = "https://x"\nauth_token = "t"\nexecutor = "paper"\n')
    assert load_config(str(path)).executor == "paper"


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ('executor = "paper"\napi_base = "https://x"', "missing `auth_token`"),
        ('auth_token = "t"\napi_base = "ftp://x"\nexecutor = "paper"', "must start with https://"),
        ('auth_token = "t"\napi_base = "https://x"\nexecutor = "ib"', "must be one of paper, xtquant"),
        ('auth_token = "t"\napi_base = "https://x"\nexecutor = "xtquant"', "missing `xtquant`"),
        ('auth_token = "t"\napi_base = "https://x"\nexecutor = "paper"\n[sizing]\nmode = "all-in"', "sizing mode"),
        ('auth_token = "t"\napi_base = "https://x"\nexecutor = "paper"\n[sizing]\nmultiplier = true', "wrong type"),
        ('auth_token = "t"\napi_base = "https://x"\nexecutor = "paper"\ndevice_fingerprint = "short"', "8 to 128"),
        ('auth_token = "t"\napi_base = "https://x"\nexecutor = "paper"\n[report]\nafter_close = "3pm"', "15:05"),
        ('auth_token = "t\napi_base = ', "not valid TOML"),
    ],
)
def test_mistakes_are_named(tmp_path: Path, text: str, complaint: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_config(write(tmp_path, text))
    assert complaint in str(raised.value)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        load_config(str(tmp_path / "nope.toml"))
    assert "nope.toml" in str(raised.value)
