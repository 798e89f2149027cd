"""The journal of the local stack's AWS state: what each answered write changed, appended before
the answer is sent (changes.py says what a record holds; persistence.py when the journal is folded
into a snapshot).

A journal file is a magic line, a JSON header (the versions of statefile.py and the file's
sequence number), then frames: a little-endian length and CRC-32 of the payload, then the payload
(a pickle of a list of records). Each frame is one `os.write` on an unbuffered descriptor, so once
`append` has returned the frame is in the kernel's page cache: killing the process (SIGKILL, OOM)
loses nothing that was answered. A power loss or kernel crash loses what was not fsynced yet: a
background thread fsyncs at most `FSYNC_INTERVAL` after an append (the power-loss window).

Reading: a last frame that is cut short or does not match its checksum was being written when the
process died, was never answered, and is dropped without a word; any other damage is a `StateError`.
A new journal is started at every start of the server and at every snapshot, so a file with a torn
tail is never appended to."""

from __future__ import annotations

import contextlib
import json
import os
import struct
import threading
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from quantlink_local.statefile import (
    StateError,
    check_versions,
    dumps,
    loads,
    read,
    read_header,
    sync_directory,
    versions,
)

JOURNAL_MAGIC = b"QUANTLINK-LOCAL-AWS-JOURNAL\n"
FRAME = struct.Struct("<II")  # payload length, CRC-32 of the payload
FSYNC_INTERVAL = 0.2  # seconds: an appended frame is on the disk at most this long after (plus one fsync)


def journal_dir(state: Path) -> Path:
    return state.with_name(state.name + ".journal")


def journal_path(state: Path, sequence: int) -> Path:
    return journal_dir(state) / f"{sequence:010d}.log"


def sequences(state: Path) -> list[int]:
    """The journals of the state file `state`, oldest first."""
    try:
        names = [p.name for p in journal_dir(state).iterdir()]
    except FileNotFoundError:
        return []
    return sorted(int(n[:-4]) for n in names if n.endswith(".log") and n[:-4].isdigit())


def frame(records: list[Any]) -> bytes:
    payload = dumps(records)
    return FRAME.pack(len(payload), zlib.crc32(payload)) + bytes(payload)


def read_journal(path: Path) -> Iterator[list[Any]]:
    """The record lists of the journal at `path`, in the order they were appended."""
    raw = read(path)
    started = len(raw) > len(JOURNAL_MAGIC) and raw.find(b"\n", len(JOURNAL_MAGIC)) > 0
    if not started and JOURNAL_MAGIC.startswith(raw[: len(JOURNAL_MAGIC)]):
        return  # the server died while it started this journal: nothing was appended to it
    header, at = read_header(raw, path, JOURNAL_MAGIC)
    check_versions(header, path)
    data = memoryview(raw)
    while at < len(data):
        if len(data) - at < FRAME.size:
            return  # a torn last frame
        length, crc = FRAME.unpack_from(data, at)
        end = at + FRAME.size + length
        payload = data[at + FRAME.size : end]
        if end > len(data):
            return  # a torn last frame
        if length == 0 or zlib.crc32(payload) != crc:
            if not bytes(data[end:]).strip(b"\0"):
                # The last frame, partly on disk, perhaps followed by the zeros a file system shows
                # for blocks a power loss left unwritten: it was never answered.
                return
            raise StateError(f"{path} is damaged: the record at byte {at} does not match its checksum.")
        yield loads(payload, path)
        at = end


class Journal:
    """The open journal of a running server: `append` under the backend lock, `rotate` at a
    snapshot's instant; a thread fsyncs what was appended."""

    def __init__(self, state: Path, sequence: int, *, fsync_interval: float = FSYNC_INTERVAL) -> None:
        self.state = state
        self.fsync_interval = fsync_interval
        self.sequence = sequence
        self.size = 0  # bytes appended to the current journal
        self.records = 0
        self.appended = 0  # bytes appended since the server started (all journals)
        self.last_sync_lag = 0.0  # seconds from the oldest unsynced append to its fsync's end, the last time
        self._fd = self._open(sequence)
        self._unsynced_since: float | None = None
        self._retired: list[int] = []  # descriptors of rotated-out journals, to sync and close
        self._guard = threading.Lock()  # the descriptors, between append/rotate and the sync thread
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._sync_loop, name="journal-fsync", daemon=True)
        self._thread.start()

    def _open(self, sequence: int) -> int:
        directory = journal_dir(self.state)
        directory.mkdir(mode=0o700, exist_ok=True)
        fd = os.open(journal_path(self.state, sequence), os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
        header = {**versions(), "sequence": sequence}
        os.write(fd, JOURNAL_MAGIC + json.dumps(header).encode() + b"\n")
        os.fsync(fd)
        sync_directory(directory)
        return fd

    def append(self, records: list[Any]) -> None:
        """One frame, whole in the page cache when this returns (the caller holds the backend lock,
        so the frames are in the order of the changes)."""
        data = frame(records)
        with self._guard:
            written = os.write(self._fd, data)
            while written < len(data):  # a regular file takes it whole; a full disk raises
                written += os.write(self._fd, data[written:])
            if self._unsynced_since is None:
                self._unsynced_since = time.monotonic()
        self.size += len(data)
        self.appended += len(data)
        self.records += 1

    def rotate(self) -> int:
        """Start the next journal (under the backend lock, at a snapshot's instant); its sequence."""
        fd = self._open(self.sequence + 1)
        with self._guard:
            self._retired.append(self._fd)
            self._fd = fd
            if self._unsynced_since is None:
                self._unsynced_since = time.monotonic()  # the retired one is synced, then closed
        self.sequence += 1
        self.size = 0
        return self.sequence

    def sync(self) -> None:
        with self._guard:
            since, self._unsynced_since = self._unsynced_since, None
            fds, retired, self._retired = [self._fd], self._retired, []
        if since is None and not retired:
            return
        for fd in retired + fds:
            os.fsync(fd)
        for fd in retired:
            os.close(fd)
        if since is not None:
            self.last_sync_lag = time.monotonic() - since

    def _sync_loop(self) -> None:
        while not self._stopped.wait(self.fsync_interval):
            with contextlib.suppress(OSError):  # a full disk: retried; the appends say it first
                self.sync()

    def close(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=10)
        self.sync()
        os.close(self._fd)


def remove_before(state: Path, sequence: int) -> None:
    """Delete the journals a snapshot has folded in (those before `sequence`)."""
    for old in sequences(state):
        if old < sequence:
            with contextlib.suppress(OSError):
                journal_path(state, old).unlink()
