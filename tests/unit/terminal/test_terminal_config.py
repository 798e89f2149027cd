"""Reading the agent's config file."""

from __future__ import annotations

import json
from datetime import time
from pathlib import Path

import pytest

from quantlink_terminal.config import ConfigError, load_config
from quantlink_terminal.initconfig import example_config, render_config

EXAMPLE = Path(__file__).resolve().parents[3] / "terminal" / "quantlink_terminal" / "data" / "config.example.toml"
PAPER = 'auth_token = "t"\napi_base = "https://x"\nexecutor = "paper"\n'


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
    assert config.risk.trading_hours_only and config.risk.max_order_value is None  # 0 is off
    assert config.polling.active_wait == 20 and config.polling.idle_interval == 60
    assert config.pause_file.endswith("quantlink-paused") and config.activity_log is not None


def test_the_example_ships_inside_the_package() -> None:
    assert example_config() == EXAMPLE.read_text(encoding="utf-8")


def test_init_fills_in_what_it_is_given_and_the_result_loads(tmp_path: Path) -> None:
    text = render_config(api_base="http://127.0.0.1:8000", auth_token="tt_x", executor="paper", terminal_id="term-1")
    path = write(tmp_path, text)
    config = load_config(path)
    assert (config.api_base, config.auth_token, config.executor) == ("http://127.0.0.1:8000", "tt_x", "paper")
    assert config.terminal_id == "term-1"
    assert not config.risk.trading_hours_only  # paper demos run at any hour
    assert text.count("\n# ") > 40  # the comments that explain each setting are kept


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
        (
            PAPER.replace('"paper"', '"papr"'),
            "must be one of paper, xtquant, ptrade, got 'papr'; did you mean \"paper\"?",
        ),
        (PAPER + 'excutor = "paper"', "unknown setting `excutor` in config.toml; did you mean `executor`?"),
        (PAPER + "[papr]\ninitial_cash = 1", "unknown section [papr] in config.toml; did you mean [paper]?"),
        (
            PAPER + '[sizing]\nmdoe = "mirror"',
            "unknown setting `mdoe` in [sizing] of config.toml; did you mean `mode`?",
        ),
        (PAPER + '[sizing]\nmode = "mirorr"', 'did you mean "mirror"?'),
        (PAPER + "[risk]\nmax_order_valeu = 5", "did you mean `max_order_value`?"),
        (PAPER + "[risk]\nmax_position_share = 1.5", "max_position_share must be in (0, 1]"),
        (PAPER + "[risk]\nmax_order_value = -5", "max_order_value must be a positive amount"),
        (PAPER + '[risk]\nblocked_securities = ["600000"]', "is not a security code"),
        (PAPER + '[risk]\nallowed_securities = "600000.SH"', "wrong type"),
        (PAPER + "[polling]\nactive_wait = 30", "active_wait must be 0..20"),
        (
            'auth_token = "t"\napi_base = "https://x"\n[xtquant]\nuserdata_path = "."\naccount_id = "1"\n'
            'account_type = "CREDIT"',
            "`account_type` in [xtquant] of config.toml must be STOCK",
        ),
        (
            'auth_token = "t"\napi_base = "https://x"\n[xtquant]\nuserdata_path = "."\naccount_id = "1"\n'
            'account_type = "STOKC"',
            'did you mean "STOCK"?',
        ),
        (
            'auth_token = "t"\napi_base = "http://127.0.0.1:8000/api/"\nexecutor = "paper"',
            "ends with /api ('http://127.0.0.1:8000/api'): write the address without it, "
            'api_base = "http://127.0.0.1:8000"',
        ),
        ('auth_token = "t"\napi_base = "https://x"\nexecutor = "xtquant"', "missing `xtquant`"),
        (
            'auth_token = "t"\napi_base = "https://x"\nexecutor = "paper"\n[sizing]\nmode = "all-in"',
            "`mode` in [sizing]",
        ),
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


def test_risk_guards_read_both_code_forms_and_wildcards(tmp_path: Path) -> None:
    config = load_config(
        write(
            tmp_path,
            PAPER
            + "[risk]\nmax_order_value = 50000\nmax_daily_buy_value = 200000\nmax_position_share = 0.2\n"
            + 'allowed_securities = ["600000.XSHG", "000001.sz", "688*.SH"]\nblocked_securities = ["430047.XBSE"]\n'
            + "max_price_deviation = 0.02\ntrading_hours_only = true\npause_file = 'stop-trading'\n",
        )
    )
    risk = config.risk
    assert (risk.max_order_value, risk.max_daily_buy_value, risk.max_position_share) == (50_000, 200_000, 0.2)
    assert risk.allowed_securities == ("600000.SH", "000001.SZ", "688*.SH")
    assert risk.blocked_securities == ("430047.BJ",)
    assert risk.max_price_deviation == 0.02 and risk.trading_hours_only
    assert config.pause_file == str(tmp_path / "stop-trading")


def test_trading_hours_only_defaults_on_for_real_orders_off_for_paper(tmp_path: Path) -> None:
    assert not load_config(write(tmp_path, PAPER)).risk.trading_hours_only
    xtquant = 'auth_token = "t"\napi_base = "https://x"\n[xtquant]\nuserdata_path = "."\naccount_id = 8880001\n'
    config = load_config(write(tmp_path, xtquant))
    assert config.risk.trading_hours_only
    assert config.xtquant is not None and config.xtquant.account_id == "8880001"  # a number is written as text


def test_an_empty_activity_log_setting_turns_it_off(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, PAPER + 'activity_log = ""\n')).activity_log is None


PTRADE = 'auth_token = "tm_1.secret"\napi_base = "https://x"\nexecutor = "ptrade"\nterminal_id = "tm_1"\n'


def test_a_ptrade_config_reads_the_ptrade_section_with_real_order_defaults(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, PTRADE + '[ptrade]\npoll_seconds = 10\nfiles_prefix = "acct-2"\n'))
    assert config.executor == "ptrade" and config.ptrade is not None
    assert (config.ptrade.poll_seconds, config.ptrade.files_prefix, config.ptrade.order_timeout) == (10, "acct-2", 30.0)
    assert config.risk.trading_hours_only  # real orders: on by default, as for xtquant
    assert config.xtquant is None and config.paper is None


def test_init_writes_a_ptrade_config_that_loads(tmp_path: Path) -> None:
    text = render_config(api_base="https://x", auth_token="tm_1.s", executor="ptrade", terminal_id="tm_1")
    config = load_config(write(tmp_path, text))
    assert config.ptrade is not None and config.ptrade.poll_seconds == 5


@pytest.mark.parametrize(
    ("section", "complaint"),
    [
        (
            "[ptrade]\npoll_second = 5\n",
            "unknown setting `poll_second` in [ptrade] of config.toml; did you mean `poll_seconds`?",
        ),
        ("[ptrade]\npoll_seconds = 1\n", "poll_seconds must be 3 to 60 seconds (PTrade's minimum is 3)"),
        ('[ptrade]\nfiles_prefix = "../x"\n', "files_prefix must be 1 to 40 letters"),
        ('[ptrade]\norder_timeout = "30"\n', "`order_timeout` in [ptrade] of config.toml has the wrong type"),
    ],
)
def test_ptrade_mistakes_are_named(tmp_path: Path, section: str, complaint: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_config(write(tmp_path, PTRADE + section))
    assert complaint in str(raised.value)
