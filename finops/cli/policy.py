"""``finops policy export``: admission policies (Gatekeeper or Kyverno) from finops.yaml."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

import typer

from finops.cli.common import app, note_plain, state
from finops.policy.export import files
from finops.policy.parameters import Target
from ingestion.ownership.backstage import read_catalog
from models.errors import InputError

policy_app = typer.Typer(help="Admission policies generated from finops.yaml.",
                         no_args_is_help=True)
app.add_typer(policy_app, name="policy")


class PolicyEngine(StrEnum):
    gatekeeper = "gatekeeper"
    kyverno = "kyverno"


class PolicyMode(StrEnum):
    audit = "audit"
    enforce = "enforce"


@policy_app.command("export")
def export(
    engine: PolicyEngine = typer.Option(..., "--engine", help="gatekeeper or kyverno."),
    out_dir: Path = typer.Option(..., "--out", help="Directory to write the manifests to."),
    mode: PolicyMode = typer.Option(PolicyMode.audit, "--mode", help="audit (report only: "
                                    "roll out this way first) or enforce (deny)."),
    cluster: str | None = typer.Option(None, "--cluster", help="The cluster the policies are "
                                       "for: mappings and exemptions restricted to clusters "
                                       "apply only when it is named."),
) -> None:
    """The team label (namespaces and workloads, values restricted to known teams and
    aliases), a ResourceQuota in tenant namespaces, exemptions with their expiry."""
    config = state.finops_config()
    owners = read_catalog(config.ownership.backstage_catalog)
    target = Target(cluster, datetime.now(UTC).date())
    texts = files(config, owners, engine.value, mode.value, target)
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(f"--out {out_dir}: exists and is not a directory")
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, text in texts.items():
        (out_dir / name).write_text(text)
    skipped = [m.team for m in config.ownership.mappings if m.clusters and not cluster]
    note_plain(f"{engine.value}: wrote {len(texts)} files to {out_dir} ({mode.value} mode)")
    if skipped:
        note_plain(f"note: mappings restricted to clusters left out (no --cluster): {skipped}")
