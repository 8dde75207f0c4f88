"""deploy/k8s: valid Kubernetes objects, Tint's settings only, GPU workers on GPUs, KEDA on the `gpu` list.

Built-in kinds are validated by kubernetes-validate against the Kubernetes JSON schemas it ships (strict:
unknown fields are errors); no cluster and no network. KEDA's ScaledObject is a custom resource with no
schema there, so its fields are checked here against the part of KEDA's schema Tint uses.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import jsonschema
import pytest
import yaml

kubernetes_validate = pytest.importorskip("kubernetes_validate")

K8S = Path(__file__).resolve().parents[2] / "deploy" / "k8s"
KUBERNETES_VERSION = "1.30"
GPU_DEPLOYMENT = "tint-worker-gpu"
SCALED_OBJECT_SCHEMA = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "properties": {
        "apiVersion": {"const": "keda.sh/v1alpha1"},
        "kind": {"const": "ScaledObject"},
        "metadata": {"type": "object", "required": ["name"]},
        "spec": {
            "type": "object",
            "required": ["scaleTargetRef", "triggers"],
            "additionalProperties": False,
            "properties": {
                "scaleTargetRef": {
                    "type": "object",
                    "required": ["name"],
                    "additionalProperties": False,
                    "properties": {
                        "apiVersion": {"type": "string"},
                        "kind": {"type": "string"},
                        "name": {"type": "string"},
                    },
                },
                "pollingInterval": {"type": "integer", "minimum": 1},
                "cooldownPeriod": {"type": "integer", "minimum": 0},
                "minReplicaCount": {"type": "integer", "minimum": 0},
                "maxReplicaCount": {"type": "integer", "minimum": 1},
                "advanced": {"type": "object"},
                "triggers": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "required": ["type", "metadata"],
                        "properties": {
                            "type": {"type": "string"},
                            # KEDA reads trigger metadata as strings; a YAML number here is rejected
                            "metadata": {"type": "object", "additionalProperties": {"type": "string"}},
                        },
                    },
                },
            },
        },
    },
}


def _load() -> list[tuple[str, dict[str, Any]]]:
    docs = []
    for path in sorted(K8S.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        docs += [(path.name, doc) for doc in yaml.safe_load_all(path.read_text()) if doc]
    return docs


DOCS = _load()


def _one(kind: str, name: str) -> dict[str, Any]:
    found = [d for _, d in DOCS if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind} {name!r}, found {len(found)}"
    return found[0]


def _pod_specs() -> list[tuple[str, dict[str, Any]]]:
    return [
        (d["metadata"]["name"], d["spec"]["template"]["spec"])
        for _, d in DOCS
        if d["kind"] in ("Deployment", "Job")
    ]


def _container(name: str) -> dict[str, Any]:
    kind = "Job" if name == "tint-migrate" else "Deployment"
    return _one(kind, name)["spec"]["template"]["spec"]["containers"][0]


@pytest.mark.parametrize(
    "doc", [d for _, d in DOCS if d["apiVersion"] != "keda.sh/v1alpha1"], ids=lambda d: d["metadata"]["name"]
)
def test_objects_are_valid_kubernetes(doc: dict[str, Any]) -> None:
    kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_kustomization_lists_every_manifest() -> None:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    files = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert set(kustomization["resources"]) == files


def test_the_deployments_and_the_migration_job_exist() -> None:
    for name in ("tint-api", "tint-worker-cpu", GPU_DEPLOYMENT):
        _one("Deployment", name)
    assert _container("tint-migrate")["args"] == ["db", "upgrade"]
    assert _one("Service", "tint-api")["spec"]["selector"] == {"app.kubernetes.io/name": "tint-api"}


def test_every_tint_variable_is_a_field_of_the_settings() -> None:
    from workers.settings import Settings

    fields = {f"TINT_{name.upper()}" for name in Settings.model_fields}
    named = set()
    for _, doc in DOCS:
        if doc["kind"] == "ConfigMap":
            named |= set(doc["data"])
        if doc["kind"] == "Secret":
            named |= set(doc.get("stringData", {})) | set(doc.get("data", {}))
    for _, spec in _pod_specs():
        for container in spec["containers"]:
            named |= {env["name"] for env in container.get("env", [])}
    tint = {name for name in named if name.startswith("TINT_")}
    assert {"TINT_DATABASE_URL", "TINT_BROKER_URL", "TINT_STORAGE_URL", "TINT_S3_ENDPOINT"} <= tint
    assert tint <= fields, f"not fields of workers.settings.Settings: {sorted(tint - fields)}"


def test_pods_read_settings_and_secrets_that_exist() -> None:
    maps = {d["metadata"]["name"] for _, d in DOCS if d["kind"] == "ConfigMap"}
    secrets = {d["metadata"]["name"] for _, d in DOCS if d["kind"] == "Secret"}
    for name, spec in _pod_specs():
        sources = spec["containers"][0]["envFrom"]
        assert {s["configMapRef"]["name"] for s in sources if "configMapRef" in s} <= maps, name
        assert {s["secretRef"]["name"] for s in sources if "secretRef" in s} <= secrets, name
        assert spec["securityContext"]["runAsNonRoot"] is True, name


def test_the_database_url_is_a_secret() -> None:
    config = [d for _, d in DOCS if d["kind"] == "ConfigMap"]
    assert all("TINT_DATABASE_URL" not in d["data"] for d in config)


def test_deployment_selectors_match_their_pods() -> None:
    for _, doc in DOCS:
        if doc["kind"] == "Deployment":
            labels = doc["spec"]["template"]["metadata"]["labels"]
            assert doc["spec"]["selector"]["matchLabels"].items() <= labels.items()


def test_gpu_workers_take_one_gpu_and_serve_the_gpu_queue() -> None:
    worker = _container(GPU_DEPLOYMENT)
    assert worker["resources"]["limits"]["nvidia.com/gpu"] == 1
    args = worker["args"]
    assert args[:3] == ["worker", "--queues", "gpu"] and args[args.index("--concurrency") + 1] == "1"
    assert {"name": "TINT_DEVICE", "value": "cuda"} in worker["env"]
    assert "cuda" in worker["image"]


def test_cpu_workers_and_api_take_no_gpu() -> None:
    for name in ("tint-worker-cpu", "tint-api", "tint-migrate"):
        limits = _container(name).get("resources", {}).get("limits", {})
        assert "nvidia.com/gpu" not in limits, name
    assert _container("tint-worker-cpu")["args"][:3] == ["worker", "--queues", "cpu"]


@pytest.mark.parametrize("name", ["tint-worker-cpu", GPU_DEPLOYMENT])
def test_workers_outlast_a_job_when_stopped_and_share_a_metrics_directory(name: str) -> None:
    config = _one("ConfigMap", "tint-settings")["data"]
    spec = _one("Deployment", name)["spec"]["template"]["spec"]
    assert spec["terminationGracePeriodSeconds"] > int(config["TINT_TASK_TIME_LIMIT_S"])
    worker = spec["containers"][0]
    mp_dir = next(e["value"] for e in worker["env"] if e["name"] == "PROMETHEUS_MULTIPROC_DIR")
    mount = next(m for m in worker["volumeMounts"] if m["mountPath"] == mp_dir)
    volume = next(v for v in spec["volumes"] if v["name"] == mount["name"])
    assert "emptyDir" in volume
    port = worker["args"][worker["args"].index("--metrics-port") + 1]
    assert {"name": "metrics", "containerPort": int(port)} in worker["ports"]
    assert (
        _one("Deployment", name)["spec"]["template"]["metadata"]["annotations"]["prometheus.io/port"] == port
    )


def test_keda_scales_the_gpu_workers_on_the_redis_gpu_list() -> None:
    scaled = _one("ScaledObject", GPU_DEPLOYMENT)
    jsonschema.validate(scaled, SCALED_OBJECT_SCHEMA)
    spec = scaled["spec"]
    assert spec["scaleTargetRef"]["name"] == GPU_DEPLOYMENT
    assert spec["scaleTargetRef"].get("kind", "Deployment") == "Deployment"
    assert spec["maxReplicaCount"] >= max(1, spec["minReplicaCount"])
    (trigger,) = spec["triggers"]
    assert trigger["type"] == "redis"
    assert trigger["metadata"]["listName"] == "gpu"
    assert int(trigger["metadata"]["listLength"]) >= 1


def test_keda_watches_the_broker_tint_uses() -> None:
    from workers.celery_app import GPU_QUEUE

    broker = urlparse(_one("ConfigMap", "tint-settings")["data"]["TINT_BROKER_URL"])
    trigger = _one("ScaledObject", GPU_DEPLOYMENT)["spec"]["triggers"][0]["metadata"]
    assert broker.scheme == "redis"
    assert trigger["address"] == f"{broker.hostname}:{broker.port or 6379}"
    assert trigger.get("databaseIndex", "0") == (broker.path.strip("/") or "0")
    assert trigger["listName"] == GPU_QUEUE
