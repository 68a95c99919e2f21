"""`vividly smoke`: the platform's end-to-end check of a running deployment, over its public API.

It submits the platform's water-cycle request (grade 5, 3 minutes), prints the request's
timeline as it happens (from the event stream, resuming with ``Last-Event-ID`` when it drops,
or by polling ``GET /v1/videos/{id}`` when there is no stream), downloads the delivered files
and checks that the video plays:

* it has a video and an audio track, and the audio covers the video;
* its length is within ``DURATION_TOLERANCE`` (35%) of the 3 minutes asked, 117-243 s. The
  writer paces the script with the voice's measured speaking rate, and the bundled writer and
  voice render this request to about 195 s, well inside the bound; 35% leaves room for a
  model-written script or another voice running long or short, while a video cut to a few
  seconds, or one that doubled, fails;
* its length agrees with what the API (``video_seconds``) and the manifest report, to
  ``max(1 s, 2%)``;
* the bundled ffmpeg decodes every video and audio packet without an error;
* the captions are WebVTT with at least one cue, none ending after the video; the thumbnail is
  a JPEG image.

The API key is sent as ``Authorization: Bearer <key>`` and only to the service itself: a file
link that redirects (the API answers 307 with a signed bucket URL when files live in Cloud
Storage) is followed without it, since the signature is the authorization there.

A failure is reported as one line naming the stage it happened at (``submit``, a pipeline stage
such as ``generating_video``, ``clarification_needed``, ``download``, ``playback``, ``captions``,
``thumbnail``), with an exit code from the edge policy: 1 failed (also a timeout and a lost
connection), 2 the service rejected the smoke request or its API key (401, 403, 422), 3 the
service asked a clarifying question, 4 refused as unsafe, 130 interrupted (the request is then
cancelled).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from vividly_ray.domain.errors import StageFailed
from vividly_ray.edge import (
    EXIT_CLARIFY,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_INVALID,
    EXIT_OK,
    EXIT_REFUSED,
)

SMOKE_QUESTION = (
    "Create a 3-minute video explaining the water cycle, including evaporation, condensation, "
    "and precipitation. Include simple diagrams and examples."
)
SMOKE_GRADE = "5"
SMOKE_MINUTES = 3
DURATION_TOLERANCE = 0.35
REPORTED_TOLERANCE_S = 1.0
REPORTED_TOLERANCE = 0.02
# The narration may end a little before or after the last slide; more means lost sound.
AUDIO_GAP_S = 2.0
AUDIO_GAP = 0.05
CAPTION_OVERRUN_S = 1.0
DEFAULT_TIMEOUT_S = 600.0
REQUIRED_FILES = ("video.mp4", "captions.vtt", "thumbnail.jpg")
TERMINAL = frozenset({"completed", "failed", "cancelled", "clarification_needed"})
# The smoke test's own stages after the request completed.
CHECKS = frozenset({"download", "playback", "captions", "thumbnail"})
# Statuses of a submit that mean "this request or its key was refused" (edge: invalid input).
REJECTED = frozenset({401, 403, 413, 415, 422})
REDIRECTS = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 5
STREAM_FAILURES_BEFORE_POLLING = 3
LOST_CONTACT_S = 60.0
DECODE_TIMEOUT_S = 300.0


def smoke_body(correlation_id: str) -> dict[str, Any]:
    """The platform's smoke request, in the API's field names."""
    return {
        "student_query": SMOKE_QUESTION,
        "grade_level": SMOKE_GRADE,
        "duration_minutes": SMOKE_MINUTES,
        "correlation_id": correlation_id,
    }


def duration_bounds(minutes: float, tolerance: float = DURATION_TOLERANCE) -> tuple[float, float]:
    """The video lengths (seconds) a request for ``minutes`` may plausibly produce."""
    target = minutes * 60.0
    return target * (1 - tolerance), target * (1 + tolerance)


class SmokeFailed(Exception):
    """The smoke test failed at ``stage`` for ``reason``; ``exit_code`` follows the edge policy."""

    def __init__(self, stage: str, reason: str, exit_code: int = EXIT_FAILED) -> None:
        super().__init__(f"{stage}: {reason}")
        self.stage = stage
        self.reason = reason
        self.exit_code = exit_code


@dataclass(frozen=True)
class SseEvent:
    id: str | None
    event: str
    data: str


class SseParser:
    """Server-Sent Events, one line at a time: ``feed`` returns an event when one is complete
    (comments such as keep-alives and ``retry:`` lines complete none)."""

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self._id: str | None = None
        self._name = "message"
        self._data: list[str] = []

    def feed(self, raw: str) -> SseEvent | None:
        line = raw.rstrip("\r")
        if not line:
            found = SseEvent(self._id, self._name, "\n".join(self._data)) if self._data else None
            self._reset()
            return found
        if line.startswith(":"):
            return None
        key, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if key == "data":
            self._data.append(value)
        elif key == "event":
            self._name = value
        elif key == "id":
            self._id = value
        return None


def iter_sse(lines: Iterable[str]) -> Iterator[SseEvent]:
    """Every event of a stream's lines."""
    parser = SseParser()
    for line in lines:
        found = parser.feed(line)
        if found is not None:
            yield found


_CUE = re.compile(
    r"(?:(\d+):)?(\d{2}):(\d{2})\.(\d{3})\s+-->\s+(?:(\d+):)?(\d{2}):(\d{2})\.(\d{3})"
)


def vtt_cues(text: str) -> list[tuple[float, float]]:
    """(start, end) seconds of every cue of a WebVTT document; ValueError if it is not one."""
    if not text.lstrip("\ufeff").startswith("WEBVTT"):
        raise ValueError(f"it does not start with WEBVTT (starts with {text[:20]!r})")

    def seconds(hours: str | None, minutes: str, secs: str, millis: str) -> float:
        return int(hours or 0) * 3600 + int(minutes) * 60 + int(secs) + int(millis) / 1000

    cues = []
    for found in _CUE.finditer(text):
        groups = found.groups()
        cues.append((seconds(*groups[:4]), seconds(*groups[4:])))
    return cues


@dataclass
class TimelineEntry:
    """One observed change of the request: what the smoke test printed, as data."""

    elapsed_s: float
    status: str
    progress: int
    stage: str
    scenes_done: int | None = None
    scenes_total: int | None = None
    note: str = ""

    def line(self) -> str:
        text = f"{self.elapsed_s:7.1f} s  {self.status:<20} {self.progress:>3}%"
        if self.stage and self.stage != self.status:
            text += f"  stage {self.stage}"
        if self.scenes_total:
            text += f"  scenes {self.scenes_done or 0}/{self.scenes_total}"
        if self.note:
            text += f"  {self.note}"
        return text


@dataclass
class SmokeReport:
    """Everything the smoke test found; ``--json`` prints it."""

    url: str
    ok: bool = False
    exit_code: int = EXIT_FAILED
    failed_stage: str | None = None
    reason: str | None = None
    request_id: str | None = None
    idempotency_key: str = ""
    followed_by: str = "events"
    stream_reconnects: int = 0
    timeline: list[TimelineEntry] = field(default_factory=list)
    completed_after_s: float | None = None
    total_s: float = 0.0
    expected_seconds: float = SMOKE_MINUTES * 60.0
    allowed_seconds: tuple[float, float] = duration_bounds(SMOKE_MINUTES)
    video_seconds: float | None = None
    audio_seconds: float | None = None
    reported_seconds: float | None = None
    video_bytes: int | None = None
    decode_s: float | None = None
    caption_cues: int | None = None
    thumbnail_size: tuple[int, int] | None = None
    files: dict[str, int] = field(default_factory=dict)
    redirected: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class SmokeOptions:
    url: str
    api_key: str
    timeout_s: float = DEFAULT_TIMEOUT_S
    keep_dir: Path | None = None
    poll_s: float = 1.0
    http_timeout_s: float = 30.0
    lost_contact_s: float = LOST_CONTACT_S


def run_smoke(options: SmokeOptions, emit: Callable[[str], None]) -> SmokeReport:
    """Run the smoke test against ``options.url``; ``emit`` receives each line of progress.

    Never raises for anything the service or the network does: the report says what failed.
    """
    return _Smoke(options, emit).run()


def _reason_of(exc: httpx.HTTPError) -> str:
    """A short, human reason for a transport error (no exception class names, no errno)."""
    if isinstance(exc, httpx.TimeoutException):
        return "no answer in time"
    text = str(exc) or type(exc).__name__
    found: list[str] = re.findall(r"\[Errno -?\d+\]\s*([^\]\)]+)", text)
    if found:
        return found[-1].strip().rstrip("'\"").lower()
    return text.splitlines()[0][:200]


def _problem(response: httpx.Response) -> str:
    """``HTTP 401 Authentication required: unknown API key`` from an error response."""
    text = f"HTTP {response.status_code}"
    try:
        body = response.json()
    except (ValueError, UnicodeDecodeError):
        body = None
    if isinstance(body, dict):
        title, detail = body.get("title"), body.get("detail")
        if title:
            text += f" {title}"
        if detail and detail != title:
            text += f": {detail}"
        for problem in body.get("errors") or []:
            if isinstance(problem, dict):
                text += f"; {problem.get('field')}: {problem.get('message')}"
        return text
    snippet = " ".join(response.text[:200].split())
    return f"{text}: {snippet}" if snippet else text


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), port


class _Smoke:
    def __init__(self, options: SmokeOptions, emit: Callable[[str], None]) -> None:
        self.options = options
        self.emit = emit
        self.base = options.url.rstrip("/")
        self.report = SmokeReport(url=self.base)
        self.started = time.monotonic()
        self.deadline = self.started + options.timeout_s
        self.status = "submit"
        self.progress = 0
        self.stage = ""
        self.scenes: tuple[int, int] | None = None
        self.last_message = ""
        self.previous_status = "submit"
        self.events_url = ""
        timeout = httpx.Timeout(options.http_timeout_s)
        self.api = httpx.Client(
            headers={"Authorization": f"Bearer {options.api_key}"}, timeout=timeout
        )
        # For anything that is not the service itself: signed URLs carry their own authority.
        self.plain = httpx.Client(timeout=timeout)

    # -- the run ------------------------------------------------------------------------------

    def run(self) -> SmokeReport:
        report = self.report
        folder = self.options.keep_dir
        scratch = None
        if folder is None:
            scratch = Path(tempfile.mkdtemp(prefix="vividly-smoke-"))
            folder = scratch
        try:
            folder.mkdir(parents=True, exist_ok=True)
            self._submit()
            outcome = self._follow()
            detail = self._finished(outcome)
            paths = self._download(detail, folder)
            self._check_video(paths["video.mp4"], detail, paths.get("manifest.json"))
            self._check_captions(paths["captions.vtt"])
            self._check_thumbnail(paths["thumbnail.jpg"])
            report.ok, report.exit_code = True, EXIT_OK
        except SmokeFailed as failure:
            report.failed_stage, report.reason = failure.stage, failure.reason
            report.exit_code = failure.exit_code
        except KeyboardInterrupt:
            report.failed_stage = self.status
            report.reason = "interrupted" + self._cancel()
            report.exit_code = EXIT_INTERRUPTED
        finally:
            report.total_s = round(self._elapsed(), 3)
            self.api.close()
            self.plain.close()
            if scratch is not None:
                shutil.rmtree(scratch, ignore_errors=True)
        return report

    def _elapsed(self) -> float:
        return time.monotonic() - self.started

    def _remaining(self) -> float:
        return self.deadline - time.monotonic()

    def _check_deadline(self) -> None:
        if self._remaining() > 0:
            return
        where = f"{self.progress}%"
        if self.scenes:
            where += f", scenes {self.scenes[0]}/{self.scenes[1]}"
        still = ""
        if self.report.request_id is not None and self.status not in CHECKS:
            still = f"; request {self.report.request_id} is still {self.status}"
        raise SmokeFailed(
            self.status,
            f"timed out after {self.options.timeout_s:g} s in {self.status} ({where}){still}",
        )

    def _timeout(self, read: float | None = None) -> httpx.Timeout:
        cap = max(1.0, min(self.options.http_timeout_s, self._remaining()))
        return httpx.Timeout(cap, read=max(1.0, min(read or cap, self._remaining() + 1)))

    def _cancel(self) -> str:
        request_id = self.report.request_id
        if request_id is None or self.status in TERMINAL:
            return ""
        try:
            answer = self.api.post(f"{self.base}/v1/videos/{request_id}/cancel", timeout=5)
        except httpx.HTTPError:
            return f"; request {request_id} may still be running"
        if answer.status_code < 300:
            return f"; request {request_id} cancelled"
        return f"; request {request_id} may still be running ({_problem(answer)})"

    # -- submit -------------------------------------------------------------------------------

    def _submit(self) -> None:
        report = self.report
        token = uuid.uuid4().hex
        report.idempotency_key = f"smoke-{token}"
        url = f"{self.base}/v1/videos"
        self.emit(
            f"smoke: submitting the water-cycle request (grade {SMOKE_GRADE}, "
            f"{SMOKE_MINUTES} minutes) to {url}"
        )
        try:
            answer = self.api.post(
                url,
                json=smoke_body(f"smoke-{token}"),
                headers={"Idempotency-Key": report.idempotency_key},
                timeout=self._timeout(),
            )
        except httpx.HTTPError as exc:
            raise SmokeFailed("submit", f"cannot reach {self.base}: {_reason_of(exc)}") from None
        if answer.status_code not in (200, 202):
            code = EXIT_INVALID if answer.status_code in REJECTED else EXIT_FAILED
            raise SmokeFailed("submit", _problem(answer), code)
        try:
            body = answer.json()
            request_id = str(body["id"])
        except (ValueError, KeyError, TypeError):
            raise SmokeFailed(
                "submit", f"HTTP {answer.status_code} but the answer names no request id"
            ) from None
        report.request_id = request_id
        self.events_url = f"{self.base}/v1/videos/{request_id}/events"
        self.emit(f"smoke: request {request_id} accepted (HTTP {answer.status_code})")
        self._observe(str(body.get("status", "pending")), 0, None, None)

    # -- follow -------------------------------------------------------------------------------

    def _observe(
        self,
        status: str,
        progress: int,
        scenes: tuple[int, int] | None,
        stage: str | None,
        note: str = "",
    ) -> None:
        if status != self.status:
            self.previous_status = self.status
        changed = (status, progress, scenes) != (self.status, self.progress, self.scenes)
        self.status, self.progress = status, max(self.progress, progress)
        if scenes is not None:
            self.scenes = scenes
        self.stage = stage or status
        if not changed and not note:
            return
        entry = TimelineEntry(
            elapsed_s=round(self._elapsed(), 2),
            status=status,
            progress=self.progress,
            stage=self.stage,
            scenes_done=self.scenes[0] if self.scenes else None,
            scenes_total=self.scenes[1] if self.scenes else None,
            note=note,
        )
        self.report.timeline.append(entry)
        if status == "completed" and self.report.completed_after_s is None:
            self.report.completed_after_s = entry.elapsed_s
        self.emit(entry.line())

    def _follow(self) -> str:
        """Follow the event stream until the request ends; the final status."""
        last_id = 0
        failures = 0
        while True:
            self._check_deadline()
            headers = {"Accept": "text/event-stream", "Cache-Control": "no-cache"}
            if last_id:
                headers["Last-Event-ID"] = str(last_id)
            why = ""
            got_any = False
            try:
                with self.api.stream(
                    "GET", self.events_url, headers=headers, timeout=self._timeout(read=30)
                ) as answer:
                    kind = answer.headers.get("content-type", "")
                    if answer.status_code != 200 or not kind.startswith("text/event-stream"):
                        if answer.status_code >= 500 or answer.status_code == 429:
                            answer.read()
                            failures += 1
                            why = _problem(answer)
                        else:
                            answer.read()
                            self.emit(
                                f"smoke: no event stream ({_problem(answer)}); polling instead"
                            )
                            return self._poll()
                    else:
                        parser = SseParser()
                        for line in answer.iter_lines():
                            # Keep-alives arrive without events: the deadline is checked on
                            # every line, not only on events.
                            self._check_deadline()
                            event = parser.feed(line)
                            if event is None:
                                continue
                            got_any = True
                            if event.id and event.id.isdigit():
                                last_id = int(event.id)
                            ended = self._on_event(event)
                            if ended:
                                return ended
                        failures = 0 if got_any else failures + 1
                        why = "the stream ended before the request did"
            except httpx.HTTPError as exc:
                # A stream that carried events before it broke is working: resume it.
                failures = 1 if got_any else failures + 1
                why = _reason_of(exc)
            self._check_deadline()
            if failures >= STREAM_FAILURES_BEFORE_POLLING:
                self.emit(f"smoke: the event stream keeps failing ({why}); polling instead")
                return self._poll()
            self.report.stream_reconnects += 1
            resume = f"after event {last_id}" if last_id else "from the start"
            self.emit(f"smoke: the event stream was interrupted ({why}); resuming {resume}")
            time.sleep(min(1.0 * max(1, failures), max(0.0, self._remaining())))

    def _on_event(self, event: SseEvent) -> str | None:
        try:
            data = json.loads(event.data)
        except ValueError:
            return None
        if not isinstance(data, dict) or "status" not in data:
            return None
        status = str(data["status"])
        details = data.get("details") or {}
        scenes = None
        if "scenes_done" in details and "scenes_total" in details:
            scenes = (int(details["scenes_done"]), int(details["scenes_total"]))
        note = ""
        kind = data.get("type") or event.event
        if kind == "retry":
            note = f"retry: {data.get('message', '')}".strip()
        stage = None
        error = details.get("error")
        if isinstance(error, dict) and error.get("stage"):
            stage = str(error["stage"])
        self.last_message = str(data.get("message") or self.last_message)
        self._observe(status, int(data.get("progress_percentage") or 0), scenes, stage, note)
        if kind == "status" and status in TERMINAL:
            return status
        return None

    def _poll(self) -> str:
        self.report.followed_by = "polling"
        while True:
            detail = self._detail()
            scenes = _scenes_of(detail)
            self._observe(
                str(detail.get("status")),
                int(detail.get("progress_percentage") or 0),
                scenes,
                str(detail.get("current_stage") or "") or None,
            )
            if self.status in TERMINAL:
                return self.status
            self._check_deadline()
            time.sleep(min(self.options.poll_s, max(0.0, self._remaining())))

    def _detail(self) -> dict[str, Any]:
        """``GET /v1/videos/{id}``, riding out a service that is briefly unreachable."""
        url = f"{self.base}/v1/videos/{self.report.request_id}"
        lost_since: float | None = None
        while True:
            try:
                answer = self.api.get(url, timeout=self._timeout())
                if answer.status_code == 200:
                    body = answer.json()
                    if isinstance(body, dict):
                        return body
                    why = "the answer is not a JSON object"
                elif answer.status_code >= 500 or answer.status_code == 429:
                    why = _problem(answer)
                else:
                    raise SmokeFailed(self.status, f"GET {url}: {_problem(answer)}")
            except httpx.HTTPError as exc:
                why = _reason_of(exc)
            except ValueError:
                why = "the answer is not JSON"
            now = time.monotonic()
            lost_since = now if lost_since is None else lost_since
            if now - lost_since >= self.options.lost_contact_s:
                raise SmokeFailed(
                    self.status,
                    f"lost contact with the service for {now - lost_since:.0f} s ({why})",
                )
            self._check_deadline()
            time.sleep(min(1.0, max(0.0, self._remaining())))

    def _finished(self, outcome: str) -> dict[str, Any]:
        detail = self._detail()
        status = str(detail.get("status"))
        request_id = self.report.request_id
        if status == "completed":
            return detail
        if status == "failed":
            error = detail.get("error") or {}
            known = self.stage if self.stage not in TERMINAL else self.previous_status
            stage = str(error.get("stage") or known)
            reason = str(error.get("message") or self.last_message or "the request failed")
            extras = [f"code {error['code']}"] if error.get("code") else []
            if error.get("error_id"):
                extras.append(f"error id {error['error_id']}")
            extras.append(f"request {request_id}")
            code = EXIT_REFUSED if error.get("code") == "refused" else EXIT_FAILED
            raise SmokeFailed(stage, f"{reason} ({', '.join(extras)})", code)
        if status == "clarification_needed":
            questions = [str(q) for q in detail.get("clarifying_questions") or []]
            asked = "; ".join(questions) or "no question given"
            raise SmokeFailed(
                "clarification_needed",
                f"the service asks instead of making the video: {asked} (request {request_id})",
                EXIT_CLARIFY,
            )
        if status == "cancelled":
            raise SmokeFailed(
                self.previous_status if self.previous_status != "cancelled" else status,
                f"the request was cancelled: {self.last_message or 'no reason given'} "
                f"(request {request_id})",
            )
        raise SmokeFailed(status, f"the stream ended with {outcome} but the request is {status}")

    # -- download -----------------------------------------------------------------------------

    def _download(self, detail: dict[str, Any], folder: Path) -> dict[str, Path]:
        self.status = "download"
        files = detail.get("files") or {}
        if not isinstance(files, dict):
            raise SmokeFailed(
                "download", "the completed request's files are not a name -> link map"
            )
        missing = [name for name in REQUIRED_FILES if not files.get(name)]
        if missing:
            listed = ", ".join(sorted(files)) or "none"
            raise SmokeFailed(
                "download", f"the completed request lists no {', '.join(missing)} (files: {listed})"
            )
        wanted = [*REQUIRED_FILES, *(["manifest.json"] if files.get("manifest.json") else [])]
        paths = {}
        for name in wanted:
            paths[name] = self._fetch(name, str(files[name]), folder / name)
        sizes = ", ".join(f"{name} ({_size(self.report.files[name])})" for name in wanted)
        self.emit(f"smoke: downloaded {sizes}")
        return paths

    def _fetch(self, name: str, link: str, target: Path) -> Path:
        url = link if urlsplit(link).scheme else self.base + "/" + link.lstrip("/")
        # The key goes to the service only, never across a redirect.
        with_key = _origin(url) == _origin(self.base)
        redirected = False
        for _ in range(MAX_REDIRECTS + 1):
            self._check_deadline()
            client = self.api if with_key else self.plain
            where = urlsplit(url).netloc
            after = " after a redirect" if redirected else ""
            try:
                with client.stream("GET", url, timeout=self._timeout()) as answer:
                    if answer.status_code in REDIRECTS:
                        location = answer.headers.get("location")
                        if not location:
                            raise SmokeFailed(
                                "download", f"{name}: HTTP {answer.status_code} with no Location"
                            )
                        url = urljoin(str(answer.url), location)
                        with_key, redirected = False, True
                        if name not in self.report.redirected:
                            self.report.redirected.append(name)
                        continue
                    if answer.status_code != 200:
                        answer.read()
                        raise SmokeFailed(
                            "download", f"{name}: {_problem(answer)} from {where}{after}"
                        )
                    size = 0
                    with target.open("wb") as sink:
                        for chunk in answer.iter_bytes(1 << 16):
                            sink.write(chunk)
                            size += len(chunk)
                            self._check_deadline()
                    declared = answer.headers.get("content-length")
                    if declared and declared.isdigit() and int(declared) != size:
                        raise SmokeFailed(
                            "download", f"{name}: got {size} of {declared} bytes from {where}"
                        )
                    if size == 0:
                        raise SmokeFailed("download", f"{name}: empty file from {where}{after}")
                    self.report.files[name] = size
                    return target
            except httpx.HTTPError as exc:
                raise SmokeFailed(
                    "download", f"{name}: cannot fetch from {where}{after}: {_reason_of(exc)}"
                ) from None
        raise SmokeFailed("download", f"{name}: more than {MAX_REDIRECTS} redirects")

    # -- checks -------------------------------------------------------------------------------

    def _check_video(self, path: Path, detail: dict[str, Any], manifest: Path | None) -> None:
        self.status = "playback"
        from vividly_ray.media.mp4 import read_tracks

        report = self.report
        report.video_bytes = path.stat().st_size
        try:
            tracks = read_tracks(path, "playback")
        except StageFailed as exc:
            raise SmokeFailed("playback", exc.reason) from None
        video = next((t for t in tracks if t.handler == "vide"), None)
        audio = next((t for t in tracks if t.handler == "soun"), None)
        if video is None:
            raise SmokeFailed("playback", "no video stream")
        if audio is None:
            raise SmokeFailed("playback", "no audio stream")
        seconds, sound = video.duration, audio.duration
        report.video_seconds, report.audio_seconds = round(seconds, 3), round(sound, 3)
        low, high = report.allowed_seconds
        if not low <= seconds <= high:
            raise SmokeFailed(
                "playback",
                f"the video is {seconds:.1f} s long; a {SMOKE_MINUTES}-minute request allows "
                f"{low:.0f}-{high:.0f} s (±{DURATION_TOLERANCE:.0%})",
            )
        if abs(sound - seconds) > max(AUDIO_GAP_S, AUDIO_GAP * seconds):
            raise SmokeFailed(
                "playback", f"the audio track is {sound:.1f} s against the video's {seconds:.1f} s"
            )
        claims = []
        if detail.get("video_seconds") is not None:
            claims.append(("the API", float(detail["video_seconds"])))
        if manifest is not None:
            try:
                durations = json.loads(manifest.read_text("utf-8")).get("durations") or {}
            except (ValueError, UnicodeDecodeError, AttributeError):
                raise SmokeFailed("download", "manifest.json is not a JSON object") from None
            if durations.get("video_seconds") is not None:
                claims.append(("the manifest", float(durations["video_seconds"])))
        for who, claimed in claims:
            if abs(claimed - seconds) > max(REPORTED_TOLERANCE_S, REPORTED_TOLERANCE * claimed):
                raise SmokeFailed(
                    "playback", f"the video is {seconds:.1f} s but {who} reports {claimed:.1f} s"
                )
        if claims:
            report.reported_seconds = claims[0][1]
        report.decode_s = self._decode(path)
        said = f"; {claims[0][0]} says {claims[0][1]:.1f} s" if claims else ""
        self.emit(
            f"smoke: video.mp4 plays: video and audio tracks, {seconds:.1f} s{said} "
            f"(a {SMOKE_MINUTES}-minute request allows {low:.0f}-{high:.0f} s), "
            f"decoded without errors in {report.decode_s:.1f} s"
        )

    def _decode(self, path: Path) -> float:
        from vividly_ray.media.ffmpeg import ffmpeg_exe

        started = time.monotonic()
        # Every packet of the first video and audio track is decoded; any error fails. Only
        # what is not decoding is left out: the QuickTime chapter references (the chapters are
        # metadata, and the demuxer's notices about them are not about the streams), and the
        # null muxer's own timestamp rounding, which passing the input's time base through
        # avoids for a variable-frame-rate video.
        command = [
            ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error", "-xerror",
            "-ignore_chapters", "1", "-i", str(path),
            "-map", "0:v:0", "-map", "0:a:0", "-fps_mode", "passthrough",
            "-enc_time_base", "demux", "-f", "null", "-",
        ]  # fmt: skip
        try:
            done = subprocess.run(
                command,
                capture_output=True,
                text=True,
                errors="replace",
                timeout=max(30.0, min(DECODE_TIMEOUT_S, self._remaining())),
            )
        except subprocess.TimeoutExpired:
            raise SmokeFailed("playback", "ffmpeg did not finish decoding the video") from None
        except OSError as exc:
            raise SmokeFailed("playback", f"ffmpeg could not be started: {exc}") from None
        problems = [line.strip() for line in done.stderr.splitlines() if line.strip()]
        if done.returncode != 0 or problems:
            said = "; ".join(problems[:3]) or f"ffmpeg exited with status {done.returncode}"
            raise SmokeFailed("playback", f"video.mp4 does not decode cleanly: {said}")
        return round(time.monotonic() - started, 3)

    def _check_captions(self, path: Path) -> None:
        self.status = "captions"
        try:
            cues = vtt_cues(path.read_text("utf-8"))
        except UnicodeDecodeError:
            raise SmokeFailed("captions", "captions.vtt is not UTF-8 text") from None
        except ValueError as exc:
            raise SmokeFailed("captions", f"captions.vtt is not WebVTT: {exc}") from None
        if not cues:
            raise SmokeFailed("captions", "captions.vtt has no cues")
        end = max(stop for _, stop in cues)
        seconds = self.report.video_seconds or 0.0
        if end > seconds + CAPTION_OVERRUN_S:
            raise SmokeFailed(
                "captions", f"captions run to {end:.1f} s, past the {seconds:.1f} s video"
            )
        self.report.caption_cues = len(cues)

    def _check_thumbnail(self, path: Path) -> None:
        self.status = "thumbnail"
        from PIL import Image, UnidentifiedImageError

        try:
            with Image.open(path) as image:
                image.verify()
                kind, size = image.format, image.size
        except (UnidentifiedImageError, OSError, SyntaxError) as exc:
            raise SmokeFailed("thumbnail", f"thumbnail.jpg is not an image: {exc}") from None
        if kind != "JPEG":
            raise SmokeFailed("thumbnail", f"thumbnail.jpg is {kind}, not JPEG")
        self.report.thumbnail_size = (int(size[0]), int(size[1]))
        self.emit(
            f"smoke: captions.vtt has {self.report.caption_cues} cues; "
            f"thumbnail.jpg is a {size[0]}x{size[1]} JPEG"
        )


def _scenes_of(detail: dict[str, Any]) -> tuple[int, int] | None:
    scenes = detail.get("scenes") or {}
    if not isinstance(scenes, dict) or not scenes.get("total"):
        return None
    return int(scenes.get("done") or 0), int(scenes["total"])


def _size(count: int) -> str:
    if count >= 1 << 20:
        return f"{count / (1 << 20):.1f} MiB"
    if count >= 1 << 10:
        return f"{count / (1 << 10):.1f} KiB"
    return f"{count} B"


def summary_line(report: SmokeReport) -> str:
    """The last line: passed with the figures, or failed naming the stage."""
    if report.ok:
        return (
            f"smoke passed in {report.total_s:.1f} s: completed after "
            f"{report.completed_after_s or 0:.1f} s, {report.video_seconds or 0:.1f} s of video "
            f"({_size(report.video_bytes or 0)})"
        )
    return f"smoke failed at {report.failed_stage}: {report.reason}"
