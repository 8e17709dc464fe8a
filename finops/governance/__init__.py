"""Governance: what lets spend escape ownership and budgets, with the money at stake.

``reads`` selects what the findings need from a published snapshot (one read-only DuckDB
connection, values bound); ``prices`` prices ResourceQuota ceilings at the namespace's unit
costs; ``findings`` and ``catalog`` turn frames into findings (pure); ``report`` puts them
together (``governance_report``) and scopes them to a team; ``digest`` renders the weekly
section of the platform digest; ``scope`` says which namespaces are tenants' and which
exemptions hold (shared with the policy export, ``finops.policy``).

May import ``models``, ``finops.budgets`` and the pure engine's label rules; never the CLI,
the API, the pipeline, ``finops.alerts`` (which calls the digest hook) or ``ingestion``.
"""
