"""QuantLink terminal agent: carries QuantLink signals to a miniQMT (xtquant) account, exactly once."""

__version__ = "0.1.0"
