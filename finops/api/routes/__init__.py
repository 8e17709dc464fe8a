"""One router per resource; ``app.py`` includes them all.

A route imports what it calls (``finops.alerts``, ``finops.reports``, ``dashboards``,
``finops.api.queries``) and scopes through the ``Principal``; it never imports another
route's module for logic, nor the CLI, the pipeline or ``ingestion``.
"""
