"""Kyverno: a ClusterPolicy per policy, from the same parameters as Gatekeeper's.

Rules are written for Namespaces and Pods; Kyverno's auto-generation applies the Pod rules
to the controllers' pod templates (Deployment, StatefulSet, DaemonSet, Job, CronJob). What a
rule cannot see in the request comes from the API server (a context ``apiCall``: the
namespace's labels and annotations, its ResourceQuotas). Audit mode is
``validate.failureAction: Audit`` (policy reports, nothing denied); ``Enforce`` denies.

Kyverno's conditions are coarser than the Rego: each label key is checked on its own (any
key naming a known team owns the object; keys compare case-sensitively), a workload's own
metadata labels and the catalog's kubernetes-id owners are not consulted, and exemptions
are checked per namespace glob with JMESPath's ``pattern_match`` and ``time_before``.
"""

from __future__ import annotations

from typing import Any

ENGINE = "kyverno"
ACTIONS = {"audit": "Audit", "enforce": "Enforce"}
NAMESPACE_CONTEXT = {"name": "ns", "apiCall": {
    "urlPath": "/api/v1/namespaces/{{request.namespace}}", "jmesPath": "metadata",
    "default": {}}}
QUOTA_CONTEXT = {"name": "hards", "apiCall": {
    "urlPath": "/api/v1/namespaces/{{request.namespace}}/resourcequotas",
    "jmesPath": "items[].spec.hard", "default": []}}
QUOTA_KEYS = {"cpu": ("cpu", "requests.cpu", "limits.cpu"),
              "memory": ("memory", "requests.memory", "limits.memory")}


def _value(path: str, key: str) -> str:
    """A label's value, trimmed and lower-cased; '' when absent."""
    return f"{{{{ to_lower(trim({path}.\"{key}\" || '', ' ')) }}}}"


def _names_no_team(path: str, keys: list[str], allowed: list[str]) -> list[dict[str, Any]]:
    """Conditions true when none of ``keys`` at ``path`` names a known team."""
    if not allowed:  # zero-config: any value is a team
        return [{"key": _value(path, k), "operator": "Equals", "value": ""} for k in keys]
    return [{"key": _value(path, k), "operator": "AnyNotIn", "value": allowed} for k in keys]


def _not_in(subject: str, values: list[str]) -> list[dict[str, Any]]:
    return [{"key": f"{{{{ {subject} }}}}", "operator": "AnyNotIn", "value": values}] \
        if values else []


def _unowned(params: dict[str, Any], labels: str | None, ns: str,
             subject: str) -> list[dict[str, Any]]:
    """All true when no step of the chain owns the object (``deny.conditions.all``);
    ``labels`` is where the pod's labels are (None for a Namespace: it has no pod labels)."""
    keys, allowed, chain = params["labelKeys"], params["allowed"], params["chain"]
    steps = {"pod-label": lambda: _names_no_team(labels, keys, allowed) if labels else [],
             "namespace-label": lambda: _names_no_team(f"{ns}.labels", keys, allowed),
             "namespace-annotation": lambda: _names_no_team(f"{ns}.annotations", keys, allowed),
             "mapping": lambda: _not_in(subject, params["mappedNamespaces"]),
             "backstage": lambda: _not_in(subject, sorted(params["catalogNamespaces"]))}
    return [c for step in chain if step in steps for c in steps[step]()]


def _exemptions(exemptions: list[dict[str, Any]], subject: str) -> list[dict[str, Any]]:
    """Preconditions: the rule applies unless an exemption in force names the namespace."""
    return [{"key": f"{{{{ pattern_match('{glob}', {subject}) && time_before(time_now_utc(), "
                    f"'{e['until']}T23:59:59Z') }}}}", "operator": "Equals", "value": False}
            for e in exemptions for glob in e["namespaces"]]


def _rule(name: str, kind: str, exclude_names: list[str], preconditions: list[dict[str, Any]],
          validate: dict[str, Any], context: list[dict[str, Any]] | None = None,
          ) -> dict[str, Any]:
    rule: dict[str, Any] = {"name": name, "match": {"any": [{"resources": {"kinds": [kind]}}]}}
    if exclude_names:
        key = "names" if kind == "Namespace" else "namespaces"
        rule["exclude"] = {"any": [{"resources": {key: exclude_names}}]}
    if context:
        rule["context"] = context
    if preconditions:
        rule["preconditions"] = {"all": preconditions}
    rule["validate"] = validate
    return rule


def policy(name: str, title: str, description: str, rules: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "apiVersion": "kyverno.io/v1",
        "kind": "ClusterPolicy",
        "metadata": {"name": name, "labels": {"app.kubernetes.io/managed-by": "finops"},
                     "annotations": {"policies.kyverno.io/title": title,
                                     "policies.kyverno.io/category": "finops",
                                     "policies.kyverno.io/description": description}},
        "spec": {"background": True, "rules": rules},
    }


def team_label_policy(params: dict[str, Any], mode: str) -> dict[str, Any]:
    excluded, exemptions = params["excludedNamespaces"], params["exemptions"]
    message = (f"finops cannot tell which team owns this: label it with one of "
               f"{params['labelKeys']} naming a known team")
    namespace_rule = _rule(
        "namespace-team-label", "Namespace", excluded,
        _exemptions(exemptions, "request.object.metadata.name"),
        {"failureAction": ACTIONS[mode], "message": message, "deny": {"conditions": {
            "all": _unowned(params, None, "request.object.metadata",
                            "request.object.metadata.name")}}})
    pod_rule = _rule(
        "workload-team-label", "Pod", excluded, _exemptions(exemptions, "request.namespace"),
        {"failureAction": ACTIONS[mode], "message": message, "deny": {"conditions": {
            "all": _unowned(params, "request.object.metadata.labels", "ns",
                            "request.namespace")}}},
        [NAMESPACE_CONTEXT])
    return policy("finops-team-label", "finops: team label", message, [namespace_rule, pod_rule])


def _no_key(keys: tuple[str, ...]) -> dict[str, Any]:
    test = " || ".join(f"contains(keys(@), '{k}')" for k in keys)
    return {"key": f"{{{{ length(hards[?{test}]) }}}}", "operator": "Equals", "value": 0}


def resource_quota_policy(params: dict[str, Any], mode: str) -> dict[str, Any]:
    message = ("finops: this namespace has no ResourceQuota bounding cpu and memory, so "
               "nothing caps its spend")
    rule = _rule(
        "require-resource-quota", "Pod", params["excludedNamespaces"],
        _exemptions(params["exemptions"], "request.namespace"),
        {"failureAction": ACTIONS[mode], "message": message, "deny": {"conditions": {
            "any": [_no_key(keys) for keys in QUOTA_KEYS.values()]}}},
        [QUOTA_CONTEXT])
    return policy("finops-resource-quota", "finops: ResourceQuota required", message, [rule])


def manifests(team_label: dict[str, Any], resource_quota: dict[str, Any],
              mode: str) -> dict[str, list[dict[str, Any]]]:
    return {"clusterpolicy-team-label.yaml": [team_label_policy(team_label, mode)],
            "clusterpolicy-resource-quota.yaml": [resource_quota_policy(resource_quota, mode)]}
