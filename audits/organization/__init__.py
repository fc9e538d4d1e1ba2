"""The organization import: read AWS Organizations from the management account (``aws.py``), decide
each account's environment (``environment.py``, pure), and apply the result to the inventory
(``service.py``: one sync run, one transaction, one ledger entry per change)."""
