"""`quantlink inject`: files keep their bytes (encoding, BOM, newlines), exit codes say the state."""

from __future__ import annotations

from pathlib import Path

import pytest

from quantlink.cli import build_parser, main

URL = "https://quantlink.example/api/webhooks/joinquant/st_cli"
STRATEGY = (
    "# -*- coding: {coding} -*-\n"
    "# 每天买入\n"
    "def initialize(context):\n"
    "    run_daily(trade, 'open')\n"
    "\n"
    "def trade(context):\n"
    "    order('600000.XSHG', 100)  # 买入\n"
)


def write(tmp_path: Path, data: bytes, name: str = "strategy.py") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    "data",
    [
        STRATEGY.format(coding="utf-8").encode(),
        STRATEGY.format(coding="gbk").encode("gbk"),
        b"\xef\xbb\xbf" + STRATEGY.format(coding="utf-8").encode(),
        STRATEGY.format(coding="utf-8").replace("\n", "\r\n").encode(),
        STRATEGY.format(coding="utf-8").replace("# -*- coding: utf-8 -*-\n", "").encode("gb18030"),
    ],
    ids=["utf-8", "gbk with a coding line", "utf-8 with BOM", "crlf", "gb18030 without a coding line"],
)
def test_inject_then_strip_gives_back_the_files_bytes(tmp_path: Path, data: bytes) -> None:
    source = write(tmp_path, data)
    injected, stripped = tmp_path / "injected.py", tmp_path / "stripped.py"
    assert main(["inject", str(source), "-o", str(injected), "--url", URL, "--token", "tok"]) == 0
    assert main(["inject", "--strip", str(injected), "-o", str(stripped)]) == 0
    assert stripped.read_bytes() == data
    out = injected.read_bytes()
    assert out.startswith(data[:3]) and ("\r\n" in data.decode("latin-1")) == (b"\r\n" in out)
    assert main(["inject", "--check", str(injected), "--url", URL]) == 0


def test_inject_writes_stdout_by_default_and_reports_on_stderr(
    tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    source = write(tmp_path, STRATEGY.format(coding="utf-8").encode())
    assert main(["inject", str(source), "--url", URL, "--token", "tok"]) == 0
    captured = capsysbinary.readouterr()
    assert b"send_signal_to_quantlink(context, 'order')  # quantlink:injected" in captured.out
    assert b"1 order call site(s) reported" in captured.err
    assert source.read_bytes() == STRATEGY.format(coding="utf-8").encode()  # the input is left alone


def test_reinjecting_keeps_the_url_and_token_already_in_the_file(tmp_path: Path) -> None:
    source = write(tmp_path, STRATEGY.format(coding="utf-8").encode())
    once, twice = tmp_path / "once.py", tmp_path / "twice.py"
    main(["inject", str(source), "-o", str(once), "--url", URL, "--token", "secret", "--send-in-backtest"])
    assert main(["inject", str(once), "-o", str(twice)]) == 0
    assert twice.read_bytes() == once.read_bytes()
    assert b"QUANTLINK_SEND_IN_BACKTEST = True" in twice.read_bytes()


def test_placeholders_when_no_url_or_token_is_known(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = write(tmp_path, STRATEGY.format(coding="utf-8").encode())
    out = tmp_path / "out.py"
    assert main(["inject", str(source), "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert "<QUANTLINK_WEBHOOK_URL>" in err and "<QUANTLINK_WEBHOOK_TOKEN>" in err
    assert b"QUANTLINK_WEBHOOK_TOKEN = '<QUANTLINK_WEBHOOK_TOKEN>'" in out.read_bytes()
    # Injected and up to date, but it cannot send anything: --check says so and fails.
    assert main(["inject", "--check", str(out)]) == 1
    printed = capsys.readouterr().out
    assert "cannot send yet: <QUANTLINK_WEBHOOK_URL>" in printed
    assert "cannot send yet: <QUANTLINK_WEBHOOK_TOKEN>" in printed and "401" in printed


def test_check_fails_while_only_the_token_is_a_placeholder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = write(tmp_path, STRATEGY.format(coding="utf-8").encode())
    out = tmp_path / "out.py"
    assert main(["inject", str(source), "-o", str(out), "--url", URL]) == 0
    capsys.readouterr()
    assert main(["inject", "--check", str(out), "--url", URL]) == 1
    printed = capsys.readouterr().out
    assert "cannot send yet: <QUANTLINK_WEBHOOK_TOKEN>" in printed and "injected, up to date" not in printed
    # Giving the token (re-injection keeps the URL) makes it ready.
    assert main(["inject", str(out), "-o", str(out), "--token", "the-real-token"]) == 0
    assert main(["inject", "--check", str(out), "--url", URL]) == 0


def test_check_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plain = write(tmp_path, STRATEGY.format(coding="utf-8").encode())
    assert main(["inject", "--check", str(plain)]) == 1
    assert "not injected" in capsys.readouterr().out

    injected = tmp_path / "injected.py"
    main(["inject", str(plain), "-o", str(injected), "--url", URL, "--token", "tok"])
    assert main(["inject", "--check", str(injected)]) == 0
    assert main(["inject", "--check", str(injected), "--url", URL + "x"]) == 1

    edited = injected.read_text(encoding="utf-8") + "\ndef more(context):\n    order_target('600000.XSHG', 0)\n"
    injected.write_text(edited, encoding="utf-8")
    capsys.readouterr()
    assert main(["inject", "--check", str(injected)]) == 1
    assert "stale" in capsys.readouterr().out


def test_errors_are_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = write(tmp_path, b"def trade(context):\n    order(s, 100\n")
    assert main(["inject", str(broken), "--url", URL]) == 2
    err = capsys.readouterr().err
    assert "line 2:" in err and "Traceback" not in err
    assert main(["inject", str(tmp_path / "missing.py")]) == 2
    assert "missing.py" in capsys.readouterr().err
    assert main(["inject", str(write(tmp_path, b"x = 1\n", "ok.py")), "--url", "ftp://x"]) == 2


def test_sender_prints_the_block_inject_inserts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sender", "--url", URL, "--token", "tok"]) == 0
    captured = capsys.readouterr()
    source = write(tmp_path, STRATEGY.format(coding="utf-8").encode())
    injected = tmp_path / "injected.py"
    main(["inject", str(source), "-o", str(injected), "--url", URL, "--token", "tok"])
    assert captured.out in injected.read_text(encoding="utf-8")
    assert "QUANTLINK_WEBHOOK_TOKEN = 'tok'" in captured.out
    assert "send_signal_to_quantlink(context," in captured.err and "quantlink_report_positions" in captured.err
    compile(captured.out, "sender.py", "exec")


def test_sender_writes_a_file_and_refuses_a_bad_url(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "sender.py"
    assert main(["sender", "--url", URL, "--token", "tok", "--send-in-backtest", "-o", str(out)]) == 0
    assert "QUANTLINK_SEND_IN_BACKTEST = True" in out.read_text(encoding="utf-8")
    assert main(["sender", "--url", "ftp://x", "--token", "tok"]) == 2
    assert "http(s)" in capsys.readouterr().err
    assert main(["sender", "--url", URL, "--token", "<QUANTLINK_WEBHOOK_TOKEN>"]) == 0
    assert "refuses every order" in capsys.readouterr().err


def test_the_local_subcommand_is_still_there() -> None:
    assert build_parser().parse_args(["local"]).command == "local"
    args = build_parser().parse_args(["inject", "f.py", "--strip"])
    assert (args.command, args.strip, args.check) == ("inject", True, False)
