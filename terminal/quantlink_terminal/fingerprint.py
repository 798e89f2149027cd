"""A stable device fingerprint: the same on every start on this PC, different on another PC."""

from __future__ import annotations

import hashlib
import platform
import sys
import uuid
from typing import Callable


def _windows_machine_guid() -> str | None:
    """Windows sets MachineGuid at install time; it survives reboots and network changes."""
    if sys.platform != "win32":
        return None
    import winreg

    try:
        key = winreg.OpenKey(
            winreg.HKEY_LOCAL_MACHINE,
            r"SOFTWARE\Microsoft\Cryptography",
            0,
            winreg.KEY_READ | winreg.KEY_WOW64_64KEY,
        )
        value, _ = winreg.QueryValueEx(key, "MachineGuid")
    except OSError:
        return None
    return str(value)


def _unix_machine_id() -> str | None:
    for path in ("/etc/machine-id", "/var/lib/dbus/machine-id"):
        try:
            with open(path, encoding="ascii") as handle:
                value = handle.read().strip()
        except OSError:
            continue
        if value:
            return value
    return None


def _hardware_mac() -> str | None:
    node = uuid.getnode()
    # getnode() falls back to a random number with the multicast bit set when it finds no MAC:
    # that would change on every start, so it is no fingerprint.
    if (node >> 40) & 1:
        return None
    return f"{node:012x}"


def machine_facts(machine_id: Callable[[], str | None] | None = None) -> list[str]:
    reader = machine_id or (_windows_machine_guid if sys.platform == "win32" else _unix_machine_id)
    facts = [reader() or "", platform.node()]
    if not facts[0]:
        facts.append(_hardware_mac() or "")
    return facts


def device_fingerprint(override: str | None = None, facts: list[str] | None = None) -> str:
    """The config's `device_fingerprint` if set, else a hash of machine facts (never the facts themselves:
    the server need not learn the machine id)."""
    if override:
        return override
    material = "\n".join(facts if facts is not None else machine_facts())
    return "ql-" + hashlib.sha256(material.encode("utf-8")).hexdigest()[:40]
