"""The PTrade terminal: a generated PTrade strategy script that carries QuantLink signals to the broker.

PTrade (恒生 PTrade) runs strategies on the broker's servers, so nothing can be installed next to it: the
terminal is one Python file, pasted into PTrade, that holds the agent's own rules (sizing, risk guards,
journal, acks) rewritten for PTrade's Python 3.5 (script.render_ptrade_script).
"""
