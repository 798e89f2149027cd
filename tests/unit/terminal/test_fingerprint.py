"""The device fingerprint: stable per machine, different across machines, overridable."""

from __future__ import annotations

import uuid

import pytest

from quantlink_terminal.fingerprint import device_fingerprint, machine_facts


def test_same_machine_same_fingerprint_other_machine_other_fingerprint() -> None:
    office = device_fingerprint(facts=["machine-guid-1", "OFFICE-PC"])
    assert office == device_fingerprint(facts=["machine-guid-1", "OFFICE-PC"])
    assert office != device_fingerprint(facts=["machine-guid-2", "OFFICE-PC"])
    assert 8 <= len(office) <= 128  # what API.md accepts
    assert "machine-guid-1" not in office  # the raw id never leaves the PC


def test_config_override_wins() -> None:
    assert device_fingerprint("pinned-device-01", facts=["a", "b"]) == "pinned-device-01"


def test_this_machine_gives_a_stable_fingerprint() -> None:
    assert device_fingerprint() == device_fingerprint()


def test_machine_id_is_used_when_available() -> None:
    assert machine_facts(lambda: "guid-123")[0] == "guid-123"


def test_a_random_fallback_mac_is_never_used(monkeypatch: pytest.MonkeyPatch) -> None:
    # uuid.getnode() returns a random number with the multicast bit set when it finds no MAC.
    monkeypatch.setattr(uuid, "getnode", lambda: 0x010000ABCDEF)
    assert machine_facts(lambda: None)[2:] == [""]
    monkeypatch.setattr(uuid, "getnode", lambda: 0x001122334455)
    assert machine_facts(lambda: None)[2:] == ["001122334455"]
