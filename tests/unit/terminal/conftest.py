"""The terminal agent's pure tests (no sockets); the fixtures are shared with tests/integration/terminal."""

from tests.unit.terminal.fixtures import fake_xtquant

__all__ = ["fake_xtquant"]
