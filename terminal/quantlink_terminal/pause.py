"""The local kill switch: while its file exists, the agent places nothing and refuses every signal.

`quantlink-terminal pause` creates the file (with when and why), `resume` removes it; a trader can also
create or delete it by hand. The agent looks for it before every signal, so it works while the agent runs.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime

from quantlink_terminal.clock import to_iso


@dataclass(frozen=True)
class PauseState:
    since: str | None
    reason: str | None


class PauseSwitch:
    def __init__(self, path: str) -> None:
        self.path = path

    def state(self) -> PauseState | None:
        """None while trading; the pause's details while paused (a hand-made, empty file counts too)."""
        try:
            with open(self.path, encoding="utf-8") as handle:
                text = handle.read()
        except FileNotFoundError:
            return None
        except OSError:
            return PauseState(since=None, reason=None)  # exists but unreadable: still paused
        try:
            data = json.loads(text)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            return PauseState(since=None, reason=text.strip() or None)  # a file a trader wrote by hand
        since, reason = data.get("since"), data.get("reason")
        return PauseState(
            since=since if isinstance(since, str) else None,
            reason=reason if isinstance(reason, str) else None,
        )

    def pause(self, reason: str | None, now: datetime) -> None:
        temporary = self.path + ".tmp"
        with open(temporary, "w", encoding="utf-8") as handle:
            json.dump({"since": to_iso(now), "reason": reason}, handle, ensure_ascii=False)
        os.replace(temporary, self.path)

    def resume(self) -> bool:
        """True if trading was paused."""
        try:
            os.remove(self.path)
        except FileNotFoundError:
            return False
        return True
