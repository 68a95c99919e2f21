"""5. Database outage: PostgreSQL goes away mid-run and comes back.

The slow scenario runs a PostgreSQL server of its own (``pg_instance``), the real HTTP API and the
real dispatcher, whose pipelines run on the fake compute ports of the dispatcher tests (real
database, queue, leases and blob store; no rendering). Requests are accepted, the server is
stopped while some are in flight, the API is probed throughout the outage, and the server is
started again; twice. Invariants:
- while the database is down, intake answers 503 with Retry-After and a problem+json body (never
  500), reads answer the same, and /readyz answers 503;
- the dispatcher survives (its loop keeps running) and records nothing wrong;
- every request accepted before an outage completes exactly once afterwards: one ``completed``
  event, its status events in pipeline order without repeats, and no request failed.

The fast tests (``make test``) check the same answers on a database URL nobody listens on, and
that a pipeline write meeting an outage leaves the request to its lease instead of failing it.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from tests.integration.api_fixtures import PROBLEM_JSON, VALID_BODY, make_client, open_stores
from tests.integration.test_dispatcher import Rig
from tests.pubsub_emulator import free_port
from tests.reliability.ledger import Ledger
from tests.reliability.pg_instance import PostgresInstance, postgres_instance
from vividly_ray.bootstrap import Stores
from vividly_ray.domain.errors import StageFailed
from vividly_ray.domain.models import Grade, VideoRequest
from vividly_ray.domain.status import PIPELINE, RequestStatus
from vividly_ray.persistence.accounts import SqlAccounts
from vividly_ray.persistence.database import Database
from vividly_ray.persistence.dispatch_queue import SqlDispatchQueue
from vividly_ray.persistence.outbox import SqlWebhookOutbox
from vividly_ray.persistence.repository import SqlRequestRepository
from vividly_ray.service.dispatch import Dispatcher, DispatchPolicy, Outcome, dispatch_forever
from vividly_ray.storage.blobs import LocalBlobStore

pytestmark = pytest.mark.integration

LEASE_S = 1.5
SCENE_S = 0.3  # each of the four fake scenes takes this long
OUTAGE_S = 4.0  # longer than a lease: every lease held when it starts runs out
OUTAGES = 2
PER_ROUND = 5  # requests accepted before each outage
IN_FLIGHT = (
    RequestStatus.VALIDATING,
    RequestStatus.RETRIEVING,
    RequestStatus.GENERATING_SCRIPT,
    RequestStatus.GENERATING_VIDEO,
    RequestStatus.PROCESSING_VIDEO,
    RequestStatus.NOTIFYING,
)


def slow_scene(run: int, scene: int, stop: threading.Event) -> None:
    """A scene that takes a while and, like the real executor, gives up once told to stop."""
    time.sleep(SCENE_S)
    if stop.is_set():
        raise StageFailed("generating_video", "stopped", retryable=True)


def database_unavailable_problems(response: Any, *, intake: bool) -> list[str]:
    """What is wrong with an answer given while the database is down ([] when it is right)."""
    wrong: list[str] = []
    if response.status_code != 503:
        request = response.request
        wrong.append(f"{request.method} {request.url.path} answered {response.status_code}")
        return wrong
    if intake or response.request.url.path != "/readyz":
        if not response.headers.get("retry-after", "").isdigit():
            wrong.append(f"{response.request.url.path}: no Retry-After")
        if response.headers.get("content-type", "").split(";")[0] != PROBLEM_JSON:
            wrong.append(f"{response.request.url.path}: not problem+json")
        elif not response.json().get("type", "").endswith("/database-unavailable"):
            wrong.append(f"{response.request.url.path}: problem {response.json().get('type')}")
    return wrong


@dataclass
class Service:
    """The API, a dispatcher loop on its own thread, and what they saw."""

    stores: Stores
    rig: Rig
    client: TestClient
    stopping: threading.Event = field(default_factory=threading.Event)
    outcomes: list[Outcome] = field(default_factory=list)
    thread: threading.Thread | None = None
    crashed: list[BaseException] = field(default_factory=list)

    def start(self) -> None:
        policy = DispatchPolicy(lease_s=LEASE_S, max_attempts=6, retry_base_s=0.2)
        dispatcher = Dispatcher(
            self.stores.queue, self.stores.requests, self.rig.pipeline, policy, "dispatcher-1"
        )

        def loop() -> None:
            try:
                dispatch_forever(dispatcher, 2, self.stopping, 0.1, self.outcomes.append)
            except BaseException as exc:  # the loop must never end on its own
                self.crashed.append(exc)
                raise

        self.thread = threading.Thread(target=loop, name="dispatch-loop", daemon=True)
        self.thread.start()

    def alive(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    def stop(self) -> None:
        self.stopping.set()
        if self.thread is not None:
            self.thread.join(timeout=30)

    def submit(self, key: str) -> Any:
        return self.client.post("/v1/videos", json=VALID_BODY, headers={"Idempotency-Key": key})


@pytest.fixture
def postgres() -> Iterator[PostgresInstance]:
    with postgres_instance() as instance:
        yield instance


def _wait(condition: Callable[[], bool], timeout: float, poll: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if condition():
                return True
        except OperationalError:
            pass
        time.sleep(poll)
    return False


@pytest.mark.reliability_slow
def test_requests_accepted_before_an_outage_complete_exactly_once_after_it(
    postgres: PostgresInstance, tmp_path: Path, ledger: Ledger, caplog: pytest.LogCaptureFixture
) -> None:
    started = time.monotonic()
    stores = open_stores(tmp_path / "home", postgres.url)
    blobs = LocalBlobStore(tmp_path / "blobs")
    rig = Rig(stores.db, stores.requests, stores.queue, blobs, tmp_path / "s", slow_scene)
    service = Service(stores, rig, make_client(stores, auth_disabled=True))
    violations: list[str] = []
    accepted: list[str] = []
    in_flight_at_outage: set[str] = set()
    probes: Counter[int] = Counter()
    retried_keys: list[str] = []
    outage_seconds: list[float] = []
    service.start()
    try:
        for round_ in range(OUTAGES):
            batch: list[str] = []
            for n in range(PER_ROUND):
                answer = service.submit(f"before-{round_}-{n}")
                if answer.status_code != 202:
                    violations.append(
                        f"submit before outage {round_} answered {answer.status_code}"
                    )
                    continue
                batch.append(answer.json()["id"])
            accepted.extend(batch)

            def two_running(batch: list[str] = batch) -> bool:
                statuses = [stores.requests.get(r).status for r in batch]
                return sum(s in IN_FLIGHT for s in statuses) >= 2

            if not _wait(two_running, 20):
                violations.append(f"round {round_}: no two requests were running together")
            running = {r for r in batch if stores.requests.get(r).status in IN_FLIGHT}
            in_flight_at_outage |= running

            postgres.stop()
            down_at = time.monotonic()
            while time.monotonic() - down_at < OUTAGE_S:
                key = f"during-{round_}-{len(retried_keys)}"
                answers = [
                    (service.submit(key), True),
                    (service.client.get(f"/v1/videos/{accepted[0]}"), False),
                    (service.client.get("/v1/videos"), False),
                    (service.client.get("/readyz"), False),
                ]
                retried_keys.append(key)
                for answer, intake in answers:
                    probes[answer.status_code] += 1
                    violations.extend(database_unavailable_problems(answer, intake=intake))
                if service.client.get("/healthz").status_code != 200:
                    violations.append("/healthz failed while the database was down")
                time.sleep(0.3)
            if not service.alive():
                violations.append(f"the dispatcher loop died in outage {round_}")
            postgres.start()
            outage_seconds.append(time.monotonic() - down_at)

            if not _wait(lambda: service.client.get("/readyz").status_code == 200, 30):
                violations.append(f"/readyz stayed unready after outage {round_}")

            def batch_ended(batch: list[str] = batch) -> bool:
                return all(stores.requests.get(r).status.is_terminal for r in batch)

            # Each outage meets requests of its own.
            if not _wait(batch_ended, 60, poll=0.25):
                violations.append(f"the requests of round {round_} did not end within 60 s")

        # A client that was told to come back later does so, with the same Idempotency-Key:
        # nothing was recorded for those calls, so each is accepted now, once.
        for key in retried_keys[:3]:
            answer = service.submit(key)
            if answer.status_code != 202:
                violations.append(f"a retried submission answered {answer.status_code}")
            else:
                accepted.append(answer.json()["id"])
            if service.submit(key).status_code != 200:
                violations.append("a replayed submission was not answered as a replay")

        def all_ended() -> bool:
            return all(stores.requests.get(r).status.is_terminal for r in accepted)

        if not _wait(all_ended, 90, poll=0.25):
            violations.append("not every accepted request ended within 90 s")
        if not service.alive():
            violations.append("the dispatcher loop died")
    finally:
        service.stop()
    if service.crashed:
        violations.append(f"the dispatcher loop raised {service.crashed[0]!r}")

    completions = Counter(o.request_id for o in service.outcomes if o.status == "completed")
    outcome_kinds = Counter(o.status for o in service.outcomes)
    resumed = 0
    for request_id in accepted:
        record = stores.requests.get(request_id)
        statuses = [
            e.status for e in stores.requests.events(request_id) if e.event_type == "status"
        ]
        if record.status is not RequestStatus.COMPLETED:
            violations.append(f"{request_id} ended {record.status.value}: {record.error}")
        if statuses != list(PIPELINE):
            violations.append(f"{request_id} recorded {[s.value for s in statuses]}")
        if completions[request_id] != 1:
            violations.append(f"{request_id} completed {completions[request_id]} times")
        resumed += record.attempts > 1
    if len(in_flight_at_outage) < 2 * OUTAGES:
        violations.append(f"only {len(in_flight_at_outage)} requests were running at the outages")
    for request_id in in_flight_at_outage:
        if stores.requests.get(request_id).attempts < 2:
            violations.append(f"{request_id} was running at an outage but never claimed again")
    if len(set(accepted)) != len(accepted):
        violations.append("a request id was accepted twice")
    stores.db.dispose()
    if probes[500]:
        violations.append(f"{probes[500]} answers were 500 during the outages")
    crashes = [r for r in caplog.records if r.getMessage() == "pipeline crashed"]
    if crashes:
        violations.append(f"{len(crashes)} pipelines crashed instead of ending with an outcome")

    ledger.record(
        "5. database outage: PostgreSQL stopped mid-run and started again",
        runs=len(accepted),
        faults=postgres.stops,
        violations=len(violations),
        seconds=time.monotonic() - started,
        in_flight_at_outage=len(in_flight_at_outage),
        resumed=resumed,
        outage_s=round(sum(outage_seconds), 1),
        probes=sum(probes.values()),
        probe_503=probes[503],
        probe_other=sum(v for k, v in probes.items() if k != 503),
        retried_after_outage=min(3, len(retried_keys)),
        outcomes=dict(outcome_kinds),
    )
    assert violations == []


# -- fast variants (make test) -------------------------------------------------------------------


def _unreachable_stores(tmp_path: Path) -> Stores:
    """Every store on a PostgreSQL URL whose port nobody listens on."""
    db = Database.from_url(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/nowhere")
    repo = SqlRequestRepository(db)
    queue = SqlDispatchQueue(db, repo)
    blobs = LocalBlobStore(tmp_path / "blobs")
    return Stores(db, repo, queue, SqlAccounts(db), SqlWebhookOutbox(db), blobs)


def test_the_api_answers_503_with_retry_after_when_the_database_is_unreachable(
    tmp_path: Path, ledger: Ledger
) -> None:
    started = time.monotonic()
    stores = _unreachable_stores(tmp_path)
    violations: list[str] = []
    for auth_disabled in (True, False):
        client = make_client(stores, auth_disabled=auth_disabled)
        headers = {} if auth_disabled else {"Authorization": "Bearer vk_some_key"}
        answers = [
            (client.post("/v1/videos", json=VALID_BODY, headers=headers), True),
            (client.get("/v1/videos", headers=headers), False),
            (client.get("/v1/videos/3f2c0000-0000-0000-0000-000000000000", headers=headers), False),
            (client.get("/readyz"), False),
        ]
        for answer, intake in answers:
            violations.extend(database_unavailable_problems(answer, intake=intake))
        if client.get("/healthz").status_code != 200:
            violations.append("/healthz depends on the database")
        body = answers[0][0].json()
        if answers[0][0].status_code == 503 and "127.0.0.1" in str(body):
            violations.append("the 503 body leaks the driver's message")
    stores.db.dispose()
    ledger.record(
        "5. database outage (fast): API on an unreachable database",
        runs=8,
        faults=8,
        violations=len(violations),
        seconds=time.monotonic() - started,
    )
    assert violations == []


class OutageWriter:
    """The repository as the pipeline's writer, with one real driver error handed back for the
    write that ``cut_at`` picks (the n-th progress write of the first pipeline)."""

    def __init__(self, repo: SqlRequestRepository, error: OperationalError, cut_at: int) -> None:
        self._repo = repo
        self._error = error
        self._cut_at = cut_at
        self.progress_writes = 0
        self.cut = 0

    def transition(self, *args: Any, **kwargs: Any) -> object:
        return self._repo.transition(*args, **kwargs)

    def progress(self, *args: Any, **kwargs: Any) -> object:
        self.progress_writes += 1
        if self.progress_writes == self._cut_at:
            self.cut += 1
            raise self._error
        return self._repo.progress(*args, **kwargs)

    def merge_metadata(self, *args: Any, **kwargs: Any) -> object:
        return self._repo.merge_metadata(*args, **kwargs)


class RenewOutageQueue(SqlDispatchQueue):
    """The real queue, whose lease renewals fail while ``down`` is set."""

    def __init__(self, db: Database, repo: SqlRequestRepository, error: OperationalError) -> None:
        super().__init__(db, repo)
        self.down = threading.Event()
        self._error = error

    def renew(self, request_id: str, token: int, lease_s: float) -> RequestStatus:
        if self.down.is_set():
            raise self._error
        return super().renew(request_id, token, lease_s)


def _real_connection_error() -> OperationalError:
    engine = create_engine(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/nowhere")
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        return exc
    finally:
        engine.dispose()
    raise AssertionError("a connection to a closed port succeeded")


def test_a_pipeline_write_that_meets_an_outage_leaves_the_request_to_its_lease(
    postgres_url: str, tmp_path: Path, ledger: Ledger
) -> None:
    started = time.monotonic()
    db = Database.from_url(postgres_url)
    db.create_schema()
    repo = SqlRequestRepository(db)
    error = _real_connection_error()
    queue = RenewOutageQueue(db, repo, error)
    violations: list[str] = []
    try:
        rig = Rig(db, repo, queue, LocalBlobStore(tmp_path / "blobs"), tmp_path / "s")
        writer = OutageWriter(repo, error, cut_at=2)  # the second scene's progress
        policy = DispatchPolicy(lease_s=0.6, max_attempts=3, retry_base_s=0.1)
        dispatcher = Dispatcher(queue, writer, rig.pipeline, policy, "dispatcher-1")
        request = VideoRequest("Explain the water cycle", Grade(5), 1, organization_id="org")
        first_id = repo.create(request)[0].request_id

        first = dispatcher.run_next()
        if first is None or first.status != "database_unavailable":
            violations.append(f"a write that met the outage ended as {first}")
        record = repo.get(first_id)
        if record.status is not RequestStatus.GENERATING_VIDEO or record.error is not None:
            violations.append(f"the outage was recorded: {record.status.value} {record.error}")
        if dispatcher.run_next() is not None:
            violations.append("the request was claimed again while its lease was still held")
        time.sleep(0.7)  # the lease runs out
        second = dispatcher.run_next()
        if second is None or second.status != "completed":
            violations.append(f"the resumed request ended as {second}")
        statuses = [e.status for e in repo.events(first_id) if e.event_type == "status"]
        if statuses != list(PIPELINE):
            violations.append(f"recorded {[s.value for s in statuses]}")

        # A holder whose renewals cannot reach the database stops once its lease has run out.
        stop_seen: dict[str, float] = {}

        def wait_for_stop(run: int, scene: int, stop: threading.Event) -> None:
            if scene != 1:
                return
            queue.down.set()
            began = time.monotonic()
            if stop.wait(5):
                stop_seen["after_s"] = time.monotonic() - began
            queue.down.clear()
            raise StageFailed("generating_video", "stopped", retryable=True)

        rig.scene_hook = wait_for_stop
        second_id = repo.create(request)[0].request_id
        third = dispatcher.run_next()
        if "after_s" not in stop_seen:
            violations.append("the pipeline kept running after its lease ran out")
        # A lease after the last renewal that reached the database (one heartbeat before the
        # outage at most), noticed at a heartbeat.
        elif not (
            policy.lease_s - policy.heartbeat_s
            <= stop_seen["after_s"]
            < policy.lease_s + policy.heartbeat_s + 0.5
        ):
            violations.append(f"the pipeline was stopped after {stop_seen['after_s']:.2f} s")
        if third is None or third.status != "retry":
            violations.append(f"the stopped pipeline ended as {third}")
        if repo.get(second_id).status.is_terminal:
            violations.append("the stopped request was ended")
    finally:
        db.dispose()
    ledger.record(
        "5. database outage (fast): a write or a renewal meets the outage",
        runs=2,
        faults=writer.cut + 1,
        violations=len(violations),
        seconds=time.monotonic() - started,
        stopped_after_s=round(stop_seen.get("after_s", -1.0), 2),
    )
    assert violations == []
