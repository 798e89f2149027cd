"""The command line: doctor, report, run's exit codes."""

from __future__ import annotations

import io
import json
import signal
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from quantlink_terminal import cli
from quantlink_terminal.activity import read_activity
from quantlink_terminal.agent import EXIT_UNAUTHORIZED
from quantlink_terminal.clock import CHINA_TZ
from quantlink_terminal.config import load_config
from quantlink_terminal.doctor import run_doctor
from quantlink_terminal.executors.base import OrderRequest
from quantlink_terminal.executors.paper import PaperExecutor, PaperSettings
from quantlink_terminal.journal import Journal
from quantlink_terminal.wiring import build_agent, build_executor
from tests.unit.terminal.terminal_fakes import GOOD_TOKEN, FakeQuantLink, wire_signal
from tests.unit.terminal.vendor_xtquant import VendorXtquant


def paper_config(tmp_path: Path, api_base: str, token: str = GOOD_TOKEN, **extra: object) -> str:
    body = {
        "api_base": api_base,
        "auth_token": token,
        "executor": "paper",
        "terminal_id": "term-1",
        "device_fingerprint": "device-test-0001",
        "paper": {"state_file": "paper.json"},
        **extra,
    }
    path = tmp_path / "config.json"
    path.write_text(json.dumps(body), encoding="utf-8")
    return str(path)


def doctor(path: str) -> tuple[int, str]:
    out = io.StringIO()
    return run_doctor(path, build_executor, out), out.getvalue()


@pytest.fixture
def restore_signal_handlers() -> Iterator[None]:
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


def test_doctor_passes_on_a_good_setup(fake_api: FakeQuantLink, tmp_path: Path) -> None:
    code, output = doctor(paper_config(tmp_path, fake_api.api_base))
    assert code == 0, output
    for name in ("config", "journal", "risk guards", "API reachable", "token and device", "paper executor"):
        assert f"[ ok ] {name}" in output
    assert output.strip().endswith("all checks passed")


def test_doctor_never_takes_a_signal_off_the_queue(fake_api: FakeQuantLink, tmp_path: Path) -> None:
    fake_api.publish(wire_signal("sig-live"))
    doctor(paper_config(tmp_path, fake_api.api_base))
    assert fake_api.pull_queries == [] and fake_api.deliveries == 0
    assert [s["signalId"] for s in fake_api.visible] == ["sig-live"]


def test_doctor_explains_a_wrong_token(fake_api: FakeQuantLink, tmp_path: Path) -> None:
    code, output = doctor(paper_config(tmp_path, fake_api.api_base, token="tt_rotated"))
    assert code == 1
    assert "[FAIL] token" in output and "auth_token" in output


def test_doctor_explains_how_to_release_a_taken_device(fake_api: FakeQuantLink, tmp_path: Path) -> None:
    fake_api.bound_device = "another-pc-fingerprint"
    code, output = doctor(paper_config(tmp_path, fake_api.api_base))
    assert code == 1
    assert "[FAIL] device binding" in output and "/api/terminals/term-1/release" in output


def test_doctor_explains_an_unreachable_api(tmp_path: Path) -> None:
    code, output = doctor(paper_config(tmp_path, "http://127.0.0.1:9"))
    assert code == 1
    assert "[FAIL] API reachable" in output and "fix: Check `api_base`" in output
    assert "token and device" not in output  # no point asking about the token without a connection


def test_doctor_explains_miniqmt_not_running(
    fake_api: FakeQuantLink, real_xtquant: VendorXtquant, tmp_path: Path
) -> None:
    real_xtquant.counter.connect_result = -1
    path = tmp_path / "config.json"
    path.write_text(
        json.dumps(
            {
                "api_base": fake_api.api_base,
                "auth_token": GOOD_TOKEN,
                "device_fingerprint": "device-test-0001",
                "xtquant": {"userdata_path": str(tmp_path), "account_id": "8880001"},
            }
        )
    )
    code, output = doctor(str(path))
    assert code == 1
    assert "[FAIL] xtquant executor" in output and "极简模式" in output


def test_doctor_reports_a_broken_config(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('api_base = "https://x"\n', encoding="utf-8")
    code, output = doctor(str(path))
    assert code == 1 and "[FAIL] config: missing `auth_token`" in output


def test_report_command_posts_real_holdings(fake_api: FakeQuantLink, tmp_path: Path) -> None:
    config = paper_config(tmp_path, fake_api.api_base)
    paper = PaperExecutor(PaperSettings(str(tmp_path / "paper.json"), initial_cash=100_000))
    paper.connect()
    paper.place(OrderRequest("QL1", "000001.SZ", "buy", 500, None, 12.0))

    assert cli.main(["report", "--config", config]) == 0

    [report] = fake_api.positions
    assert report["positions"] == [{"security": "000001.SZ", "volume": 500, "avgPrice": 12.0}]
    assert (report["cash"], report["totalAsset"]) == (94_000.0, 100_000.0)


def test_run_exits_with_the_unauthorized_code(
    fake_api: FakeQuantLink, tmp_path: Path, restore_signal_handlers: None
) -> None:
    assert cli.main(["run", "--config", paper_config(tmp_path, fake_api.api_base, token="bad")]) == EXIT_UNAUTHORIZED


def test_run_with_a_broken_config_exits_2(tmp_path: Path) -> None:
    assert cli.main(["run", "--config", str(tmp_path / "missing.toml")]) == cli.EXIT_CONFIG


def test_the_crash_hook_is_off_unless_asked_for() -> None:
    assert cli.crash_hook({}) is None
    assert cli.crash_hook({cli.CRASH_AFTER_OUTCOME_ENV: "1"}) is not None


def live_signal(signal_id: str, **fields: Any) -> dict[str, Any]:
    """A signal still valid by the wall clock (these tests run the agent with the system clock)."""
    return wire_signal(signal_id, expires_at=datetime.now(CHINA_TZ) + timedelta(hours=1), **fields)


def run_agent_once(config_path: str) -> None:
    """One round of the agent exactly as `run` builds it from the config."""
    config = load_config(config_path)
    journal = Journal(config.journal_path)
    try:
        build_agent(config, journal, build_executor(config)).run_once()
    finally:
        journal.close()


def test_status_shows_todays_orders_and_the_reason_for_each_refusal(
    fake_api: FakeQuantLink, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = paper_config(tmp_path, fake_api.api_base, risk={"max_order_value": 50_000}, polling={"idle_interval": 0})
    fake_api.publish(live_signal("sig-small", amount=1000), live_signal("sig-big", amount=6000))
    run_agent_once(config)
    capsys.readouterr()

    assert cli.main(["status", "--config", config]) == 0
    text = capsys.readouterr().out
    assert "Trading: on" in text
    assert "2 signal(s): 1 executed, 0 failed, 1 refused" in text
    [big] = [line for line in text.splitlines() if "sig-big" in line]
    assert "REJECTED" in big and "max_order_value" in big and "超过单笔上限" in big
    [small] = [line for line in text.splitlines() if "sig-small" in line]
    assert "EXECUTED" in small and "filled 1000 @ 10.0" in small

    assert cli.main(["status", "--config", config, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["today"]["refused"] == 1 and report["today"]["boughtValue"] == 10_000.0
    assert {row["signalId"]: row["code"] for row in report["signals"]} == {
        "sig-big": "risk.max_order_value",
        "sig-small": None,
    }
    assert fake_api.acked["sig-big"]["status"] == "rejected"
    assert "max_order_value" in fake_api.acked["sig-big"]["error"]  # the owner's timeline shows it too


def test_status_before_the_first_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["status", "--config", paper_config(tmp_path, "http://127.0.0.1:9")]) == 0
    assert "has not run with this config" in capsys.readouterr().out
    assert not (tmp_path / "quantlink-journal.sqlite3").exists()


def test_pause_refuses_every_signal_until_resume(
    fake_api: FakeQuantLink, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = paper_config(tmp_path, fake_api.api_base, polling={"idle_interval": 0})
    assert cli.main(["pause", "--config", config, "--reason", "leader looks wrong"]) == 0
    fake_api.publish(live_signal("sig-1"))
    run_agent_once(config)
    ack = fake_api.acked["sig-1"]
    assert ack["status"] == "rejected" and "leader looks wrong" in ack["error"] and "已暂停交易" in ack["error"]
    capsys.readouterr()
    cli.main(["status", "--config", config])
    assert "Trading: PAUSED" in capsys.readouterr().out

    assert cli.main(["resume", "--config", config]) == 0
    fake_api.publish(live_signal("sig-2"))
    run_agent_once(config)
    assert fake_api.acked["sig-2"]["status"] == "executed"
    events = [e["event"] for e in read_activity(str(tmp_path / "quantlink-activity.jsonl"))]
    assert events[0] == "paused" and "resumed" in events


def test_the_activity_log_tells_what_happened_and_never_holds_the_token(
    fake_api: FakeQuantLink, tmp_path: Path
) -> None:
    config = paper_config(tmp_path, fake_api.api_base, polling={"idle_interval": 0}, risk={"max_order_value": 50_000})
    fake_api.publish(live_signal("sig-ok", amount=100), live_signal("sig-big", amount=9000))
    run_agent_once(config)
    path = tmp_path / "quantlink-activity.jsonl"
    events = read_activity(str(path))
    by_signal = [(e["event"], e.get("signalId")) for e in events]
    assert by_signal == [
        ("signal_received", "sig-ok"),
        ("order_sent", "sig-ok"),
        ("signal_outcome", "sig-ok"),
        ("signal_acked", "sig-ok"),
        ("signal_received", "sig-big"),
        ("signal_outcome", "sig-big"),
        ("signal_acked", "sig-big"),
    ]
    refusal = events[5]
    assert refusal["status"] == "rejected" and refusal["code"] == "risk.max_order_value"
    assert "90,000.00" in refusal["reason"] and "单笔上限" in refusal["reason"]
    assert all(event["at"] for event in events)
    text = path.read_text(encoding="utf-8")
    assert GOOD_TOKEN not in text and "#1" not in text  # neither the auth token nor an ack token


def test_init_writes_the_commented_example_and_never_overwrites(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = str(tmp_path / "config.toml")
    args = ["init", "--config", path, "--api-base", "http://127.0.0.1:8000", "--token", "tt_x", "--executor", "paper"]
    assert cli.main(args) == 0
    assert "doctor --config" in capsys.readouterr().out
    config = load_config(path)
    assert (config.api_base, config.auth_token, config.executor) == ("http://127.0.0.1:8000", "tt_x", "paper")
    (tmp_path / "config.toml").write_text("# mine\n", encoding="utf-8")
    assert cli.main(args) == 1  # exists: refused
    assert (tmp_path / "config.toml").read_text(encoding="utf-8") == "# mine\n"
    assert cli.main([*args, "--force"]) == 0
    assert load_config(path).auth_token == "tt_x"


def test_a_misspelt_setting_stops_run_with_the_hint(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    config = paper_config(tmp_path, "http://127.0.0.1:9", excutor="paper")
    assert cli.main(["run", "--config", config]) == cli.EXIT_CONFIG
    assert "did you mean `executor`?" in caplog.text


def test_doctor_lists_the_risk_guards_and_a_pause(fake_api: FakeQuantLink, tmp_path: Path) -> None:
    config = paper_config(
        tmp_path, fake_api.api_base, risk={"max_order_value": 5000, "blocked_securities": ["600000.SH"]}
    )
    assert cli.main(["pause", "--config", config]) == 0
    code, output = doctor(config)
    assert code == 0, output
    [line] = [line for line in output.splitlines() if "risk guards" in line]
    assert "max_order_value 5000" in line and "600000.SH" in line and "PAUSED" in line


def ptrade_config(tmp_path: Path, api_base: str = "https://api.example.com") -> str:
    path = tmp_path / "ptrade.toml"
    path.write_text(
        f'api_base = "{api_base}"\nauth_token = "{GOOD_TOKEN}"\nexecutor = "ptrade"\nterminal_id = "tm_pt"\n'
        "[risk]\nmax_order_value = 20000\n[ptrade]\npoll_seconds = 4\n",
        encoding="utf-8",
    )
    return str(path)


def test_ptrade_script_writes_the_script_and_never_overwrites_unasked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config, output = ptrade_config(tmp_path), tmp_path / "quantlink_ptrade.py"
    assert cli.main(["ptrade-script", "--config", config, "-o", str(output)]) == 0
    text = output.read_text(encoding="ascii")
    assert "'max_order_value': 20000" in text and "'poll_seconds': 4" in text and GOOD_TOKEN in text
    assert "paste it into a new PTrade strategy" in capsys.readouterr().out

    output.write_text("my edits", encoding="utf-8")
    assert cli.main(["ptrade-script", "--config", config, "-o", str(output)]) == cli.EXIT_CONFIG
    assert output.read_text(encoding="utf-8") == "my edits"
    assert cli.main(["ptrade-script", "--config", config, "-o", str(output), "--force"]) == 0
    assert output.read_text(encoding="ascii") == text


def test_ptrade_script_refuses_a_config_that_is_not_a_ptrade_terminals(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = paper_config(tmp_path, "https://api.example.com")
    assert cli.main(["ptrade-script", "--config", config, "-o", str(tmp_path / "x.py")]) == cli.EXIT_CONFIG
    assert 'set executor = "ptrade"' in caplog.text and not (tmp_path / "x.py").exists()


@pytest.mark.parametrize("command", ["run", "status", "pause", "report"])
def test_a_ptrade_config_says_the_terminal_runs_inside_ptrade(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, command: str
) -> None:
    assert cli.main([command, "--config", ptrade_config(tmp_path)]) == cli.EXIT_CONFIG
    assert "runs inside PTrade" in caplog.text and "quantlink-terminal ptrade-script" in caplog.text


def test_doctor_checks_a_ptrade_terminals_token_with_the_scripts_device(
    fake_api: FakeQuantLink, tmp_path: Path
) -> None:
    code, text = doctor(ptrade_config(tmp_path, fake_api.api_base))
    assert code == 0, text
    assert "token accepted; device ptrade-" in text and "runs inside PTrade" in text
    assert "miniQMT" not in text and not (tmp_path / "quantlink-journal.sqlite3").exists()
