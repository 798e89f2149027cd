"""`python -m quantlink_local` (or `make run`): run the local stack until Ctrl-C / SIGTERM."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from quantlink_local.demo import STATE_FILE
from quantlink_local.stack import LocalStack, PortInUse


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="quantlink local", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "3000")))
    parser.add_argument("--log-level", default=os.environ.get("QUANTLINK_LOG_LEVEL", "WARNING"))
    parser.add_argument(
        "--state-file", type=Path, default=STATE_FILE, help="endpoints and the demo login, as JSON (for make demo)"
    )
    args = parser.parse_args(argv)

    stopping = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)

    stack = LocalStack(host=args.host, port=args.port, log_level=args.log_level)
    try:
        try:
            stack.start()
        except PortInUse as error:
            print(error, file=sys.stderr)
            return 2
        info = stack.describe()
        args.state_file.parent.mkdir(parents=True, exist_ok=True)
        args.state_file.write_text(json.dumps(info, indent=2), encoding="utf-8")
        spa = "(not built yet)" if not stack.static_dir.is_dir() else f"{stack.api_base}/"
        print("QuantLink local stack", flush=True)
        print(f"  API          {stack.api_base}/api  (health: {stack.api_base}/api/health)")
        print(f"  OpenAPI      {stack.api_base}/api/openapi.json")
        print(f"  Owner SPA    {spa}")
        print(f"  Moto server  {stack.moto_endpoint}  (DynamoDB, SQS, Cognito, S3)")
        print(f"  Demo login   {info['demoEmail']} / {info['demoPassword']}  (pro plan, admin)")
        print(f"  Second user  {info['friendEmail']} / {info['friendPassword']}  (free plan: share with it)")
        print("  Try it       make demo   (one signal through webhook → queue → long-poll → ack)")
        print(f"QuantLink local stack ready at {stack.api_base}", flush=True)
        stopping.wait()
        print("Stopping the local stack...", flush=True)
    finally:
        stack.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
