"""The served OpenAPI spec is accurate: schemathesis generates requests for every operation (as an admin,
so role checks do not hide the handlers) and every answer is no 5xx and matches the documented status
codes, content types and schemas. Bounded: a few examples per operation."""

from __future__ import annotations

import pytest
import requests
from api_server import Api, manifest_files, wait_jobs
from hypothesis import HealthCheck, Phase, given, settings

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is not installed (dev extra)")
from schemathesis.checks import (  # noqa: E402
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

EXAMPLES = 3
# The event stream stays open until its timeout, and revoking tokens would lock the run out.
SKIP = {("GET", "/api/batches/{batch_id}/events"), ("DELETE", "/api/tokens/{token_id}")}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def test_no_operation_answers_5xx_or_off_spec(api: Api) -> None:
    with api.client("sam") as sam:
        batch = sam.post("/api/batches", files=manifest_files("baby")).json()["id"]
        wait_jobs(sam, batch=batch)
    schema = schemathesis.openapi.from_url(f"{api.url}/openapi.json")
    headers = {"Authorization": f"Bearer {api.tokens['ada']}"}
    failures = []
    session = requests.Session()  # one connection pool for every call
    operations = [op.ok() for op in schema.get_all_operations()]
    assert len(operations) > 20
    for operation in operations:
        if (operation.method.upper(), operation.path) in SKIP:
            continue

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def run(case) -> None:
            response = case.call(base_url=api.url, headers=headers, timeout=30, session=session)
            case.validate_response(response, checks=CHECKS)

        try:
            run()
        except Exception as exc:  # collect every operation's failure, then report them together
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
    assert not failures, "\n\n".join(failures)
