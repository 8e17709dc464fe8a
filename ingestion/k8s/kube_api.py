"""The Kubernetes API, as the live collector reads it (the ``kubernetes`` client, injected):
an ``ApiClient`` from a kubeconfig or in-cluster, every list paginated (``limit``/
``continue``; a 410 Gone on an expired continue token restarts that list), ``metrics.k8s.io``
pod usage when metrics-server is there. Every failure is a ``CollectorError`` naming what was
asked and what to check."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from models.errors import CollectorError

SOURCE = "kubernetes"
PAGE = 500
Doc = dict[str, Any]


def lists_of(api: client.ApiClient) -> dict[str, Callable[..., Any]]:
    core, apps, batch = client.CoreV1Api(api), client.AppsV1Api(api), client.BatchV1Api(api)
    return {
        "nodes": core.list_node,
        "namespaces": core.list_namespace,
        "pods": core.list_pod_for_all_namespaces,
        "quotas": core.list_resource_quota_for_all_namespaces,
        "pvcs": core.list_persistent_volume_claim_for_all_namespaces,
        "pvs": core.list_persistent_volume,
        "services": core.list_service_for_all_namespaces,
        "replicasets": apps.list_replica_set_for_all_namespaces,
        "deployments": apps.list_deployment_for_all_namespaces,
        "statefulsets": apps.list_stateful_set_for_all_namespaces,
        "daemonsets": apps.list_daemon_set_for_all_namespaces,
        "jobs": batch.list_job_for_all_namespaces,
        "cronjobs": batch.list_cron_job_for_all_namespaces,
    }


def _api_error(what: str, exc: Exception) -> CollectorError:
    if isinstance(exc, ApiException):
        hint = {
            401: "unauthorized: check the kubeconfig credentials",
            403: "forbidden: the service account needs list on this resource "
            "(see deploy/cronjob.yaml)",
        }
        message = hint.get(exc.status or 0, f"HTTP {exc.status} {exc.reason}")
        return CollectorError(SOURCE, message, query=what)
    return CollectorError(SOURCE, f"cannot reach the API server: {exc}", query=what)


def _decode(what: str, raw: Any) -> Doc:
    try:
        doc = json.loads(raw.data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise CollectorError(SOURCE, f"malformed JSON in the response: {exc}", query=what) from None
    if not isinstance(doc, dict):
        raise CollectorError(SOURCE, "response is not a JSON object", query=what)
    return doc


def list_all(
    what: str, call: Callable[..., Any], *, page: int = PAGE, restarts: int = 3
) -> list[Doc]:
    """Every item of a list, page by page; restart from scratch on 410 (expired continue)."""
    for _attempt in range(restarts + 1):
        items: list[Doc] = []
        token: str | None = None
        try:
            while True:
                doc = _decode(what, call(limit=page, _continue=token, _preload_content=False))
                items.extend(doc.get("items") or [])  # some servers write "items": null
                token = (doc.get("metadata") or {}).get("continue") or None
                if not token:
                    return items
        except ApiException as exc:
            if exc.status != 410:
                raise _api_error(what, exc) from None
        except CollectorError:
            raise
        except Exception as exc:  # urllib3 connection errors, timeouts
            raise _api_error(what, exc) from None
    raise CollectorError(
        SOURCE, f"list kept expiring (410 Gone) after {restarts} restarts", query=what
    )


def pod_metrics(api: client.ApiClient) -> list[Doc] | None:
    """``metrics.k8s.io`` pod usage, or None when metrics-server is not installed (404)."""
    custom = client.CustomObjectsApi(api)

    def call(**kw: Any) -> Any:
        return custom.list_cluster_custom_object("metrics.k8s.io", "v1beta1", "pods", **kw)

    try:
        return list_all("GET /apis/metrics.k8s.io/v1beta1/pods", call)
    except CollectorError as exc:
        if "HTTP 404" in str(exc) or "HTTP 503" in str(exc):
            return None
        raise


def api_client(kubeconfig: str | None, context: str | None) -> client.ApiClient:
    """An ApiClient from a kubeconfig (file/context), or in-cluster when none is given."""
    from kubernetes import config

    try:
        if kubeconfig is None and context is None:
            try:
                configuration = client.Configuration()
                config.load_incluster_config(client_configuration=configuration)
                return client.ApiClient(configuration)
            except config.ConfigException:
                pass
        return config.new_client_from_config(config_file=kubeconfig, context=context)
    except (config.ConfigException, OSError, TypeError) as exc:
        raise CollectorError(
            SOURCE, f"cannot load kubeconfig {kubeconfig or '~/.kube/config'}: {exc}"
        ) from None
