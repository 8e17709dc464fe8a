"""Gatekeeper's evaluation, reproduced with a real Rego engine (regorus) on exported policies.

Gatekeeper runs a ConstraintTemplate's Rego (and its ``libs``) with ``input.review`` = the
AdmissionReview's request, ``input.parameters`` = the Constraint's parameters and
``data.inventory`` = the objects its ``Config`` syncs; the ``violation`` rule's results deny
the request (or, in dryrun/audit, are reported). ``Gatekeeper(dir)`` reads what
``finops policy export --engine gatekeeper --out dir`` wrote and does exactly that.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import regorus
import yaml

GROUPS = {"Deployment": "apps", "StatefulSet": "apps", "DaemonSet": "apps", "Job": "batch",
          "CronJob": "batch"}


def review(obj: dict[str, Any], operation: str = "CREATE") -> dict[str, Any]:
    """The ``request`` of an AdmissionReview for ``obj`` (as the API server sends it)."""
    kind, meta = obj["kind"], obj.get("metadata") or {}
    group = GROUPS.get(kind, "")
    return {"uid": f"{kind}/{meta.get('namespace', '')}/{meta.get('name')}",
            "kind": {"group": group, "version": "v1", "kind": kind},
            "operation": operation, "name": meta.get("name"),
            "namespace": meta.get("namespace") if kind != "Namespace" else meta.get("name"),
            "userInfo": {"username": "system:serviceaccount:kube-system:replicaset-controller"},
            "object": obj}


def inventory(namespaces: list[dict[str, Any]],
              quotas: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """``data.inventory`` as Gatekeeper's sync builds it."""
    by_ns: dict[str, Any] = {}
    for quota in quotas or []:
        meta = quota["metadata"]
        by_ns.setdefault(meta["namespace"], {}).setdefault("v1", {}).setdefault(
            "ResourceQuota", {})[meta["name"]] = quota
    return {"cluster": {"v1": {"Namespace": {n["metadata"]["name"]: n for n in namespaces}}},
            "namespace": by_ns}


def _documents(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


class Gatekeeper:
    """The constraints of an exported directory, each with its template's Rego loaded."""

    def __init__(self, directory: Path) -> None:
        docs = [d for p in sorted(directory.glob("*.yaml")) for d in _documents(p)]
        templates = {d["spec"]["crd"]["spec"]["names"]["kind"]: d for d in docs
                     if d["kind"] == "ConstraintTemplate"}
        self.constraints = {d["kind"]: d for d in docs
                            if d.get("apiVersion", "").startswith("constraints.gatekeeper.sh")}
        self.templates = templates

    def violations(self, kind: str, request: dict[str, Any],
                   data: dict[str, Any]) -> list[dict[str, Any]]:
        """What the constraint of ``kind`` says about ``request`` (empty: allowed)."""
        constraint, template = self.constraints[kind], self.templates[kind]
        if not _matches(constraint, request):
            return []
        target = template["spec"]["targets"][0]
        engine = regorus.Engine()
        engine.set_rego_v0(True)  # Gatekeeper's `rego` field is Rego v0 (+ import rego.v1)
        for i, lib in enumerate(target.get("libs", [])):
            engine.add_policy(f"lib{i}.rego", lib)
        engine.add_policy("template.rego", target["rego"])
        engine.add_data_json(json.dumps({"inventory": data}))
        engine.set_input_json(json.dumps({"review": request,
                                          "parameters": constraint["spec"]["parameters"]}))
        package = target["rego"].split("package ", 1)[1].split()[0]
        result = json.loads(engine.eval_query_as_json(f"data.{package}.violation"))
        return list(result["result"][0]["expressions"][0]["value"])


def _matches(constraint: dict[str, Any], request: dict[str, Any]) -> bool:
    """Gatekeeper's ``match.kinds`` (the only match field finops's constraints use)."""
    kind = request["kind"]
    return any(kind["group"] in k["apiGroups"] and kind["kind"] in k["kinds"]
               for k in constraint["spec"]["match"]["kinds"])
