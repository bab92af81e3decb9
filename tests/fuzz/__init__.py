"""The fuzz suite: hostile inputs for every parser and every ``srcnn`` subcommand.

``python -m tests.fuzz.runner --profile ci|thorough`` runs it in a process of its own (with
an address-space limit and a per-case alarm) and prints the outcome table; ``make test``
runs the ``ci`` profile through ``tests/test_fuzz.py``. See ``docs/limits.md``.
"""
