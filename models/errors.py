"""One error hierarchy for the whole service.

The CLI prints ``Error: <message>`` and exits 1 for any ``FinOpsError`` (traceback only with
``--debug``); the API renders every one as the same JSON body with ``status``. ``retryable``
tells a scheduler whether trying again later can help (dlt's transient/terminal split).
"""

from __future__ import annotations


class FinOpsError(Exception):
    """Base of every error the service raises on purpose."""

    status: int = 400
    retryable: bool = False


class ConfigError(FinOpsError):
    """Settings or finops.yaml are invalid; the message names the key path."""


class SchemaMismatch(FinOpsError):
    """A frame does not match the declared schema of its table."""


class InputError(FinOpsError):
    """Bad input data: the message names the file, and the row or column when known."""


class CollectorError(FinOpsError):
    """A collector could not read its source (unreachable, auth, bad query, bad answer)."""

    retryable = True

    def __init__(self, source: str, message: str, *, query: str | None = None) -> None:
        self.source = source
        self.query = query
        where = f"{source} (query: {query})" if query else source
        super().__init__(f"{where}: {message}")


class WarehouseError(FinOpsError):
    """The warehouse could not be opened, migrated, loaded or published."""

    status = 503


class WarehouseBusy(WarehouseError):
    """Another writer held the warehouse for longer than this one would wait."""

    retryable = True


class ReconciliationError(FinOpsError):
    """An allocation run does not add up to the bill; the message lists the rows."""


class CurrencyError(FinOpsError):
    """Money that cannot be put in one currency: an exchange rate is missing (the message
    names the currency, the billing account and the month), or stored amounts are in
    different currencies where one is needed."""

    status = 409


class QueryRejected(FinOpsError):
    """The SQL sandbox refused a statement (not a single read-only SELECT), or its result."""


class QueryLimitExceeded(FinOpsError):
    """A sandboxed query hit a hard limit (``limit``: time or memory). ``killed`` says its
    worker process had to be killed (and was replaced) rather than stopping by itself."""

    limit = ""

    def __init__(self, message: str, *, killed: bool = False) -> None:
        super().__init__(message)
        self.killed = killed


class QueryTimeout(QueryLimitExceeded):
    """A sandboxed query ran past its time limit."""

    limit = "time"


class QueryMemoryExceeded(QueryLimitExceeded):
    """A sandboxed query needed more memory than its worker may have."""

    limit = "memory"


class SandboxBusy(FinOpsError):
    """Every SQL worker is busy and the queue is full; try again after ``retry_after_s``."""

    status = 429
    retryable = True

    def __init__(self, message: str, *, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class SandboxUnavailable(FinOpsError):
    """A SQL worker process could not be started (the server log says why)."""

    status = 503
    retryable = True


class NotFound(FinOpsError):
    status = 404


class AuthError(FinOpsError):
    status = 401


class Forbidden(FinOpsError):
    status = 403


class NotConfigured(NotFound):
    """A route of a feature that needs a setting that is not set (the message names it): the
    route is off on this server, hence 404 (a 5xx would say the server failed)."""


class AlertDeliveryError(FinOpsError):
    """A notification could not be delivered; it stays in the outbox for a retry."""

    retryable = True


class SnapshotUnavailable(WarehouseError):
    """No published snapshot can be read. ``where`` (its path, the cause) goes to the server log
    and to platform callers only: other callers must not learn the server's file layout."""

    def __init__(self, message: str, where: str) -> None:
        super().__init__(message)
        self.where = where
