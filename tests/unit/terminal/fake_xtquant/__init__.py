"""A stand-in for xtquant with the same module layout and the API surface the agent uses.

Loaded by the `fake_xtquant` fixture under the name `xtquant` (sys.modules injection), never via sys.path.
`xttrader.BROKER` is the simulated broker counter the tests script and inspect.
"""
