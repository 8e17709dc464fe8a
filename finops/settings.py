"""Process settings: one pydantic-settings class, env prefix ``FINOPS_``, nested with ``__``.

Everything an operator sets per deployment lives here (paths, ports, limits, secrets);
what a team reviews in Git (teams, ownership, budgets) lives in ``finops.yaml``
(see ``models/config.py``). Nothing else in the code base reads ``os.environ``.
"""

from __future__ import annotations

from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Annotated, NamedTuple

from pydantic import (
    BaseModel,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from finops.warehouse_lock import DEFAULT_TIMEOUT_S
from models.currency import DEFAULT_LOCALE, check_locale
from models.errors import ConfigError

CONFIG_NAME = "finops.yaml"


class ApiSettings(BaseModel):
    host: str = Field("127.0.0.1", description="Address the API binds to.")
    port: int = Field(8000, description="Port the API listens on.")
    public_url: str = Field(
        "http://127.0.0.1:8000", description="Base URL used in links (Slack messages, CLI output)."
    )
    max_window_days: int = Field(
        1096, ge=1, description="Longest date window one request may ask for (days); longer "
        "is a 400.")
    max_body_bytes: int = Field(
        65536, ge=1024, description="Largest request body the API reads (bytes); larger is a 413.")
    keep_alive_s: int = Field(
        75, ge=1, description="How long an idle keep-alive connection stays open (seconds): "
        "longer than the idle timeout of a load balancer in front (60 s on AWS ALB), so the "
        "server never closes a connection the balancer is about to reuse.")
    cache_mb: int = Field(
        64, ge=0, description="Memory for whole responses of API reads and dashboard pages, "
        "kept until the next publish (MiB); 0 turns the response cache off.")


class AuthSettings(BaseModel):
    session_secret: SecretStr | None = Field(
        None, description="Key that signs session cookies; secret. Unset: a random key per "
        "process, so sessions end when the server restarts.")
    session_ttl_s: int = Field(43200, gt=0, description="Lifetime of a session cookie "
                               "(seconds) from sign-in.")
    trusted_proxies: Annotated[list[IPv4Network | IPv6Network], NoDecode] = Field(
        [], description="Proxy addresses (IPs or CIDRs, comma-separated) whose "
        "`X-Forwarded-Proto` and SSO headers are believed; none by default.")

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        """``10.0.0.1, 10.1.0.0/16`` from the environment, or a list from code."""
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        if isinstance(value, list):
            return [ip_network(str(part), strict=False) for part in value]
        return value


class SqlSettings(BaseModel):
    """The SQL sandbox (``POST /api/sql``, ``finops sql``): every query runs in a worker process."""

    max_rows: int = Field(1000, ge=1, description="Rows returned by one sandboxed query at most.")
    time_limit_ms: int = Field(2000, ge=1, description="Wall-clock limit of one sandboxed query.")
    threads: int = Field(2, ge=1, description="DuckDB threads of each SQL worker.")
    workers: int = Field(2, ge=1, description="SQL worker processes: queries that run at once.")
    queue: int = Field(4, ge=0, description="Queries that may wait for a busy worker; one more "
                       "is refused with 429 and `Retry-After`.")
    memory_cap_mb: int = Field(1024, ge=512, description="OS memory cap (RLIMIT_DATA) of each "
                               "SQL worker, MiB; DuckDB inside it is limited to 3/4 of it.")
    grace_ms: int = Field(500, ge=0, description="A worker still busy this long after the time "
                          "limit is killed and replaced.")
    max_result_bytes: int = Field(8_000_000, ge=1024, description="JSON bytes one result may "
                                  "carry; rows past it are cut (`truncated_by: bytes`).")
    max_sql_chars: int = Field(50_000, ge=1, description="Longest SQL text accepted (under "
                               "`FINOPS_API__MAX_BODY_BYTES`, which caps the request).")


class ReaderSettings(BaseModel):
    """The API's own read-only connections to the published snapshot (one per generation)."""

    memory_limit: str = Field(
        "512MB", description="DuckDB memory limit of each snapshot generation the API reads.")
    threads: int = Field(2, ge=1, description="DuckDB threads of each snapshot generation.")
    check_interval_ms: int = Field(
        500, ge=0, description="How often, at most, the API looks for a newly published "
        "snapshot (ms).")


class SlackSettings(BaseModel):
    token: SecretStr | None = Field(None, description="Slack bot token (xoxb-…); secret.")
    base_url: str = Field(
        "https://slack.com/api/", description="Slack Web API base URL (tests point it locally)."
    )
    platform_channel: str = Field(
        "#finops-platform", description="Channel for the unowned-spend digest."
    )
    max_attempts: int = Field(8, ge=1, description="Delivery attempts before an alert is "
                              "dead-lettered (429s and auth failures do not count).")
    timeout_s: float = Field(10.0, gt=0, description="Timeout of one Slack API call (seconds).")
    per_channel_interval_s: float = Field(
        1.0, ge=0, description="Least time between two messages to one channel (Slack allows "
        "about one per second per channel).")
    retries: int = Field(2, ge=0, description="Retries of a message within one run after a "
                         "5xx, a timeout or a network error, with doubling backoff.")
    backoff_s: float = Field(1.0, ge=0, description="First backoff before such a retry "
                             "(seconds); doubled each time.")
    max_wait_s: float = Field(
        120.0, ge=0, description="Most time one run spends waiting on `Retry-After` and "
        "backoff (seconds); what is left then waits for the next run, no attempt counted.")
    signing_secret: SecretStr | None = Field(
        None, description="Slack app signing secret: verifies the Acknowledge / Snooze button "
        "requests (`POST /api/slack/interactions`); secret. Unset: the route answers 404.")
    response_url_prefix: str = Field(
        "https://hooks.slack.com/", description="Only `response_url`s under this prefix are "
        "posted to when a button is pressed (the message then shows who acknowledged).")
    interactions_db: Path | None = Field(
        None, description="SQLite file where the API records button presses and "
        "`budgets check` reads snoozes (default: beside the published snapshot); the API and "
        "the writer must both reach it.")


class WebhookSettings(BaseModel):
    """Generic webhook channels (``channels`` of type ``webhook`` in finops.yaml)."""

    secrets: dict[str, SecretStr] = Field(
        {}, description="HMAC-SHA256 signing secret of each webhook channel, as JSON "
        "`{\"<channel name>\": \"<secret>\"}`; secret. A webhook channel without one is an error.")
    timeout_s: float = Field(10.0, gt=0, description="Timeout of one webhook call (seconds).")


class SmtpSettings(BaseModel):
    """The mail server email channels send through (``smtplib``)."""

    host: str | None = Field(None, description="SMTP server; unset: email channels cannot "
                             "send (an error naming the channel).")
    port: int = Field(587, description="SMTP port.")
    starttls: bool = Field(True, description="Upgrade the connection with STARTTLS.")
    username: str | None = Field(None, description="SMTP user (with a password: AUTH LOGIN).")
    password: SecretStr | None = Field(None, description="SMTP password; secret.")
    sender: str = Field("finops@localhost", description="From address of alert emails.")
    timeout_s: float = Field(10.0, gt=0, description="Timeout of one SMTP session (seconds).")


class AwsSettings(BaseModel):
    endpoint_url: str | None = Field(None, description="S3/Pricing endpoint (moto, MinIO).")
    profile: str | None = Field(None, description="AWS profile name for boto3.")
    region: str = Field("us-east-1", description="AWS region for API clients.")


class PrometheusSettings(BaseModel):
    url: str | None = Field(None, description="Prometheus/Thanos/Mimir base URL.")
    bearer_token: SecretStr | None = Field(None, description="Bearer token; secret.")
    username: str | None = Field(None, description="Basic-auth user.")
    password: SecretStr | None = Field(None, description="Basic-auth password; secret.")
    ca_file: Path | None = Field(None, description="CA bundle for TLS verification.")
    timeout_s: float = Field(60.0, description="Timeout of one Prometheus query.")
    cluster_label: str = Field("cluster", description="Series label that names the cluster.")


class RetentionSettings(BaseModel):
    """What ``finops retention apply`` (and every ``finops run``) keeps, in months counted back
    from the newest allocated day (whole months: the cut is a month's first day); 0 keeps a
    table for ever. Raw rows of a day are removed only once that day is allocated."""

    usage_months: int = Field(3, ge=0, description="Months of raw Kubernetes usage "
                              "(`k8s_*_hour`) kept; 0: for ever.")
    bill_months: int = Field(13, ge=0, description="Months of bill lines (`cost_line`) kept; "
                             "0: for ever.")
    allocation_months: int = Field(0, ge=0, description="Months of `allocation` kept; 0 (the "
                                   "default): for ever. At least the raw data's months.")
    rollup_months: int = Field(0, ge=0, description="Months of the serving rollups "
                               "(`rollup_*` tables) kept; 0 (the default): for ever.")

    @model_validator(mode="after")
    def _allocation_outlives_raw(self) -> RetentionSettings:
        # An allocated day whose raw data is still there but whose allocation is gone would
        # be owed again, and re-allocating it is what retention must never cause.
        if self.allocation_months and self.allocation_months < max(self.usage_months,
                                                                   self.bill_months):
            raise ValueError("FINOPS_RETENTION__ALLOCATION_MONTHS must be 0 (for ever) or at "
                             "least the usage and bill months")
        return self


class RunSettings(BaseModel):
    """``finops run``, the scheduled cycle."""

    source_timeout_s: float = Field(
        3600.0, gt=0, description="How long one source of a `finops run` cycle may take "
        "before it is stopped and reported failed (seconds).")


class Settings(BaseSettings):
    """All process settings. ``FINOPS_DB=... finops ...`` or ``--db`` override the defaults."""

    model_config = SettingsConfigDict(
        env_prefix="FINOPS_", env_nested_delimiter="__", env_ignore_empty=True, extra="ignore"
    )

    db: Path = Field(Path("data") / "finops.duckdb", validate_default=True,
                     description="Warehouse file (writer); relative to the working directory.")
    published_dir: Path | None = Field(
        None, description="Where read-only snapshots are published (default: next to the db)."
    )
    config: Path | None = Field(
        None, description="Path of finops.yaml; it must exist. Unset: `./finops.yaml` if the "
        "working directory has one, else zero-config defaults (and no API tokens).")
    lock_timeout_s: float = Field(
        DEFAULT_TIMEOUT_S, ge=0, description="How long a writer (ingest, allocate, budgets "
        "check, pricing sync) waits for another writer to finish before it gives up (seconds).")
    memory_limit: str = Field("4GB", description="DuckDB memory limit of the writer.")
    allocate_memory_limit: str = Field(
        "1GB", description="DuckDB memory limit while `finops allocate` runs (the Polars "
        "engine holds a day of pod-hours beside it, so DuckDB's cache is kept small).")
    locale: str = Field(
        DEFAULT_LOCALE, description="Locale money is written in (CLI, Slack, dashboards): "
        "symbol placement and separators, e.g. `en_US` (symbol first, 1,234.50), `de_DE` "
        "(1.234,50 then the symbol); the currency itself always comes from the data.")
    api: ApiSettings = ApiSettings()  # type: ignore[call-arg]
    auth: AuthSettings = AuthSettings()  # type: ignore[call-arg]
    sql: SqlSettings = SqlSettings()  # type: ignore[call-arg]
    reader: ReaderSettings = ReaderSettings()  # type: ignore[call-arg]
    slack: SlackSettings = SlackSettings()  # type: ignore[call-arg]
    webhook: WebhookSettings = WebhookSettings()  # type: ignore[call-arg]
    smtp: SmtpSettings = SmtpSettings()  # type: ignore[call-arg]
    aws: AwsSettings = AwsSettings()  # type: ignore[call-arg]
    prometheus: PrometheusSettings = PrometheusSettings()  # type: ignore[call-arg]
    retention: RetentionSettings = RetentionSettings()  # type: ignore[call-arg]
    run: RunSettings = RunSettings()  # type: ignore[call-arg]

    @field_validator("locale")
    @classmethod
    def _locale(cls, value: str) -> str:
        return check_locale(value)

    @field_validator("db", "published_dir", "config")
    @classmethod
    def _absolute(cls, path: Path | None) -> Path | None:
        # Relative paths mean the working directory this process started in, whatever the
        # code later does with its own; absolute paths also make every message unambiguous.
        return path.expanduser().absolute() if path is not None else None

    def config_source(self) -> ConfigSource:
        """Which finops.yaml this process uses. Never a bundled one: the demo's config is
        used only by ``finops demo``."""
        if self.config is not None:
            if not self.config.is_file():
                raise ConfigError(f"--config / FINOPS_CONFIG: config file not found: "
                                  f"{self.config}")
            return ConfigSource(self.config, "named by --config / FINOPS_CONFIG")
        local = Path.cwd() / CONFIG_NAME
        if local.is_file():
            return ConfigSource(local, "found in the working directory")
        return ConfigSource(None, "no --config, FINOPS_CONFIG or ./finops.yaml")

    @property
    def snapshot_path(self) -> Path:
        directory = self.published_dir or self.db.parent
        return directory / f"{self.db.stem}.published.duckdb"

    @property
    def interactions_path(self) -> Path:
        """The SQLite file of Slack button presses (acknowledgements, snoozes)."""
        named = self.slack.interactions_db
        return (named.expanduser().absolute() if named
                else self.snapshot_path.with_name(f"{self.db.stem}.interactions.sqlite3"))


class ConfigSource(NamedTuple):
    """A resolved finops.yaml: its path (None: zero-config defaults) and how it was chosen."""

    path: Path | None
    how: str

    def describe(self) -> str:
        if self.path is None:
            return f"Config: none, zero-config defaults ({self.how})"
        return f"Config: {self.path} ({self.how})"


def get_settings(**overrides: object) -> Settings:
    """Build settings from env, then apply explicit overrides (CLI flags) that are not None.
    A bad value is a ``ConfigError`` naming the variable."""
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = [f"FINOPS_{'__'.join(str(p).upper() for p in e['loc'])}: {e['msg']}"
                    for e in exc.errors()]
        raise ConfigError("; ".join(problems)) from None
