"""`python -m quantlink_local` (or `make run`, `quantlink local`): run the local stack until Ctrl-C /
SIGTERM. Its state (strategies, terminals, tokens, queued signals, logins, sent emails) is kept in a
data directory across restarts: a clean stop keeps everything, a crash loses at most the last second."""

from __future__ import annotations

import argparse
import faulthandler
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from quantlink_local import datadir
from quantlink_local.datadir import DataDir, DataDirError, write_json
from quantlink_local.outbox import GATEWAY_PATH
from quantlink_local.stack import LocalStack, PortInUse, free_port, last_port

DEFAULT_PORT = 3000
EXIT_PORT_IN_USE = 2
EXIT_DATA_DIR = 3


def build_parser(prog: str = "quantlink local") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="the address to serve on (default: 127.0.0.1)")
    parser.add_argument(
        "--port",
        type=int,
        help=f"the API port (default: $PORT, else the port of the last run on this data directory, else "
        f"{DEFAULT_PORT}; 0 picks a free one)",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help=f"where the state is kept (default: ${datadir.ENVIRONMENT}, else {datadir.DEFAULT})",
    )
    parser.add_argument("--ephemeral", action="store_true", help="keep nothing: start empty, forget everything on stop")
    parser.add_argument("--reset", action="store_true", help="wipe the data directory (asks first) and exit")
    parser.add_argument("--yes", "-y", action="store_true", help="with --reset: do not ask")
    parser.add_argument("--log-level", default=os.environ.get("QUANTLINK_LOG_LEVEL", "WARNING"))
    parser.add_argument(
        "--state-file", type=Path, help="also write the endpoints and the demo login here, as JSON (tests)"
    )
    return parser


def reset(data_dir: DataDir, *, yes: bool) -> int:
    if not data_dir.path.exists():
        print(f"{data_dir.path} does not exist: nothing to wipe.")
        return 0
    try:
        data_dir.lock(wait=0)
    except DataDirError as error:
        print(error, file=sys.stderr)
        return EXIT_DATA_DIR
    try:
        if not yes:
            if not sys.stdin.isatty():
                print("Refusing to wipe without a terminal to ask on: add --yes.", file=sys.stderr)
                return 1
            answer = input(f"Wipe {data_dir.path} (every strategy, terminal, token, queued signal, login)? [y/N] ")
            if answer.strip().lower() not in ("y", "yes"):
                print("Nothing was wiped.")
                return 1
        data_dir.wipe()
        print(f"Wiped {data_dir.path}: the next `make run` starts empty.")
        return 0
    finally:
        data_dir.unlock()


def _port(requested: int | None, saved: dict[str, object]) -> int:
    if requested is not None:
        return requested
    if os.environ.get("PORT"):
        return int(os.environ["PORT"])
    saved_port = saved.get("apiPort")
    return saved_port if isinstance(saved_port, int) and saved_port > 0 else DEFAULT_PORT


def _configure_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s: %(message)s", "%H:%M:%S"))
    logger = logging.getLogger("quantlink_local")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False


def print_banner(stack: LocalStack, data_dir: DataDir | None, info: dict[str, object]) -> None:
    base = stack.api_base
    spa = "(not built yet: make web)" if not stack.static_dir.is_dir() else f"{base}/"
    kept = f"{data_dir.path}  (kept across restarts; wipe: make reset)" if data_dir else "(none: --ephemeral)"
    print("QuantLink local stack", flush=True)
    print(f"  API          {base}/api  (health: {base}/api/health, OpenAPI: {base}/api/openapi.json)")
    print(f'  Agent        api_base = "{base}"  (the terminal agent\'s config: the base URL, without /api)')
    print(f"  Webhooks     {base}/api/webhooks/joinquant/<strategyId>  (each strategy's webhookUrl)")
    print(f"  Owner SPA    {spa}")
    if info.get("pushUrl"):
        print(f"  Push         {info['pushUrl']}  (the terminals' WebSocket)")
    print(f"  Demo login   {info['demoEmail']} / {info['demoPassword']}  (pro plan, admin)")
    print(f"  Second user  {info['friendEmail']} / {info['friendPassword']}  (free plan: share with it)")
    print(f"  Outbox       {base}{GATEWAY_PATH}  (sent emails; or: quantlink outbox)")
    print(f"  Moto server  {stack.moto_endpoint}  (DynamoDB, SQS, Cognito, S3, SES)")
    print(f"  Data         {kept}")
    print("  Try it       make demo   (one signal through webhook → queue → long-poll → ack)")
    print(f"QuantLink local stack ready at {base}", flush=True)


def main(argv: list[str] | None = None, prog: str = "python -m quantlink_local") -> int:
    args = build_parser(prog).parse_args(argv)
    data_dir = None if args.ephemeral else DataDir(args.data_dir or datadir.default_path())
    if args.reset:
        if data_dir is None:
            print("--reset and --ephemeral together make no sense: an ephemeral stack keeps nothing.", file=sys.stderr)
            return 1
        return reset(data_dir, yes=args.yes)
    _configure_logging(args.log_level)
    faulthandler.register(signal.SIGUSR1, all_threads=True)  # `kill -USR1 <pid>`: every thread's stack, to stderr

    stopping = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)

    saved: dict[str, object] = {}
    try:
        if data_dir is not None:
            data_dir.lock()
            saved = data_dir.read_stack()
    except DataDirError as error:
        print(error, file=sys.stderr)
        return EXIT_DATA_DIR
    password = saved.get("demoPassword")
    stack = LocalStack(
        host=args.host, port=_port(args.port, saved), log_level=args.log_level, data_dir=data_dir, last_run=saved
    )
    if isinstance(password, str) and password:
        stack.demo_password = password
    try:
        try:
            stack.moto_port = last_port(args.host, saved, "motoPort") or free_port(args.host)
            stack.start()
        except PortInUse as error:
            print(error, file=sys.stderr)
            return EXIT_PORT_IN_USE
        except DataDirError as error:
            print(error, file=sys.stderr)
            return EXIT_DATA_DIR
        info = {
            **stack.describe(),
            "apiPort": stack.port,
            "motoPort": stack.moto_port,
            "pushPort": stack.push.port if stack.push else None,
        }
        if data_dir is not None:
            data_dir.write_stack(info)
        if args.state_file is not None:
            args.state_file.parent.mkdir(parents=True, exist_ok=True)
            write_json(args.state_file, info)
        print_banner(stack, data_dir, info)
        stopping.wait()
        print("Stopping the local stack...", flush=True)
    finally:
        stack.stop()
        if data_dir is not None:
            data_dir.unlock()
    if data_dir is not None:
        print(f"Stopped; the state is kept in {data_dir.path}.", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
