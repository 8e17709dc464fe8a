"""Sandboxed SQL in worker processes, so no query can take the API down.

DuckDB's ``memory_limit`` does not cover list and string builds, and its interrupt lands only
between operators, so the hard limits live outside the engine:

- ``worker``: the process (``python -m finops.sqlworker.worker``). It caps its own memory with
  ``RLIMIT_DATA``, opens the published snapshot read-only (reopening it when it is
  republished), gates, runs and encodes one query at a time, and answers in JSON.
- ``pool``: pre-started workers, reused between queries, and a bounded queue in front of them
  (429 beyond it). A worker that has not answered by the time limit plus a grace is killed
  and replaced; so is one that died or hit its memory cap.
- ``protocol``: length-prefixed frames over the worker's stdin/stdout.
- ``values``: every DuckDB value as exact JSON (``BLOB`` as base64, ``DECIMAL`` as text, …).

The worker process imports neither polars nor the settings: it starts in ~0.3 s at ~80 MB
(only ``pool``, in the server's process, reads ``SqlSettings``). ``finops.sandbox`` is the
face the API and ``finops sql`` use. Never imports the API, the CLI or the pipeline.
"""
