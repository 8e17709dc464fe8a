"""Collectors: each turns an outside format into a declared schema (``models.schemas``) and
returns frames, or a SQL scan of files, plus the partition they replace (``models.loads``).

Grouped by family: ``billing`` (FOCUS, AWS CUR, Azure, GCP billing exports, S3 deliveries),
``k8s`` (the live Kubernetes API, Prometheus history, recorded usage, the hourly rules they
share), ``prices`` (AWS Price List, GCP Cloud Billing catalog), ``ownership`` (the Backstage
catalog). Clients are injected (boto3, ``kubernetes``, ``httpx``, Google clients) so tests
hand in ones that talk to a real local server.

A collector never writes the warehouse (``finops.warehouse`` does, and only it) and never
imports ``finops``: it may import ``models`` and its own family. What it needs of what is
already loaded (label history, the snapshots of the last hours) it reads through a
``models.loads.FrameReader`` it is given.
"""
