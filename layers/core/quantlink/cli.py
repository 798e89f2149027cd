"""The `quantlink` command line: one subcommand per concern, each registered in `_COMMANDS`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path


def _add_local(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("local", help="run the local stack (moto + API Gateway emulator)")
    parser.set_defaults(run=_run_local)


def _run_local(args: argparse.Namespace) -> int:
    # Imported lazily: the local stack needs moto, which the Lambda layer never ships.
    from quantlink_local.__main__ import main as local_main

    return local_main([])


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
    from quantlink.injection.api import embedded_settings
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
            if result.token_is_placeholder:
                print(f"{name}: warning: the webhook token is still {TOKEN_PLACEHOLDER}")
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
            warnings = list(injected.warnings)
            if url == URL_PLACEHOLDER:
                warnings.append(f"no --url given: replace {URL_PLACEHOLDER} with the strategy's webhook URL")
            if token == TOKEN_PLACEHOLDER:
                warnings.append(f"no --token given: replace {TOKEN_PLACEHOLDER} with the strategy's webhook token")
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


_COMMANDS: list[Callable[[argparse._SubParsersAction[argparse.ArgumentParser]], None]] = [_add_local, _add_inject]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="quantlink", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for add in _COMMANDS:
        add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result: int = args.run(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
