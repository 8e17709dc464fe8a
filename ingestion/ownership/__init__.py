"""Ownership catalogs: who owns a namespace or a Kubernetes id when no label says so.
``backstage`` reads a Backstage catalog (``ownership.backstage_catalog`` in finops.yaml).
Never imports ``finops``.
"""
