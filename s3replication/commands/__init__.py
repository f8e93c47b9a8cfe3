"""One module per command: changes (apply/plan/destroy), status, verify, audit, backfill..."""
