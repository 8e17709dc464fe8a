"""Kubernetes usage -> the hourly tables (``models.schemas.K8S_HOURLY``) and ``k8s_namespace``.

``live`` snapshots a cluster through the Kubernetes API, ``prometheus`` (with
``prom_assemble``) reads history from Prometheus, ``recorded`` loads ``<table>.parquet``
recordings; ``hours`` holds the rules all three share (requests, owners, spot, samples cut
into hours, namespace label history). Never imports ``finops``.
"""
