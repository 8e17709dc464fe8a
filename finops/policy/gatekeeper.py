"""Gatekeeper: a ConstraintTemplate per policy (its Rego from ``rego/``, the shared library
as ``libs``), a Constraint with ``finops.yaml``'s parameters, and the sync ``Config`` that lets
the Rego read Namespaces and ResourceQuotas (``data.inventory``).

Audit mode is ``enforcementAction: dryrun`` (violations are reported by Gatekeeper's audit,
nothing is denied); ``deny`` enforces.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

ENGINE = "gatekeeper"
TARGET = "admission.k8s.gatekeeper.sh"
ACTIONS = {"audit": "dryrun", "enforce": "deny"}
MATCH_KINDS = [
    {"apiGroups": [""], "kinds": ["Pod"]},
    {"apiGroups": ["apps"], "kinds": ["Deployment", "StatefulSet", "DaemonSet"]},
    {"apiGroups": ["batch"], "kinds": ["Job", "CronJob"]},
]
NAMESPACES = {"apiGroups": [""], "kinds": ["Namespace"]}
STRINGS = {"type": "array", "items": {"type": "string"}}
EXEMPTIONS = {"type": "array", "items": {"type": "object", "properties": {
    "name": {"type": "string"}, "namespaces": STRINGS,
    "until": {"type": "string", "description": "Last day it holds (YYYY-MM-DD, UTC)."},
    "who": {"type": "string"}, "why": {"type": "string"}}}}
OWNERS = {"type": "object", "additionalProperties": {"type": "string"}}


def rego(name: str) -> str:
    """A policy's Rego source as shipped in the package."""
    return (resources.files("finops.policy") / "rego" / f"{name}.rego").read_text()


def template(kind: str, package: str, description: str,
             properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "templates.gatekeeper.sh/v1",
        "kind": "ConstraintTemplate",
        "metadata": {"name": kind.lower(), "annotations": {"description": description}},
        "spec": {
            "crd": {"spec": {"names": {"kind": kind}, "validation": {
                "openAPIV3Schema": {"type": "object", "properties": properties}}}},
            "targets": [{"target": TARGET, "rego": rego(package), "libs": [rego("lib")]}],
        },
    }


def constraint(kind: str, name: str, kinds: list[dict[str, Any]], mode: str,
               parameters: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "constraints.gatekeeper.sh/v1beta1",
        "kind": kind,
        "metadata": {"name": name, "labels": {"app.kubernetes.io/managed-by": "finops"}},
        "spec": {"enforcementAction": ACTIONS[mode], "match": {"kinds": kinds},
                 "parameters": parameters},
    }


def sync_config() -> dict[str, Any]:
    """Gatekeeper's Config: replicate Namespaces and ResourceQuotas into ``data.inventory``."""
    return {
        "apiVersion": "config.gatekeeper.sh/v1alpha1",
        "kind": "Config",
        "metadata": {"name": "config", "namespace": "gatekeeper-system"},
        "spec": {"sync": {"syncOnly": [
            {"group": "", "version": "v1", "kind": "Namespace"},
            {"group": "", "version": "v1", "kind": "ResourceQuota"},
        ]}},
    }


def manifests(team_label: dict[str, Any], resource_quota: dict[str, Any],
              mode: str) -> dict[str, list[dict[str, Any]]]:
    """File name -> the documents in it."""
    label_props = {"labelKeys": STRINGS, "allowed": STRINGS, "chain": STRINGS,
                   "mappedNamespaces": STRINGS, "catalogNamespaces": OWNERS,
                   "catalogIds": OWNERS, "excludedNamespaces": STRINGS,
                   "exemptions": EXEMPTIONS}
    quota_props = {"excludedNamespaces": STRINGS, "exemptions": EXEMPTIONS}
    return {
        "sync-config.yaml": [sync_config()],
        "template-team-label.yaml": [template(
            "FinopsTeamLabel", "team_label", "finops: namespaces and workloads carry a team "
            "label naming a known team (or another ownership rule claims them).",
            label_props)],
        "template-resource-quota.yaml": [template(
            "FinopsResourceQuota", "resource_quota", "finops: workloads run only in tenant "
            "namespaces whose ResourceQuota bounds CPU and memory.", quota_props)],
        "constraint-team-label.yaml": [constraint(
            "FinopsTeamLabel", "finops-team-label", [NAMESPACES, *MATCH_KINDS], mode,
            team_label)],
        "constraint-resource-quota.yaml": [constraint(
            "FinopsResourceQuota", "finops-resource-quota", MATCH_KINDS, mode,
            resource_quota)],
    }
