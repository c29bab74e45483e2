"""The ledger: what happened on every run, and the households ' green accounts."""
