"""ohvault: a local-first, encrypted personal health vault."""

__version__ = "0.1.0"
