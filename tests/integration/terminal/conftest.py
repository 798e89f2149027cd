"""The terminal agent against a fake QuantLink API on loopback (sockets: integration tier)."""

from tests.unit.terminal.fixtures import fake_api, real_xtquant, xtquant_wheel

__all__ = ["fake_api", "real_xtquant", "xtquant_wheel"]
