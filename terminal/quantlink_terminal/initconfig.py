"""`quantlink-terminal init`: write the commented example config that ships inside the package."""

from __future__ import annotations

import json
import os
import pkgutil

EXAMPLE_RESOURCE = "data/config.example.toml"


class InitError(ValueError):
    """The config cannot be written (it exists, the folder is missing); the message says what to do."""


def example_config() -> str:
    raw = pkgutil.get_data("quantlink_terminal", EXAMPLE_RESOURCE)
    if raw is None:
        raise InitError(f"{EXAMPLE_RESOURCE} is missing from the package; reinstall quantlink-terminal")
    return raw.decode("utf-8")


def render_config(
    api_base: str | None = None,
    auth_token: str | None = None,
    executor: str | None = None,
    terminal_id: str | None = None,
) -> str:
    """The example with the given settings filled in (each value written as a TOML string)."""
    values = {
        "api_base": api_base,
        "auth_token": auth_token,
        "executor": executor,
        "terminal_id": terminal_id,
    }
    lines = []
    for line in example_config().splitlines():
        key = line.partition(" = ")[0]
        value = values.get(key)
        if value is not None:
            line = f"{key} = {json.dumps(value, ensure_ascii=False)}"
        elif key == "trading_hours_only" and executor == "paper":
            line = "trading_hours_only = false"  # paper demos run at any hour
        lines.append(line)
    return "\n".join(lines) + "\n"


def write_config(path: str, text: str, force: bool = False) -> None:
    if os.path.exists(path) and not force:
        raise InitError(f"{path} exists already; edit it, or add --force to replace it with a fresh example")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise InitError(f"the folder {folder} does not exist; create it first")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
