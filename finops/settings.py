"""Process settings: one pydantic-settings class, env prefix ``FINOPS_``, nested with ``__``.

Everything an operator sets per deployment lives here (paths, ports, limits, secrets);
what a team reviews in Git (teams, ownership, budgets) lives in ``finops.yaml``
(see ``models/config.py``). Nothing else in the code base reads ``os.environ``.
"""

from __future__ import annotations

from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Annotated, Literal, NamedTuple

from pydantic import BaseModel, Field, SecretStr, field_validator
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
    max_attempts: int = Field(8, description="Delivery attempts before an alert is dead-lettered.")
    timeout_s: float = Field(10.0, description="Timeout of one Slack API call (seconds).")


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


class LakeSettings(BaseModel):
    """The Iceberg lake `finops publish --lake` writes (pyiceberg, the extra `finops[lake]`)."""

    uri: str | None = Field(
        None, description="Where the lake's data files go: a path or `s3://bucket/prefix` "
        "(`--lake` overrides it).")
    catalog: Literal["sql", "rest", "glue"] = Field(
        "sql", description="Iceberg catalog: `sql` (SQLAlchemy; SQLite for the embedded "
        "case), `rest` or `glue`.")
    catalog_uri: str | None = Field(
        None, description="The catalog's URI: an SQLAlchemy URL for `sql` (default: "
        "`sqlite:///<lake>/catalog.db` for a lake on a path), the REST catalog's URL for "
        "`rest`; unused by `glue`.")
    namespace: str = Field("finops", description="Iceberg namespace the tables go in.")


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
    runner: Literal["local", "processes", "ray"] = Field(
        "local", description="Where `finops allocate` runs the engine's partitions: `local` "
        "(threads, whole days), `processes` (a process pool, one task per (cluster, day)), "
        "`ray` (Ray tasks; the extra `finops[ray]`).")
    ray_address: str | None = Field(
        None, description="Ray cluster of the `ray` runner: `auto`, `ray://host:10001` or a "
        "head's `host:port`. Unset: a local Ray is started for the run.")
    workers: int | None = Field(
        None, ge=1, description="Worker processes of the `processes` runner and of a local "
        "Ray. Unset: one per core.")
    staging: str | None = Field(
        None, description="Shared storage the `processes` and `ray` runners ship partition "
        "inputs through (Parquet): a path every worker sees, or `s3://bucket/prefix` "
        "(`FINOPS_AWS__ENDPOINT_URL` applies). Unset: `<db folder>/staging`.")
    partition_attempts: int = Field(
        3, ge=1, description="Times a partition is tried before the run fails (`processes`, "
        "`ray`): a killed worker or lost node costs one attempt.")
    lake: LakeSettings = LakeSettings()  # type: ignore[call-arg]
    api: ApiSettings = ApiSettings()  # type: ignore[call-arg]
    auth: AuthSettings = AuthSettings()  # type: ignore[call-arg]
    sql: SqlSettings = SqlSettings()  # type: ignore[call-arg]
    reader: ReaderSettings = ReaderSettings()  # type: ignore[call-arg]
    slack: SlackSettings = SlackSettings()  # type: ignore[call-arg]
    aws: AwsSettings = AwsSettings()  # type: ignore[call-arg]
    prometheus: PrometheusSettings = PrometheusSettings()  # type: ignore[call-arg]

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
    def staging_uri(self) -> str:
        return self.staging or str(self.db.parent / "staging")

    @property
    def snapshot_path(self) -> Path:
        directory = self.published_dir or self.db.parent
        return directory / f"{self.db.stem}.published.duckdb"


class ConfigSource(NamedTuple):
    """A resolved finops.yaml: its path (None: zero-config defaults) and how it was chosen."""

    path: Path | None
    how: str

    def describe(self) -> str:
        if self.path is None:
            return f"Config: none, zero-config defaults ({self.how})"
        return f"Config: {self.path} ({self.how})"


def get_settings(**overrides: object) -> Settings:
    """Build settings from env, then apply explicit overrides (CLI flags) that are not None."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})  # type: ignore[arg-type]
