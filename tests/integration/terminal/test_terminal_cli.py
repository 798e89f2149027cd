"""The command line: doctor, report, run's exit codes."""

from __future__ import annotations

import io
import json
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from quantlink_terminal import cli
from quantlink_terminal.agent import EXIT_UNAUTHORIZED
from quantlink_terminal.doctor import run_doctor
from quantlink_terminal.executors.base import OrderRequest
from quantlink_terminal.executors.paper import PaperExecutor, PaperSettings
from quantlink_terminal.wiring import build_executor
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
    for name in ("config", "journal", "API reachable", "token and device", "paper executor"):
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
