"""The terminal agent's pure tests (no sockets); the fixtures are shared with tests/integration/terminal."""

from tests.unit.terminal.fixtures import real_xtquant, xtquant_wheel

__all__ = ["real_xtquant", "xtquant_wheel"]
