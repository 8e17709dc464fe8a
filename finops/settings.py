"""Process settings: one pydantic-settings class, env prefix ``FINOPS_``, nested with ``__``.

Everything an operator sets per deployment lives here (paths, ports, limits, secrets);
what a team reviews in Git (teams, ownership, budgets) lives in ``finops.yaml``
(see ``models/config.py``). Nothing else in the code base reads ``os.environ``.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent


class ApiSettings(BaseModel):
    host: str = Field("127.0.0.1", description="Address the API binds to.")
    port: int = Field(8000, description="Port the API listens on.")
    public_url: str = Field(
        "http://127.0.0.1:8000", description="Base URL used in links (Slack messages, CLI output)."
    )


class SqlSettings(BaseModel):
    """The SQL sandbox (``POST /api/sql``, ``finops sql``): every query runs in a worker process."""

    max_rows: int = Field(1000, ge=1, description="Rows returned by one sandboxed query at most.")
    time_limit_ms: int = Field(2000, ge=1, description="Wall-clock limit of one sandboxed query.")
    memory_limit: str = Field(
        "1GB", description="DuckDB memory limit of the API's own read connection (sandboxed "
        "queries are held by `memory_cap_mb` instead).")
    threads: int = Field(2, ge=1, description="DuckDB threads of each connection.")
    workers: int = Field(2, ge=1, description="SQL worker processes: queries that run at once.")
    queue: int = Field(4, ge=0, description="Queries that may wait for a busy worker; one more "
                       "is refused with 429 and `Retry-After`.")
    memory_cap_mb: int = Field(1024, ge=512, description="OS memory cap (RLIMIT_DATA) of each "
                               "SQL worker, MiB; DuckDB inside it is limited to 3/4 of it.")
    grace_ms: int = Field(500, ge=0, description="A worker still busy this long after the time "
                          "limit is killed and replaced.")
    max_result_bytes: int = Field(8_000_000, ge=1024, description="JSON bytes one result may "
                                  "carry; rows past it are cut (`truncated_by: bytes`).")
    max_sql_chars: int = Field(100_000, ge=1, description="Longest SQL text accepted.")


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


class Settings(BaseSettings):
    """All process settings. ``FINOPS_DB=... finops ...`` or ``--db`` override the defaults."""

    model_config = SettingsConfigDict(
        env_prefix="FINOPS_", env_nested_delimiter="__", env_ignore_empty=True, extra="ignore"
    )

    db: Path = Field(REPO_ROOT / "data" / "finops.duckdb", description="Warehouse file (writer).")
    published_dir: Path | None = Field(
        None, description="Where read-only snapshots are published (default: next to the db)."
    )
    config: Path = Field(
        REPO_ROOT / "data" / "demo" / "finops.yaml", description="Path of finops.yaml."
    )
    demo_dir: Path = Field(REPO_ROOT / "data" / "demo", description="Bundled demo data.")
    memory_limit: str = Field("4GB", description="DuckDB memory limit of the writer.")
    allocate_memory_limit: str = Field(
        "1GB", description="DuckDB memory limit while `finops allocate` runs (the Polars "
        "engine holds a day of pod-hours beside it, so DuckDB's cache is kept small).")
    api: ApiSettings = ApiSettings()  # type: ignore[call-arg]
    sql: SqlSettings = SqlSettings()  # type: ignore[call-arg]
    slack: SlackSettings = SlackSettings()  # type: ignore[call-arg]
    aws: AwsSettings = AwsSettings()  # type: ignore[call-arg]
    prometheus: PrometheusSettings = PrometheusSettings()  # type: ignore[call-arg]

    @property
    def snapshot_path(self) -> Path:
        directory = self.published_dir or self.db.parent
        return directory / f"{self.db.stem}.published.duckdb"


def get_settings(**overrides: object) -> Settings:
    """Build settings from env, then apply explicit overrides (CLI flags) that are not None."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})  # type: ignore[arg-type]
