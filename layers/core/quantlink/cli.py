"""The `quantlink` command line: one subcommand per concern, each registered in `_COMMANDS`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path


def _add_local(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    # Its options live in quantlink_local (`quantlink local --help` prints them): `main` hands
    # everything after `local` over unparsed.
    parser = sub.add_parser(
        "local", help="run the local stack (moto + API Gateway emulator); --help for its options", add_help=False
    )
    parser.add_argument("options", nargs=argparse.REMAINDER)
    parser.set_defaults(run=_run_local)


def _run_local(args: argparse.Namespace) -> int:
    # Imported lazily: the local stack needs moto, which the Lambda layer never ships.
    from quantlink_local.__main__ import main as local_main

    return local_main(list(args.options), prog="quantlink local")


def _add_outbox(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "outbox",
        help="print the emails the running local stack sent (invitations and their links)",
        description="Print the emails the running local stack sent through SES, oldest first "
        "(the same list as GET /local/outbox on its API).",
    )
    parser.add_argument("--data-dir", type=Path, help="the stack's data directory (default: as `quantlink local`)")
    parser.add_argument("--json", action="store_true", help="print the JSON list instead")
    parser.set_defaults(run=_run_outbox)


def _run_outbox(args: argparse.Namespace) -> int:
    import json
    import urllib.request

    from quantlink_local.datadir import DataDir, default_path
    from quantlink_local.outbox import GATEWAY_PATH, render

    data_dir = DataDir(args.data_dir or default_path())
    try:
        api_base = json.loads(data_dir.stack_file.read_text(encoding="utf-8"))["apiBase"]
    except (OSError, ValueError, KeyError):
        print(f"No local stack found ({data_dir.stack_file} is missing): start one with `make run`.", file=sys.stderr)
        return 2
    try:
        with urllib.request.urlopen(f"{api_base}{GATEWAY_PATH}", timeout=10) as answer:  # noqa: S310 - loopback
            entries = json.loads(answer.read())
    except OSError as error:
        print(f"The local stack at {api_base} does not answer ({error}): is `make run` going?", file=sys.stderr)
        return 2
    sys.stdout.write(json.dumps(entries, indent=2, ensure_ascii=False) + "\n" if args.json else render(entries))
    return 0


def _add_inject(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "inject",
        help="make a JoinQuant strategy send its orders to QuantLink (or --strip, --check)",
        description="Inject the QuantLink sender into a JoinQuant strategy file (docs/INJECTION.md). "
        "The file's encoding and newline style are kept. Injecting again replaces an earlier injection.",
    )
    parser.add_argument("file", type=Path, help="the strategy file")
    parser.add_argument(
        "-o", "--output", type=Path, help="write the result here (FILE itself to edit in place); default: stdout"
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--strip", action="store_true", help="remove the injection instead")
    mode.add_argument("--check", action="store_true", help="exit 1 unless FILE is injected and up to date")
    parser.add_argument("--url", help="the strategy's webhook URL (default: the one already in FILE)")
    parser.add_argument(
        "--token", help="the strategy's webhook token (default: the one already in FILE, else a placeholder)"
    )
    parser.add_argument(
        "--send-in-backtest",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="also send from JoinQuant backtests (default: as already in FILE, else no)",
    )
    parser.set_defaults(run=_run_inject)


def _run_inject(args: argparse.Namespace) -> int:
    # Imported here: the other subcommands never pay for libcst.
    from quantlink.errors import ValidationFailed
    from quantlink.injection import TOKEN_PLACEHOLDER, URL_PLACEHOLDER, check, inject, strip
    from quantlink.injection.api import embedded_settings, placeholder_warnings
    from quantlink.injection.source_files import decode_source

    name = str(args.file)
    try:
        source = decode_source(args.file.read_bytes())
        if args.check:
            result = check(source.text, webhook_url=args.url)
            if result.ok:
                print(f"{name}: injected, up to date (sends to {result.webhook_url})")
            for reason in result.reasons:
                print(f"{name}: {'stale' if result.injected else 'not injected'}: {reason}")
            for reason in result.cannot_send:
                print(f"{name}: cannot send yet: {reason}")
            return 0 if result.ok else 1
        if args.strip:
            output = strip(source.text)
        else:
            embedded = embedded_settings(source.text)
            url = args.url or embedded.webhook_url or URL_PLACEHOLDER
            token = args.token or embedded.token or TOKEN_PLACEHOLDER
            backtest = embedded.send_in_backtest if args.send_in_backtest is None else args.send_in_backtest
            injected = inject(source.text, webhook_url=url, token=token, send_in_backtest=backtest)
            output = injected.code
            warnings = [*injected.warnings, *placeholder_warnings(webhook_url=url, token=token)]
            for warning in warnings:
                print(f"{name}: warning: {warning}", file=sys.stderr)
            print(f"{name}: {injected.injected} order call site(s) reported", file=sys.stderr)
        data = source.encode(output)  # the encoding the file came in
        if args.output is None:
            sys.stdout.buffer.write(data)
            sys.stdout.flush()
        else:
            args.output.write_bytes(data)
    except OSError as error:
        print(f"{error.filename or name}: {error.strerror or error}", file=sys.stderr)
        return 2
    except ValidationFailed as error:  # InjectionSyntaxError among them: a line, never a traceback
        print(f"{name}: {error.message}", file=sys.stderr)
        return 2
    return 0


def _add_sender(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "sender",
        help="print the QuantLink sender block alone, to integrate a JoinQuant strategy by hand",
        description="Print the sender block that `quantlink inject` adds, for manual integration "
        "(docs/INJECTION.md, 'Manual integration'): paste it below your imports, then call "
        'send_signal_to_quantlink(context, "<order function>") on the line after each order and '
        "run_daily(quantlink_report_positions, '15:05') in initialize.",
    )
    parser.add_argument("--url", required=True, help="the strategy's webhook URL")
    parser.add_argument("--token", required=True, help="the strategy's webhook token")
    parser.add_argument(
        "--send-in-backtest", action="store_true", help="also send from JoinQuant backtests (default: no)"
    )
    parser.add_argument("-o", "--output", type=Path, help="write the block here; default: stdout")
    parser.set_defaults(run=_run_sender)


_ADD_AFTER_EACH_ORDER = """\
Then, in your strategy:
  - on the line after each order call:   send_signal_to_quantlink(context, "order_target_value")
    (the name of the order function you called; `context` as in scope, or None)
  - first line of initialize(context):   run_daily(quantlink_report_positions, '15:05')"""


def _run_sender(args: argparse.Namespace) -> int:
    from quantlink.errors import ValidationFailed
    from quantlink.injection import sender_block
    from quantlink.injection.api import placeholder_warnings

    try:
        block = sender_block(webhook_url=args.url, token=args.token, send_in_backtest=args.send_in_backtest)
    except ValidationFailed as error:
        print(f"quantlink sender: {error.message}", file=sys.stderr)
        return 2
    for warning in placeholder_warnings(webhook_url=args.url, token=args.token):
        print(f"warning: {warning}", file=sys.stderr)
    if args.output is None:
        sys.stdout.write(block)
        sys.stdout.flush()
    else:
        try:
            args.output.write_text(block, encoding="utf-8", newline="\n")
        except OSError as error:
            print(f"{args.output}: {error.strerror or error}", file=sys.stderr)
            return 2
    print(_ADD_AFTER_EACH_ORDER, file=sys.stderr)
    return 0


_COMMANDS: list[Callable[[argparse._SubParsersAction[argparse.ArgumentParser]], None]] = [
    _add_local,
    _add_inject,
    _add_sender,
    _add_outbox,
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="quantlink", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for add in _COMMANDS:
        add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["local"]:  # argparse would take `--help` and options for its own
        return _run_local(argparse.Namespace(options=arguments[1:]))
    args = build_parser().parse_args(arguments)
    result: int = args.run(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
