"""Scenario 13, fuzzing the API from its own OpenAPI document (schemathesis, in process), with a
real key and without one, on SQLite and PostgreSQL.

For every documented operation, schemathesis generates requests that fit the schema (positive)
and requests that break it (negative); some are aimed at real requests of the caller's
organization (one completed with its files, one waiting for an answer, others to cancel and
erase). Every answer must be free of server errors; every error must be an RFC 9457
problem+json body whose ``status`` is the response's; every response must match what the
document declares (status code, content type, headers, body schema); and a request that breaks
the schema must be refused.

Generated text rarely holds what breaks a service below its schema (a NUL that PostgreSQL will
not store, a lone surrogate, digits that are not ASCII, a number of 5,000 digits), so each
parameter and body field is also sent a short list of such values, one at a time.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import Case, GenerationMode
from schemathesis.core.failures import FailureGroup
from schemathesis.core.transport import Response
from schemathesis.specs.openapi import checks as openapi_checks

from tests.conftest import fresh_schema
from tests.integration.api_fixtures import (
    PROBLEM_JSON,
    VALID_BODY,
    bearer,
    deliver_files,
    make_client,
    open_stores,
    walk_to_completed,
)
from tests.reliability.ledger import Ledger
from vividly_ray.bootstrap import Stores
from vividly_ray.domain.models import DELIVERED_FILES, delivered_key
from vividly_ray.domain.status import RequestStatus
from vividly_ray.service.file_links import signed_path
from vividly_ray.service.intake import IntakePolicy

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]

FULL = os.environ.get("VIVIDLY_RELIABILITY") == "full"
# Examples per operation, caller and generation mode.
EXAMPLES = {"sqlite": 80 if FULL else 12, "postgresql": 40 if FULL else 5}
ORG = "org-fuzz"
CONFORMANCE = [
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_headers_conformance,
    openapi_checks.response_schema_conformance,
]
CALL_TIMEOUT_S = 10.0
# Values each parameter gets once (where HTTP can carry them), the others kept valid.
EDGE_TEXT = [
    "\x00",
    "a\x00b",
    "\u00b2",
    "\u0663",
    "\u00e9",
    "\U0001f642",
    "9" * 30,
    "9" * 5000,
    "",
    "x" * 300,
]
# Values each JSON body field gets once, the rest of the body kept valid.
EDGE_JSON: list[Any] = [
    "\x00",
    "a\ud800b",
    "\u00b2",
    "x" * 600,
    "",
    10**30,
    -1,
    1e308,
    True,
    None,
    [],
    {"nested": ["deep"]},
]


@dataclass
class Target:
    stores: Stores
    schema: Any
    key: str
    # Ids of the organization's requests that generated cases are also aimed at, per operation.
    pinned: dict[str, list[dict[str, str]]]
    # A valid value of every parameter and body, the base each edge value is put into.
    valid: dict[str, dict[str, Any]]


@dataclass
class Findings:
    cases: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    unsatisfiable: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)

    def add(self, case: Case[Any], response: Response | None, problem: str) -> None:
        status = "no response" if response is None else response.status_code
        try:
            curl = case.as_curl_command()
        except Exception:  # a case schemathesis cannot render still counts
            curl = repr(case)
        self.violations.append(f"{case.operation.label} -> {status}: {problem}\n    {curl}")


def _build(url: str, home: Path) -> Iterator[Target]:
    stores = open_stores(home, url)
    # No DNS lookups for generated callback hosts, and a queue that never fills: a 503 for a
    # full queue is right, but not what this scenario looks for.
    policy = IntakePolicy(max_queue_depth=10**9, allow_private_callbacks=True)
    client = make_client(stores, policy=policy, rate_limit_per_minute=10**9, max_body_bytes=4096)
    key = stores.accounts.create_key(ORG).key
    owner = bearer(key)

    def new_request() -> str:
        response = client.post("/v1/videos", json=VALID_BODY, headers=owner)
        assert response.status_code == 202, response.text
        request_id: str = response.json()["id"]
        return request_id

    def asking() -> str:
        request_id = new_request()
        stores.requests.transition(request_id, RequestStatus.VALIDATING)
        stores.requests.transition(
            request_id,
            RequestStatus.CLARIFICATION_NEEDED,
            details={"questions": ["Which part of the water cycle?"]},
        )
        return request_id

    completed = new_request()
    walk_to_completed(stores, completed)
    deliver_files(stores, completed, b"fuzzed video bytes " * 50)
    for name, media in DELIVERED_FILES.items():  # the JSON files hold JSON
        if media == "application/json":
            stores.blobs.put_bytes(delivered_key(completed, name), b'{"title": "fuzz"}', media)
    waiting = asking()
    reads = [{"request_id": completed}, {"request_id": waiting}]
    pinned = {
        "GET /v1/videos/{request_id}": reads,
        "GET /v1/videos/{request_id}/events": reads,
        "GET /v1/videos/{request_id}/files/{name}": [
            {"request_id": completed, "name": name} for name in DELIVERED_FILES
        ],
        # Operations that change a request get requests of their own to change.
        "POST /v1/videos/{request_id}/cancel": [
            {"request_id": new_request()},
            {"request_id": asking()},
        ],
        "POST /v1/videos/{request_id}/clarification": [{"request_id": asking()} for _ in range(3)],
        "DELETE /v1/videos/{request_id}": [{"request_id": new_request()}, {"request_id": asking()}],
    }
    link = signed_path(stores.accounts.webhook_secret(ORG), completed, "video.mp4", 600)
    signed = {k: v[0] for k, v in parse_qs(urlsplit(link).query).items()}
    valid: dict[str, dict[str, Any]] = {
        "path": {"request_id": completed, "name": "video.mp4"},
        "query": {"limit": "5", "after": "1", **signed},
        "header": {
            "authorization": f"Bearer {key}",
            "last-event-id": "1",
            "range": "bytes=0-9",
            "if-none-match": '"nothing"',
        },
        "body": {
            "POST /v1/videos": {**VALID_BODY, "student_id": "s-1", "correlation_id": "c-1"},
            "POST /v1/videos/{request_id}/clarification": {"answer": "the part about rain"},
        },
    }
    schema = schemathesis.openapi.from_asgi("/openapi.json", client.app)
    try:
        yield Target(stores, schema, key, pinned, valid)
    finally:
        stores.db.dispose()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def target(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Target]:
    home = tmp_path_factory.mktemp(f"fuzz-{request.param}")
    if request.param == "sqlite":
        yield from _build(f"sqlite:///{home / 'vividly.db'}", home / "home")
    else:
        with fresh_schema() as url:
            yield from _build(url, home / "home")


def _problem_errors(response: Response) -> list[str]:
    """What keeps an error response from being a problem+json body of its own status."""
    content_type = (response.headers.get("content-type") or [""])[0]
    if content_type.split(";")[0].strip() != PROBLEM_JSON:
        return [f"an error with content type {content_type!r}"]
    try:
        body = response.json()
    except ValueError:
        return ["an error body that is not JSON"]
    if not isinstance(body, dict):
        return [f"an error body that is not an object: {body!r}"]
    problems = []
    for name in ("type", "title"):
        if not isinstance(body.get(name), str) or not body.get(name):
            problems.append(f"a problem without {name}")
    if body.get("status") != response.status_code:
        problems.append(f"a problem whose status {body.get('status')!r} is not the response's")
    return problems


def _judge(case: Case[Any], response: Response, findings: Findings) -> None:
    findings.statuses[response.status_code] += 1
    if response.status_code >= 500:
        findings.add(case, response, f"server error: {response.text[:300]}")
        return
    if response.status_code >= 400:
        for problem in _problem_errors(response):
            findings.add(case, response, problem)
    checks = list(CONFORMANCE)
    negative = case.meta is not None and case.meta.generation.mode is GenerationMode.NEGATIVE
    if negative and response.status_code < 400:
        # Any 4xx refuses a request that breaks the schema (a 413 too); schemathesis judges the
        # rest, knowing which broken values become valid once serialized.
        checks.append(openapi_checks.negative_data_rejection)
    try:
        case.validate_response(response, checks=checks)
    except FailureGroup as group:
        for failure in group.exceptions:
            findings.add(case, response, f"{failure.title}: {failure.message[:300]}")


def _fuzz(
    operation: Any,
    strategy: st.SearchStrategy[Case[Any]],
    examples: int,
    findings: Findings,
    label: str,
) -> None:
    @settings(
        max_examples=examples,
        # The same cases on every `make test` run; `make reliability` explores new ones.
        derandomize=not FULL,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case: Case[Any]) -> None:
        findings.cases += 1
        try:
            response = case.call(timeout=CALL_TIMEOUT_S)
        except Exception as exc:  # the app raised through the transport
            findings.add(case, None, f"the call failed: {exc!r}"[:400])
            return
        _judge(case, response, findings)

    try:
        run()
    except Unsatisfiable:
        # No value breaks this operation's schema (a header that may be any text, say).
        findings.unsatisfiable.append(label)


def _edge_cases(operation: Any, target: Target) -> Iterator[Case[Any]]:
    """Cases that each put one edge value into one parameter or body field of ``operation``."""
    declared = {(p.location.value, p.name.lower()) for p in operation.iter_parameters()}
    pinned = target.pinned.get(operation.label, [{}])[0]

    def base(location: str) -> dict[str, Any]:
        values = dict(target.valid[location])
        if location == "path":
            values.update(pinned)
        return {name: v for name, v in values.items() if (location, name) in declared}

    body = target.valid["body"].get(operation.label)

    def make(**parts: Any) -> Case[Any]:
        kwargs = {
            "path_parameters": base("path"),
            "query": base("query"),
            "headers": base("header"),
            **parts,
        }
        if body is not None:
            kwargs.setdefault("body", body)
            kwargs["media_type"] = "application/json"
        case: Case[Any] = operation.Case(**kwargs)
        return case

    for location, name in sorted(declared):
        container = {"path": "path_parameters", "query": "query", "header": "headers"}[location]
        for value in EDGE_TEXT:
            if location == "header" and not _sendable_header(value):
                continue  # HTTP cannot carry it (servers refuse it); nothing of ours to test
            if location == "path" and not value:
                continue  # an empty segment is another route's URL
            yield make(**{container: {**base(location), name: value}})
    if body is not None:
        for field_name in sorted({*body, *EXTRA_FIELDS.get(operation.label, ())}):
            for edge in EDGE_JSON:
                yield make(body={**body, field_name: edge})


def _sendable_header(value: str) -> bool:
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return bool(value) and not any(ord(char) < 32 for char in value)


EXTRA_FIELDS = {
    "POST /v1/videos": ("aspect", "resolution", "voice", "request_id", "callback_url"),
}


def _edges(target: Target, operations: list[Any], findings: Findings) -> int:
    sent = 0
    for operation in operations:
        for case in _edge_cases(operation, target):
            sent += 1
            findings.cases += 1
            try:
                response = case.call(timeout=CALL_TIMEOUT_S)
            except Exception as exc:  # the app raised through the transport
                findings.add(case, None, f"the call failed: {exc!r}"[:400])
                continue
            _judge(case, response, findings)
    return sent


@pytest.mark.parametrize("caller", ["with a key", "without a key"])
def test_generated_requests_get_no_server_error_and_conforming_answers(
    target: Target, ledger: Ledger, caller: str
) -> None:
    backend = "sqlite" if target.stores.db.engine.dialect.name == "sqlite" else "postgresql"
    examples = EXAMPLES[backend]
    findings = Findings()
    started = time.perf_counter()
    headers = bearer(target.key) if caller == "with a key" else None
    operations = [result.ok() for result in target.schema.get_all_operations()]
    modes = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
    for operation in operations:
        for mode in modes:
            strategies = [operation.as_strategy(mode, headers=headers)]
            for values in target.pinned.get(operation.label, []):
                strategies.append(
                    operation.as_strategy(mode, headers=headers, path_parameters=values)
                )
            label = f"{operation.label} ({mode.value})"
            _fuzz(operation, st.one_of(strategies), examples, findings, label)
    edges = _edges(target, operations, findings) if caller == "with a key" else 0
    covered = {operation.label for operation in operations}
    ledger.record(
        f"13. API fuzzing, {caller} ({backend})",
        runs=findings.cases,
        faults=findings.cases,
        violations=len(findings.violations),
        seconds=time.perf_counter() - started,
        operations=len(covered),
        statuses=dict(sorted(findings.statuses.items())),
        no_negative_data=len(findings.unsatisfiable),
        edge_values=edges,
    )
    assert {"POST /v1/videos", "GET /v1/videos/{request_id}/files/{name}"} <= covered
    assert findings.violations == [], "\n".join(findings.violations[:15])
