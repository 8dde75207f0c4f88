"""deploy/: the compose file and the worker image agree with each other and with Tint's settings."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
KNOWN_TINT_VARS = {
    "TINT_DATABASE_URL",
    "TINT_BROKER_URL",
    "TINT_STORAGE_URL",
    "TINT_S3_ENDPOINT",
    "TINT_DEVICE",
    "TINT_RESULT_TIMEOUT_S",
    "TINT_LOG_LEVEL",
}
TINT_SERVICES = ("migrate", "api", "worker-gpu", "worker-cpu")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, Any]:
    return compose["services"]


def environment(service: dict[str, Any]) -> dict[str, str]:
    """A service's environment as a dict, whether written as a mapping or as KEY=VALUE lines."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict(line.split("=", 1) if "=" in line else (line, "") for line in env)
    return {key: str(value) for key, value in env.items()}


def dependencies(service: dict[str, Any]) -> dict[str, str]:
    """A service's depends_on as {name: condition}, whether written as a list or a mapping."""
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):
        return dict.fromkeys(deps, "service_started")
    return {name: (spec or {}).get("condition", "service_started") for name, spec in deps.items()}


def test_compose_defines_the_services(services: dict[str, Any]) -> None:
    expected = {"redis", "postgres", "minio", "minio-buckets", *TINT_SERVICES}
    assert expected <= set(services)


def test_every_tint_variable_is_a_known_setting(services: dict[str, Any]) -> None:
    named = {key for service in services.values() for key in environment(service) if key.startswith("TINT_")}
    assert named, "no TINT_ variables at all"
    assert named <= KNOWN_TINT_VARS, f"unknown settings: {sorted(named - KNOWN_TINT_VARS)}"


def test_every_dependency_names_a_defined_service(services: dict[str, Any]) -> None:
    for name, service in services.items():
        for dependency in dependencies(service):
            assert dependency in services, f"{name} depends on undefined service {dependency!r}"


@pytest.mark.parametrize("name", TINT_SERVICES)
def test_tint_services_point_at_the_real_services(services: dict[str, Any], name: str) -> None:
    env = environment(services[name])
    assert env["TINT_DATABASE_URL"].startswith("postgresql+psycopg://tint:")
    assert env["TINT_DATABASE_URL"].endswith("@postgres:5432/tint")
    assert env["TINT_BROKER_URL"] == "redis://redis:6379/0"
    assert env["TINT_STORAGE_URL"] == "s3://tint-assets"
    assert env["TINT_S3_ENDPOINT"] == "http://minio:9000"
    assert {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} <= set(env)


@pytest.mark.parametrize("name", ["api", "worker-gpu", "worker-cpu"])
def test_long_running_services_wait_for_migration_and_bucket(services: dict[str, Any], name: str) -> None:
    deps = dependencies(services[name])
    assert deps["migrate"] == "service_completed_successfully"
    assert deps["minio-buckets"] == "service_completed_successfully"


def test_migrate_upgrades_the_database_after_postgres_is_healthy(services: dict[str, Any]) -> None:
    migrate = services["migrate"]
    assert migrate["command"] == ["db", "upgrade"]
    assert dependencies(migrate)["postgres"] == "service_healthy"


def test_bucket_job_creates_the_storage_bucket(services: dict[str, Any]) -> None:
    bucket = environment(services["worker-gpu"])["TINT_STORAGE_URL"].removeprefix("s3://").split("/")[0]
    script = " ".join(services["minio-buckets"]["command"])
    assert re.search(rf"mc mb --ignore-existing \S+/{re.escape(bucket)}\b", script)


def test_gpu_worker_reserves_one_nvidia_gpu_and_serves_the_gpu_queue(services: dict[str, Any]) -> None:
    worker = services["worker-gpu"]
    devices = worker["deploy"]["resources"]["reservations"]["devices"]
    assert devices == [{"driver": "nvidia", "count": 1, "capabilities": ["gpu"]}]
    assert worker["command"] == ["worker", "--queues", "gpu", "--concurrency", "1"]
    assert environment(worker)["TINT_DEVICE"] == "cuda"
    assert "cu" in worker["build"]["args"]["TORCH_INDEX_URL"]


def test_cpu_worker_serves_the_cpu_queue(services: dict[str, Any]) -> None:
    assert services["worker-cpu"]["command"][:3] == ["worker", "--queues", "cpu"]


def test_tint_services_build_the_worker_image(services: dict[str, Any]) -> None:
    for name in TINT_SERVICES:
        build = services[name]["build"]
        assert (DEPLOY / build["context"] / build["dockerfile"]).resolve() == DEPLOY / "Dockerfile.worker"


def test_named_volumes_are_declared(compose: dict[str, Any], services: dict[str, Any]) -> None:
    for name, service in services.items():
        for mount in service.get("volumes", []):
            source = mount.split(":", 1)[0]
            if not source.startswith((".", "/")):
                assert source in compose.get("volumes", {}), f"{name} mounts undeclared volume {source!r}"


def test_worker_image_is_slim_non_root_with_tint_entrypoint() -> None:
    dockerfile = (DEPLOY / "Dockerfile.worker").read_text()
    assert re.search(r"^FROM python:3\.11-slim\b", dockerfile, re.M)
    users = re.findall(r"^USER\s+(\S+)", dockerfile, re.M)
    assert users and users[-1] not in ("root", "0")
    assert re.search(r'^ENTRYPOINT \["tint"\]', dockerfile, re.M)
    assert re.search(r"^ARG TORCH_INDEX_URL=https://download\.pytorch\.org/whl/cpu$", dockerfile, re.M)


def test_worker_image_pins_the_torch_version_of_pyproject() -> None:
    pyproject = tomllib.loads((DEPLOY.parent / "pyproject.toml").read_text())
    pins = [dep for dep in pyproject["project"]["dependencies"] if dep.startswith("torch==")]
    assert pins, "pyproject.toml no longer pins torch; update deploy/Dockerfile.worker with it"
    version = pins[0].removeprefix("torch==")
    dockerfile = (DEPLOY / "Dockerfile.worker").read_text()
    assert re.search(rf"^ARG TORCH_VERSION={re.escape(version)}$", dockerfile, re.M)


def test_known_variables_are_fields_of_the_settings() -> None:
    from workers.settings import Settings

    fields = {f"TINT_{name.upper()}" for name in Settings.model_fields}
    assert KNOWN_TINT_VARS <= fields, f"not settings: {sorted(KNOWN_TINT_VARS - fields)}"
