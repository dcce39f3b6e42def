"""The version of bootmigrate (its own module, so the ledger can import it without a cycle)."""

#: The version of bootmigrate: the one its distribution is built with, and the one the
#: ledger records for each migration it applies.
__version__ = "0.1.0"
