"""Run the local stack as a subprocess (`python -m quantlink_local`), as the e2e tests and the bench do."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import boto3

from quantlink_local.client import OwnerClient, sign_in

READY = "QuantLink local stack ready at "


@dataclass(frozen=True)
class Account:
    email: str
    password: str
    client: OwnerClient


@dataclass
class RunningStack:
    api_base: str
    moto_endpoint: str
    info: dict[str, Any]
    process: subprocess.Popen[str]
    log: Path | None = None  # its stderr
    banner: tuple[str, ...] = ()  # what it printed up to "ready"

    def aws(self, service: str) -> Any:
        return boto3.session.Session().client(
            service,  # type: ignore[call-overload]
            region_name=self.info["region"],
            endpoint_url=self.moto_endpoint,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def new_account(self, label: str = "owner") -> Account:
        """A fresh, confirmed Cognito user, signed in, with its password (to sign in again, e.g. in a browser)."""
        email = f"{label}-{secrets.token_hex(6)}@example.com"
        password = "Pw-" + secrets.token_urlsafe(12) + "9a"
        cognito = self.aws("cognito-idp")
        pool = self.info["userPoolId"]
        cognito.admin_create_user(
            UserPoolId=pool,
            Username=email,
            UserAttributes=[{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}],
            MessageAction="SUPPRESS",
        )
        cognito.admin_set_user_password(UserPoolId=pool, Username=email, Password=password, Permanent=True)
        return Account(email, password, OwnerClient(self.api_base, sign_in(self.api_base, email, password)))

    def new_owner(self) -> OwnerClient:
        """A fresh Cognito user, signed in: tests do not see each other's strategies."""
        return self.new_account().client

    def stop(self) -> int:
        """SIGTERM, as Ctrl-C or a service manager would: a clean stop (the state is kept)."""
        self.process.terminate()
        return self.process.wait(timeout=90)

    def kill(self) -> int:
        """SIGKILL: a crash. The moto server notices it is orphaned and exits after its own snapshot."""
        self.process.kill()
        return self.process.wait(timeout=30)

    def crash(self) -> int:
        """SIGKILL to the moto server, then to the stack: a machine-level crash, nobody saves anything."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        for child in children:
            os.kill(int(child), signal.SIGKILL)
        return self.kill()


def _copy_lines(source: IO[str], sink: IO[str]) -> None:
    with contextlib.suppress(ValueError, OSError):  # the log was closed, or the pipe broke: the stack is gone
        for line in source:
            sink.write(line)
            sink.flush()


def start_stack(
    workdir: Path,
    *,
    timeout: float = 120,
    data_dir: Path | None = None,
    port: int = 0,
    extra_args: list[str] | None = None,
    env: dict[str, str] | None = None,
) -> RunningStack:
    """The stack keeps its state in `data_dir` (default: `workdir`/data); `extra_args` may add
    `--ephemeral` to keep nothing."""
    workdir.mkdir(parents=True, exist_ok=True)
    state = workdir / "stack.json"
    data_dir = data_dir or workdir / "data"
    log = (workdir / "stack.log").open("a")
    command = [sys.executable, "-m", "quantlink_local", "--port", str(port), "--state-file", str(state),
               "--data-dir", str(data_dir), *(extra_args or [])]  # fmt: skip
    with contextlib.suppress(FileNotFoundError):
        state.unlink()
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
        env={**os.environ, **(env or {}), "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    banner = []
    for line in process.stdout:
        banner.append(line.rstrip("\n"))
        if line.startswith(READY):
            break
        if time.monotonic() > deadline:
            process.kill()
            raise RuntimeError("the local stack did not become ready in time")
    else:
        raise RuntimeError(f"the local stack exited early; see {workdir / 'stack.log'}")
    # What the stack prints from now on (its functions' JSON logs and metrics) goes on into its log. A
    # pipe nobody reads fills at 64 KiB and then blocks the next print, and with it, under stdout's
    # lock, every request that logs: the stack stalled minutes into a webhook burst.
    threading.Thread(target=_copy_lines, args=(process.stdout, log), name="stack-stdout", daemon=True).start()
    info = json.loads(state.read_text(encoding="utf-8"))
    return RunningStack(info["apiBase"], info["motoEndpoint"], info, process, workdir / "stack.log", tuple(banner))
