"""Billing formats -> ``cost_line``: FOCUS 1.0-1.3, AWS CUR (legacy and 2.0), Azure cost
exports, the GCP billing export; deliveries from S3 or a local tree.

Shared by the readers, each by concern: ``columns`` (matching a file's column names),
``reading`` (files and batches into tidy frames), ``values`` (numbers, times, enums, ids),
``tags`` (tag maps), ``checks`` (values a line needs, one currency per account and period),
``cost_lines`` (the finished frame and the load that replaces its billing periods).

Deliveries, not files: ``manifests`` (AWS Data Exports and Azure export manifests),
``deliveries`` (which files belong together, the newest delivery of each export and
period, staging a delivery complete and checksummed), ``restatement`` (what a delivery may
do to each billing period already loaded: new, unchanged, extended, restated, or refused
unless ``--replace`` / ``--append``). ``s3`` lists and fetches from a bucket or a folder.
Never imports ``finops``.
"""
