"""The version of bootmigrate (its own module, so the ledger can import it without a cycle)."""

__version__ = "0.1.0"
