"""The generated PTrade script as a file: Python 3.5 grammar, ASCII, standard library only, no module PTrade
blocks, the agent's own rules inside, deterministic; and what it does when PTrade cannot run it."""

from __future__ import annotations

import ast
import functools
import re
from pathlib import Path

import pytest

from quantlink_terminal.ptrade.bundle import BUILTINS_35, BundleError, check_names
from quantlink_terminal.ptrade.script import render_ptrade_script
from quantlink_terminal.ptrade.settings import PTradeSettings, ScriptSettings, default_fingerprint
from quantlink_terminal.risk import RiskLimits
from quantlink_terminal.sizing import SizingRule
from tests.unit.terminal.ptrade_fake import FakePTrade

TOKEN = "tm_abc.s3cret-token"
SETTINGS = ScriptSettings(
    api_base="https://api.quantlink.example.com",
    auth_token=TOKEN,
    device_fingerprint=default_fingerprint("tm_abc", TOKEN),
    terminal_id="tm_abc",
    sizing=SizingRule(mode="fixed", multiplier=0.5),
    risk=RiskLimits(max_order_value=50_000, blocked_securities=("000001.SZ",), trading_hours_only=True),
    ptrade=PTradeSettings(poll_seconds=6),
)
# What a strategy may not import on some brokers' PTrade, and what the script must never need.
NEVER_IMPORTED = {"sys", "io", "importlib", "subprocess", "ctypes", "sqlite3", "requests"}
STDLIB = {"builtins", "contextlib", "copy", "datetime", "decimal", "fnmatch", "functools", "hashlib", "json",
          "logging", "math", "os", "pkgutil", "random", "re", "socket", "threading", "time", "typing",
          "urllib"}  # fmt: skip


@functools.cache
def script(settings: ScriptSettings = SETTINGS) -> str:
    return render_ptrade_script(settings)


def imported_modules(source: str) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_the_script_is_python_3_5_and_ascii() -> None:
    text = script()
    tree = ast.parse(text, feature_version=(3, 5))
    assert text.isascii()
    assert not any(isinstance(node, (ast.JoinedStr, ast.AnnAssign)) for node in ast.walk(tree))
    assert "\\u4ea4\\u6613" in text  # 交易, escaped: the Chinese log text is in the script


def test_it_imports_only_the_standard_library_and_nothing_ptrade_blocks() -> None:
    modules = imported_modules(script())
    assert modules <= STDLIB, modules - STDLIB
    assert not modules & NEVER_IMPORTED


def test_it_holds_the_agents_own_rules_not_copies() -> None:
    text = script()
    for rule in ("def size_order", "class RiskGuard", "class SignalRunner", "def execution_order",
                 "class FileJournal", "class PTradeExecutor", "def round_limit_price", "class Agent"):  # fmt: skip
        assert len(re.findall(rf"^{rule}\b[(:]", text, re.MULTILINE)) == 1, rule
    assert "PTrade's Python 3.5" in text.splitlines()[11]  # the header says what the code is


def test_it_defines_ptrades_entry_points_and_schedules_its_poll() -> None:
    tree = ast.parse(script())
    functions = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}
    assert [arg.arg for arg in functions["initialize"].args.args] == ["context"]
    assert [arg.arg for arg in functions["handle_data"].args.args] == ["context", "data"]
    assert [arg.arg for arg in functions["quantlink_poll"].args.args] == ["context"]
    assert [arg.arg for arg in functions["after_trading_end"].args.args] == ["context", "data"]


def test_no_bundled_name_shadows_ptrades_api() -> None:
    tree = ast.parse(script())
    top = {t.id for node in tree.body if isinstance(node, ast.Assign) for t in node.targets if isinstance(t, ast.Name)}
    top |= {node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef))}
    for name in ("log", "g", "order", "get_order", "get_orders", "get_trades", "get_position", "run_interval"):
        assert name not in top, name
    # datetime.time, renamed where it would clash with the time module
    assert "from datetime import time as _calendar_time" in script() and "\n    import time\n" in script()


def test_the_settings_are_in_it_once_and_the_same_settings_give_the_same_file() -> None:
    text = script()
    assert text.count(TOKEN) == 1
    assert "'max_order_value': 50000" in text and "'blocked_securities': ['000001.SZ']" in text
    assert "'poll_seconds': 6" in text and "'multiplier': 0.5" in text
    assert render_ptrade_script(SETTINGS) == text


def test_a_name_nothing_defines_stops_the_bundle() -> None:
    with pytest.raises(BundleError, match="undefined_helper"):
        check_names("def f():\n    return undefined_helper()\n")
    check_names("def f():\n    return len(log)\n")  # PTrade's log is PTrade's
    assert "breakpoint" not in BUILTINS_35 and "ModuleNotFoundError" not in BUILTINS_35


def test_in_a_backtest_it_says_so_and_schedules_nothing(tmp_path: Path) -> None:
    ptrade = FakePTrade(tmp_path, trading=False)
    ptrade.start(script())
    assert ptrade.timers == []
    assert "in a backtest it does nothing" in ptrade.log.text()


def test_a_ptrade_that_blocks_urllib_gets_the_reason_and_no_crash(tmp_path: Path) -> None:
    ptrade = FakePTrade(tmp_path, blocked_modules=("urllib",))
    ptrade.start(script())
    assert ptrade.timers == []
    [line] = [message for level, message in ptrade.log.lines if level == "error"]
    assert "urllib.request" in line and "cannot make HTTP requests" in line and "禁止策略访问外网" in line


def test_a_ptrade_that_blocks_os_still_trades_without_the_activity_file(tmp_path: Path) -> None:
    ptrade = FakePTrade(tmp_path, blocked_modules=("os",))
    ptrade.start(script())
    assert [seconds for _func, seconds in ptrade.timers] == [6]
    assert not (tmp_path / "quantlink-activity.jsonl").exists()


def test_damaged_settings_are_explained(tmp_path: Path) -> None:
    damaged = re.sub(r"'v': 1\}", "'v': 99}", script())
    ptrade = FakePTrade(tmp_path)
    ptrade.start(damaged)
    assert ptrade.timers == [] and "settings in this script are damaged" in ptrade.log.text()
