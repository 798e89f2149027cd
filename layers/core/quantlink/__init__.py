"""QuantLink: relay JoinQuant trading signals to QMT / miniQMT terminals."""

__version__ = "0.1.0"
