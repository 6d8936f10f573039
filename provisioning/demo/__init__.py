"""A demonstration installation: ``python manage.py seed_demo``.

``config.py`` is the partner's configuration (applied through apply_config's
code), ``history.py`` generates weeks of run documents as sync workers would
send them (pure Python), ``triage.py`` plays the staff acknowledging,
assigning and resolving exceptions, and ``seed.py`` puts it together through
the same ingest code as the worker API.
"""
