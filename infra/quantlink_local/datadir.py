"""The local stack's data directory (default `.quantlink/` in the repo; `--data-dir` or
`QUANTLINK_DATA_DIR` to move it): what makes tokens, logins, webhook URLs and agent configs
survive a restart.

    aws-state.bin   every AWS resource (tables, queues and their messages, the user pool, buckets,
                    sent emails), written by the moto server (persistence.py); with it
    aws-state.bin.d/        its tables' buckets and its queues, and
    aws-state.bin.journal/  the journal of every write since it (journal.py)
    stack.json      the endpoints, the ports to reuse and the demo login (what `make demo` reads)
    demo.json       the demo strategy and terminal `make demo` reuses
    lock            held while a stack runs on this directory (two stacks cannot share one)
    moto.log        the moto server's own messages

Nothing here is ever deleted or rewritten to "fix" it: a directory that cannot be read is
reported, with the command that moves it aside."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from quantlink_local.template import REPO_ROOT

FORMAT = 1
ENVIRONMENT = "QUANTLINK_DATA_DIR"
DEFAULT = REPO_ROOT / ".quantlink"
LOCK_WAIT = 5.0  # seconds: a stack killed a moment ago may still be taking its last snapshot


def default_path() -> Path:
    configured = os.environ.get(ENVIRONMENT)
    return Path(configured).expanduser() if configured else DEFAULT


class DataDirError(Exception):
    """The data directory cannot be used as it is: the message says why and what to do."""


def move_aside_command(path: Path) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"mv {path} {path}.unusable-{stamp}"


def unusable(path: Path, reason: str) -> DataDirError:
    return DataDirError(
        f"The local stack's data directory {path} cannot be used: {reason}\n"
        f"Nothing in it was changed. To keep it for inspection and start afresh, move it aside:\n"
        f"    {move_aside_command(path)}\n"
        f"or wipe it: make reset   (or: quantlink local --reset --data-dir {path})"
    )


@dataclass
class DataDir:
    path: Path = field(default_factory=default_path)

    def __post_init__(self) -> None:
        self.path = self.path.expanduser().absolute()
        self._lock: int | None = None

    @property
    def aws_state(self) -> Path:
        return self.path / "aws-state.bin"

    @property
    def stack_file(self) -> Path:
        return self.path / "stack.json"

    @property
    def demo_file(self) -> Path:
        return self.path / "demo.json"

    @property
    def moto_log(self) -> Path:
        return self.path / "moto.log"

    @property
    def lock_fd(self) -> int:
        assert self._lock is not None, "lock() first"
        return self._lock

    # ---- the lock -------------------------------------------------------------------------------

    def lock(self, wait: float = LOCK_WAIT) -> None:
        """Hold the directory for this stack (and, through an inherited descriptor, its moto server)."""
        try:
            self.path.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(self.path / "lock", os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as error:
            raise DataDirError(
                f"The data directory {self.path} cannot be created: {error.strerror or error}."
            ) from None
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
                    os.close(fd)
                    raise DataDirError(
                        f"The data directory {self.path} is in use by another local stack (pid {holder}). "
                        f"Stop that one first, or give this one its own: --data-dir DIR "
                        f"(or {ENVIRONMENT}=DIR)."
                    ) from None
                time.sleep(0.1)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._lock = fd

    def unlock(self) -> None:
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None

    # ---- stack.json -----------------------------------------------------------------------------

    def read_stack(self) -> dict[str, Any]:
        """What the last run wrote ({} for a new directory)."""
        try:
            text = self.stack_file.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}  # a new directory (or the AWS state alone: the demo owner gets a new password)
        except OSError as error:
            raise unusable(self.path, f"{self.stack_file.name} cannot be read ({error.strerror or error}).") from None
        try:
            data = json.loads(text)
        except ValueError:
            raise unusable(self.path, f"{self.stack_file.name} is not valid JSON (damaged?).") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            found = data.get("format") if isinstance(data, dict) else None
            raise unusable(self.path, f"{self.stack_file.name} has format {found!r}; this version reads {FORMAT}.")
        return data

    def write_stack(self, data: dict[str, Any]) -> None:
        write_json(self.stack_file, {"format": FORMAT, **data})

    # ---- reset ----------------------------------------------------------------------------------

    def wipe(self) -> None:
        """Delete the directory (the lock must be held: no stack is running on it)."""
        assert self._lock is not None
        for entry in self.path.iterdir():
            if entry.name == "lock":
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write-then-rename, readable by the owner only (the files hold logins and tokens)."""
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    with contextlib.suppress(FileNotFoundError):
        temporary.unlink()
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        json.dump(data, file, indent=2)
        file.write("\n")
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, path)
