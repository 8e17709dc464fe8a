"""Billing formats -> ``cost_line``: FOCUS 1.0-1.3, AWS CUR (legacy and 2.0), Azure cost
exports, the GCP billing export; deliveries from S3 or a local tree.

Shared by the readers, each by concern: ``columns`` (matching a file's column names),
``reading`` (files and batches into tidy frames), ``values`` (numbers, times, enums, ids),
``tags`` (tag maps), ``checks`` (values a line needs, one currency per account and period),
``cost_lines`` (the finished frame and the load that replaces its billing periods).
Never imports ``finops``.
"""
