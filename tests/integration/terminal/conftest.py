"""The terminal agent against a fake QuantLink API on loopback (sockets: integration tier)."""

from tests.unit.terminal.fixtures import fake_api, fake_xtquant

__all__ = ["fake_api", "fake_xtquant"]
