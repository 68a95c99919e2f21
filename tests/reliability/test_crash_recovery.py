"""1. Crash recovery: `vividly serve` SIGKILLed at ten random points of the pipeline.

A few short requests (1 minute, 480p) run on PostgreSQL with one VIVIDLY_HOME (the blob store
and its scene cache) while the whole stack, the serving process and every Ray process it
started, is SIGKILLed ten times and started again after each kill. Each kill point is drawn from
a seeded random generator: a stage among validating..notifying and, within it, a delay after the
stage is entered, or for generating_video the number of scenes finished in the current attempt.
The test watches the database closely (a few milliseconds per look) and kills as soon as some
request stands at the drawn point. The first two requests are submitted together; another is
submitted when no request still running can reach the point, up to four; past that, a point the
running requests can reach is drawn instead. Each kill records where it was aimed and the stage
the request was in once everything was dead.

Every stack has a Ray temp folder of its own (``stack.Stack``), and none starts before every
process of the one before is gone. After the last kill the stack is started once more and
every request runs to its end. Then, over the whole history:
- every accepted request ends exactly once: ``completed``, with exactly one ``completed`` event;
- each stage's status event appears at most once per request, in pipeline order;
- the attempts counter equals the claims the dispatchers logged for the request;
- exactly one delivered video per request in the blob store, and no other;
- scenes finished before a kill come back from the cache: ``scenes_reused`` is at least the
  number of scenes seen finished at any kill (all of them for a kill after generating_video);
- each video opens with a video and an audio stream, 480 lines high, and its length is within
  3% of the manifest's.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import av
import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection
from sqlalchemy.pool import NullPool

from tests.conftest import POSTGRES_URL, fresh_schema
from tests.e2e.serve_process import service_env
from tests.reliability.ledger import Ledger
from tests.reliability.stack import Stack
from vividly_ray.bootstrap import build_stores
from vividly_ray.domain.status import PIPELINE
from vividly_ray.settings import load_settings

pytestmark = [pytest.mark.e2e, pytest.mark.reliability_slow, pytest.mark.timeout(900)]

SCENARIO = "1. crash recovery: SIGKILL of vividly serve x10"
KILLS = 10
LEASE_S = 4
SEED = int(os.environ.get("VIVIDLY_RELIABILITY_SEED", "20240601"))
QUESTIONS = (
    "Explain the water cycle",
    "Why do we have seasons on Earth?",
    "How does photosynthesis work?",
    "Why does the Moon have phases?",
)
# Submitted only when every request has ended and kills are left to make.
EXTRA_QUESTIONS = (
    "How do volcanoes erupt?",
    "What causes earthquakes?",
    "How do magnets work?",
    "What is the rock cycle?",
    "How does the heart pump blood?",
    "How do tides work?",
)
IN_FLIGHT = 2  # requests started together (the dispatcher drives two pipelines)
KILL_STAGES = (
    "validating",
    "retrieving",
    "generating_script",
    "generating_video",
    "processing_video",
    "notifying",
)
# The longest delay drawn after a stage is entered: about half of what the stage takes on the
# 2-core machine, so that most kills land inside it.
STAGE_DELAY_S = {
    "validating": 0.03,
    "retrieving": 0.01,
    "generating_script": 0.1,
    "generating_video": 0.3,
    "processing_video": 0.2,
    "notifying": 0.005,
}
MAX_SCENES_DONE = 4  # a 1-minute request has five or six scenes
ENDED = frozenset({"completed", "failed", "cancelled"})
STAGE_INDEX = {status.value: number for number, status in enumerate(PIPELINE)}
TOLERANCE = 0.03  # video length against the manifest


@dataclass(frozen=True)
class KillPoint:
    stage: str
    scenes: int  # generating_video: scenes finished in the current attempt
    delay_s: float

    def label(self) -> str:
        if self.stage == "generating_video":
            return f"{self.stage}@{self.scenes}+{self.delay_s * 1000:.0f}ms"
        return f"{self.stage}+{self.delay_s * 1000:.0f}ms"


def draw(rng: random.Random, stages: tuple[str, ...] = KILL_STAGES) -> KillPoint:
    stage = rng.choice(stages)
    scenes = rng.randint(0, MAX_SCENES_DONE) if stage == "generating_video" else 0
    return KillPoint(stage, scenes, round(rng.uniform(0, STAGE_DELAY_S[stage]), 4))


@dataclass
class Row:
    status: str
    lease_owner: str | None
    attempts: int
    event_sequence: int


class Watch:
    """Reads the requests straight from the database, fast enough to see a 10 ms stage."""

    def __init__(self, url: str) -> None:
        self._engine = create_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
        self._conn: Connection = self._engine.connect()

    def rows(self) -> dict[str, Row]:
        found = self._conn.execute(
            text(
                "SELECT request_id, status, lease_owner, attempts, event_sequence "
                "FROM content_requests"
            )
        ).all()
        return {r[0]: Row(r[1], r[2], int(r[3]), int(r[4])) for r in found}

    def scenes_done(self, request_id: str, after_sequence: int) -> int:
        """Scenes reported finished in events after ``after_sequence`` (the current attempt)."""
        details = self._conn.execute(
            text(
                "SELECT details FROM request_events WHERE request_id = :id "
                "AND event_type = 'scene' AND sequence > :after ORDER BY sequence DESC LIMIT 1"
            ),
            {"id": request_id, "after": after_sequence},
        ).scalar()
        if details is None:
            return 0
        data = details if isinstance(details, dict) else json.loads(details)
        return int(data.get("scenes_done", 0))

    def close(self) -> None:
        self._conn.close()
        self._engine.dispose()


@dataclass
class History:
    """What the scenario did and saw, kill by kill."""

    rng: random.Random
    requests: list[str] = field(default_factory=list)
    questions: list[str] = field(default_factory=lambda: [*QUESTIONS, *EXTRA_QUESTIONS])
    kills: list[dict[str, Any]] = field(default_factory=list)
    baseline: dict[str, int] = field(default_factory=dict)  # event sequence at the last kill
    least_reused: Counter[str] = field(default_factory=Counter)  # scenes seen done at a kill
    all_done: set[str] = field(default_factory=set)  # killed after generating_video
    claims: Counter[str] = field(default_factory=Counter)
    startup_s: list[float] = field(default_factory=list)
    restart_to_ready_s: list[float] = field(default_factory=list)
    redrawn: int = 0
    submitted_at_kill: list[int] = field(default_factory=list)

    def submit(self, client: httpx.Client) -> str:
        question = self.questions.pop(0)
        answer = client.post(
            "/v1/videos",
            json={
                "student_query": question,
                "grade_level": "6",
                "duration_minutes": 1,
                "resolution": "480p",
            },
        )
        assert answer.status_code == 202, answer.text
        request_id: str = answer.json()["id"]
        self.requests.append(request_id)
        return request_id


@pytest.fixture
def plain_postgres_url() -> Iterator[str]:
    """A fresh schema, addressed as the platform's secret does (plain postgresql://)."""
    plain = "postgresql://" + POSTGRES_URL.split("://", 1)[1]
    with fresh_schema(plain) as url:
        yield url


@pytest.fixture
def stacks() -> Iterator[list[Stack]]:
    """Every stack the scenario starts; whatever is left of them is killed at the end."""
    started: list[Stack] = []
    yield started
    left: dict[int, str] = {}
    for stack in started:
        left.update(stack.close())
    assert left == {}, f"processes of a killed stack survived: {left}"


def _hunt(stack: Stack, watch: Watch, history: History, point: KillPoint) -> dict[str, Any]:
    """Wait until some request stands at ``point`` (submitting or re-drawing when none can
    reach it), then SIGKILL the whole stack; returns what the kill hit."""
    client = httpx.Client(base_url=stack.url, timeout=30)
    planned = point
    deadline = time.monotonic() + 240
    refreshed = 0.0
    victim = ""
    while not victim:
        assert time.monotonic() < deadline, f"never reached {point.label()}: {watch.rows()}"
        now = time.monotonic()
        if now - refreshed > 1.0:  # the stack's pids, for a kill that reaches all at once
            stack.refresh()
            refreshed = now
        if not history.requests:  # the first requests start together
            for _ in range(IN_FLIGHT):
                history.submit(client)
        rows = watch.rows()
        unfinished = {rid: row for rid, row in rows.items() if row.status not in ENDED}
        budget_left = len(history.requests) < len(QUESTIONS)
        goal = STAGE_INDEX[point.stage]
        reachable = [rid for rid, row in unfinished.items() if STAGE_INDEX[row.status] <= goal]
        if not reachable:
            if budget_left or not unfinished:
                history.submit(client)  # a new request passes every stage
                history.submitted_at_kill.append(len(history.kills) + 1)
            else:
                # Nothing can reach the point any more: draw one that can be reached.
                earliest = min(STAGE_INDEX[row.status] for row in unfinished.values())
                stages = tuple(s for s in KILL_STAGES if STAGE_INDEX[s] >= earliest)
                point = draw(history.rng, stages)
                history.redrawn += 1
            continue
        for rid in reachable:
            if unfinished[rid].status != point.stage:
                continue
            if point.stage == "generating_video":
                done = watch.scenes_done(rid, history.baseline.get(rid, 0))
                if done < point.scenes:
                    continue
            victim = rid
            break
        else:
            time.sleep(0.002)
    if point.delay_s:
        time.sleep(point.delay_s)
    killed_at = time.monotonic()
    left = stack.kill()
    assert left == {}, f"processes of the killed stack survived: {left}"
    client.close()

    after = watch.rows()
    in_flight: dict[str, dict[str, Any]] = {}
    for rid, row in after.items():
        if row.status in ENDED:
            continue
        done = watch.scenes_done(rid, history.baseline.get(rid, 0))
        if row.status == "generating_video":
            history.least_reused[rid] = max(history.least_reused[rid], done)
        elif STAGE_INDEX[row.status] > STAGE_INDEX["generating_video"]:
            history.all_done.add(rid)
        in_flight[rid] = {"stage": row.status, "done": done, "held": row.lease_owner is not None}
        history.baseline[rid] = row.event_sequence
    hit = after[victim].status
    return {
        "planned": planned.label(),
        "aimed": point.label(),
        "stage": hit,
        "on_target": hit == point.stage,
        "request": history.requests.index(victim) + 1,
        "scenes_done": in_flight.get(victim, {}).get("done") if hit == "generating_video" else None,
        "in_flight": len(in_flight),
        "stages": {history.requests.index(rid) + 1: v["stage"] for rid, v in in_flight.items()},
        "held": sum(1 for v in in_flight.values() if v["held"]),
        "killed_at": killed_at,
    }


def _collect_claims(stack: Stack, history: History) -> None:
    """The dispatchers' "claimed" log lines of one stack (each claim logs one)."""
    seen: set[tuple[object, object]] = set()
    for record in stack.log_records():
        if record.get("message") != "claimed" or record.get("logger") != "vividly.dispatch":
            continue
        identity = (record.get("time"), record.get("request_id"))
        if identity in seen:
            continue
        seen.add(identity)
        history.claims[str(record.get("request_id"))] += 1


def _wait_until_all_ended(watch: Watch, timeout_s: float) -> dict[str, Row]:
    deadline = time.monotonic() + timeout_s
    while True:
        rows = watch.rows()
        if all(row.status in ENDED for row in rows.values()):
            return rows
        assert time.monotonic() < deadline, f"requests never ended: {rows}"
        time.sleep(0.25)


def _video_problems(path: Path, manifest: dict[str, Any]) -> list[str]:
    wrong: list[str] = []
    expected = float(manifest["durations"]["video_seconds"])
    with av.open(str(path)) as container:
        kinds = {stream.type for stream in container.streams}
        if not {"video", "audio"} <= kinds:
            wrong.append(f"streams {sorted(kinds)}")
            return wrong
        seconds = float(container.duration or 0) / av.time_base
        frame = next(container.decode(video=0))
    with av.open(str(path)) as container:
        rate = container.streams.audio[0].sample_rate
        audio_s = sum(f.samples for f in container.decode(audio=0)) / rate
    if frame.height != 480:
        wrong.append(f"{frame.width}x{frame.height}, not 480p")
    if abs(seconds - expected) > TOLERANCE * expected:
        wrong.append(f"{seconds:.2f} s long, the manifest says {expected:.2f} s")
    if abs(audio_s - expected) > TOLERANCE * expected:
        wrong.append(f"audio {audio_s:.2f} s, the manifest says {expected:.2f} s")
    return wrong


def _invariants(
    database_url: str, env: dict[str, str], history: History, scratch: Path
) -> tuple[list[str], dict[str, Any]]:
    stores = build_stores(load_settings(env, auto_migrate=False))
    violations: list[str] = []
    reused: list[int] = []
    attempts: list[int] = []
    video_s: list[float] = []
    try:
        for number, rid in enumerate(history.requests, start=1):
            record = stores.requests.get(rid)
            events = stores.requests.events(rid, limit=100_000)
            statuses = [e.status.value for e in events if e.event_type == "status"]
            if record.status.value != "completed":
                violations.append(f"request {number} ended {record.status.value}")
            if statuses.count("completed") != 1:
                violations.append(
                    f"request {number}: {statuses.count('completed')} completed events"
                )
            twice = sorted(s for s, n in Counter(statuses).items() if n > 1)
            if twice:
                violations.append(f"request {number}: stages recorded twice: {twice}")
            if statuses != sorted(statuses, key=STAGE_INDEX.__getitem__):
                violations.append(f"request {number}: status events out of order: {statuses}")
            if record.attempts != history.claims[rid]:
                violations.append(
                    f"request {number}: attempts {record.attempts}, "
                    f"{history.claims[rid]} claims logged"
                )
            attempts.append(record.attempts)
            meta = record.request_metadata
            made = int(meta.get("scenes_reused", 0) or 0)
            reused.append(made)
            least = history.least_reused.get(rid, 0)
            if rid in history.all_done:  # killed after every scene was finished
                least = int(meta.get("scenes_total", 0) or 0)
            if made < least:
                violations.append(f"request {number}: {made} scenes reused, at least {least} done")

        delivered = sorted(k for k in stores.blobs.list_keys("videos/") if k.endswith(".mp4"))
        expected = sorted(f"videos/{rid}/video.mp4" for rid in history.requests)
        if delivered != expected:
            violations.append(f"delivered videos {delivered}, expected one each: {expected}")
        for number, rid in enumerate(history.requests, start=1):
            key = f"videos/{rid}/video.mp4"
            if key not in delivered:
                continue
            manifest = json.loads(stores.blobs.get_bytes(f"videos/{rid}/manifest.json"))
            video_s.append(float(manifest["durations"]["video_seconds"]))
            local = stores.blobs.get_file(key, scratch / f"video-{number}.mp4")
            violations.extend(f"request {number}: {p}" for p in _video_problems(local, manifest))
    finally:
        stores.db.dispose()
    return violations, {"attempts": attempts, "scenes_reused": reused, "video_s": video_s}


def test_sigkill_at_ten_random_points_loses_and_repeats_nothing(
    tmp_path: Path, plain_postgres_url: str, stacks: list[Stack], ledger: Ledger
) -> None:
    started = time.monotonic()
    database_url = plain_postgres_url
    rng = random.Random(SEED)
    plan = [draw(rng) for _ in range(KILLS)]
    history = History(rng)
    env = service_env(
        tmp_path / "home",
        DATABASE_URL=database_url,
        VIVIDLY_LEASE_SECONDS=str(LEASE_S),
        VIVIDLY_AUTH_DISABLED="true",
        # Every kill costs the requests in flight an attempt; ten kills must not exhaust them.
        VIVIDLY_MAX_ATTEMPTS="20",
    )
    watch = Watch(database_url)
    try:
        killed_at: float | None = None
        for life in range(KILLS + 1):
            stack = Stack(f"vr-ck-{life}", env, tmp_path / f"serve-{life}.log")
            stacks.append(stack)
            stack.start(timeout_s=300)
            history.startup_s.append(stack.startup_s)
            if killed_at is not None:
                history.restart_to_ready_s.append(time.monotonic() - killed_at)
            if life == KILLS:
                _wait_until_all_ended(watch, timeout_s=300)
                assert stack.stop() == {}
            else:
                kill = _hunt(stack, watch, history, plan[life])
                killed_at = kill.pop("killed_at")
                history.kills.append(kill)
            _collect_claims(stack, history)
            assert stack.close() == {}
        violations, figures = _invariants(database_url, env, history, tmp_path)
    finally:
        watch.close()

    stages = [kill["stage"] for kill in history.kills]
    ledger.record(
        SCENARIO,
        runs=len(history.requests),
        faults=len(history.kills),
        violations=len(violations),
        seconds=time.monotonic() - started,
        seed=SEED,
        kills=len(history.kills),
        restarts=len(history.restart_to_ready_s),
        kill_stages=stages,
        kill_points=[kill["aimed"] for kill in history.kills],
        kills_on_target=sum(1 for kill in history.kills if kill["on_target"]),
        redrawn=history.redrawn,
        submitted_before_kill=history.submitted_at_kill,
        in_flight_at_kills=[kill["in_flight"] for kill in history.kills],
        mean_restart_to_ready_s=round(statistics.mean(history.restart_to_ready_s), 2),
        mean_startup_s=round(statistics.mean(history.startup_s), 2),
        attempts=figures["attempts"],
        scenes_reused=figures["scenes_reused"],
        video_s=figures["video_s"],
        total_wall_s=round(time.monotonic() - started, 1),
    )
    print(json.dumps(history.kills, indent=1))
    assert violations == [], violations
    assert len(history.kills) == KILLS
