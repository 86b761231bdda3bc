"""tacit: keep what departing experts know, and let the people who stay ask it."""

__version__ = "0.1.0"
