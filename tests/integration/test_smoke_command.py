"""`vividly smoke` against a loopback stub deployment that plays scripted scenarios, with real
MP4 files made by the bundled ffmpeg: each scenario checks the exit code and the stage named.

The stub's good video is 180 s long (a tiny 160x90 picture at 2 frames a second, so it is
small and quick to make and decode): the smoke request asks for 3 minutes, and the command
checks the length against that, so a 3-second clip is one of the broken videos.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from actors.cli import main
from tests.e2e.serve_process import free_port
from tests.smoke_stub import Scenario, SmokeStub, event, happy_events
from vividly_ray.media.ffmpeg import ffmpeg_exe
from vividly_ray.media.mp4 import video_track
from vividly_ray.smoke import SMOKE_QUESTION, SmokeOptions, run_smoke

pytestmark = pytest.mark.integration
REPO_ROOT = Path(__file__).resolve().parents[2]
LINE = re.compile(r"^\s*\d+\.\d s  (\S+)\s+(\d+)%(.*)$")
CAPTIONS = (
    "WEBVTT\n\n00:00.000 --> 00:04.000\nWater moves in a cycle.\n\n"
    "00:02:50.000 --> 00:02:58.000\nThat is the water cycle.\n"
)


@dataclass(frozen=True)
class Media:
    good: bytes
    good_seconds: float
    no_audio: bytes
    short: bytes
    thumbnail: bytes

    def files(self, video: bytes | None = None, **extra: bytes) -> dict[str, bytes]:
        manifest = {"durations": {"video_seconds": self.good_seconds}}
        return {
            "video.mp4": self.good if video is None else video,
            "captions.vtt": CAPTIONS.encode(),
            "thumbnail.jpg": self.thumbnail,
            "manifest.json": json.dumps(manifest).encode(),
            **extra,
        }


def _encode(out: Path, seconds: int, audio: bool) -> bytes:
    command = [
        ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
        "-f", "lavfi", "-i", f"testsrc=size=160x90:rate=2:duration={seconds}",
    ]  # fmt: skip
    if audio:
        command += ["-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}"]
        command += ["-c:a", "aac", "-b:a", "32k"]
    command += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
    command += ["-movflags", "+faststart", str(out)]
    subprocess.run(command, check=True, timeout=120)
    return out.read_bytes()


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Media:
    folder = tmp_path_factory.mktemp("smoke-media")
    good = _encode(folder / "good.mp4", 180, audio=True)
    thumbnail = folder / "thumbnail.jpg"
    Image.new("RGB", (160, 90), (20, 90, 160)).save(thumbnail, "JPEG")
    return Media(
        good=good,
        good_seconds=round(video_track(folder / "good.mp4", "test").duration, 3),
        no_audio=_encode(folder / "no_audio.mp4", 180, audio=False),
        short=_encode(folder / "short.mp4", 3, audio=True),
        thumbnail=thumbnail.read_bytes(),
    )


def completed(media: Media, video: bytes | None = None, **changes: Any) -> Scenario:
    scenario = Scenario(
        files=media.files(video),
        final={"status": "completed", "video_seconds": media.good_seconds},
    )
    for name, value in changes.items():
        setattr(scenario, name, value)
    return scenario


def smoke(stub: SmokeStub, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str, str]:
    code = main(["smoke", "--url", stub.url, "--api-key", stub.api_key, *extra])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def timeline(out: str) -> list[tuple[str, int, str]]:
    return [
        (found[1], int(found[2]), found[3].strip())
        for found in (LINE.match(line) for line in out.splitlines())
        if found
    ]


def statuses(out: str) -> list[str]:
    seen: list[str] = []
    for status, _, _ in timeline(out):
        if not seen or seen[-1] != status:
            seen.append(status)
    return seen


ALL_STAGES = [
    "pending",
    "validating",
    "retrieving",
    "generating_script",
    "generating_video",
    "processing_video",
    "notifying",
    "completed",
]


def test_a_completed_request_passes_with_its_timeline(
    media: Media, capsys: pytest.CaptureFixture[str]
) -> None:
    with SmokeStub(completed(media)) as stub:
        code, out, err = smoke(stub, capsys)
        again, _, _ = smoke(stub, capsys)
    assert (code, again) == (0, 0), err
    assert statuses(out) == ALL_STAGES
    assert [note for status, _, note in timeline(out) if status == "generating_video"] == [
        "",
        "scenes 1/3",
        "scenes 2/3",
        "scenes 3/3",
    ]
    assert out.splitlines()[-1].startswith("smoke passed in ")
    assert "decoded without errors" in out and "captions.vtt has 2 cues" in out
    assert err == ""
    submits = [call for call in stub.calls if call.method == "POST"]
    assert submits[0].body == {
        "student_query": SMOKE_QUESTION,
        "grade_level": "5",
        "duration_minutes": 3,
        "correlation_id": submits[0].body["correlation_id"],
    }
    assert all(call.headers["authorization"] == f"Bearer {stub.api_key}" for call in submits)
    keys = [call.headers["idempotency-key"] for call in submits]
    assert len(set(keys)) == 2 and all(key.startswith("smoke-") for key in keys)
    fetched = {
        call.path.rsplit("/", 1)[1]
        for call in stub.calls_to(f"/v1/videos/{stub.request_id}/files/")
    }
    assert fetched == {"video.mp4", "captions.vtt", "thumbnail.jpg", "manifest.json"}


def test_files_behind_a_redirect_are_fetched_without_the_api_key(
    media: Media, capsys: pytest.CaptureFixture[str]
) -> None:
    with SmokeStub(completed(media, redirect_files=True)) as stub:
        code, out, err = smoke(stub, capsys, "--json")
    assert code == 0, err
    report = json.loads(out)
    assert sorted(report["redirected"]) == sorted(media.files())
    bucket = stub.calls_to("/bucket/")
    assert len(bucket) == len(media.files())
    assert all("authorization" not in call.headers for call in bucket)
    # The service itself did get the key with each file request.
    assert all("authorization" in c.headers for c in stub.calls_to("/v1/videos/"))


def test_the_bucket_stub_refuses_a_request_that_carries_the_key(media: Media) -> None:
    import httpx

    with SmokeStub(completed(media, redirect_files=True)) as stub:
        answer = httpx.get(
            f"{stub.url}/v1/videos/{stub.request_id}/files/video.mp4",
            headers={"Authorization": f"Bearer {stub.api_key}"},
            follow_redirects=False,
        )
        refused = httpx.get(answer.headers["location"], headers={"Authorization": "Bearer x"})
    assert answer.status_code == 307 and refused.status_code == 400


def test_a_dropped_stream_resumes_from_the_last_event_id(
    media: Media, capsys: pytest.CaptureFixture[str]
) -> None:
    with SmokeStub(completed(media, drop_after=4)) as stub:
        code, out, err = smoke(stub, capsys, "--json")
    assert code == 0, err
    streams = stub.calls_to(f"/v1/videos/{stub.request_id}/events")
    assert [call.headers.get("last-event-id") for call in streams] == [None, "4"]
    report = json.loads(out)
    assert report["followed_by"] == "events" and report["stream_reconnects"] == 1
    seen = [(entry["status"], entry["scenes_done"]) for entry in report["timeline"]]
    assert len(seen) == len(set(seen))  # no event shown twice
    assert statuses(err) == ALL_STAGES  # the timeline goes to stderr with --json


def test_without_an_event_stream_it_polls(media: Media) -> None:
    lines: list[str] = []
    with SmokeStub(completed(media, events_available=False)) as stub:
        options = SmokeOptions(url=stub.url, api_key=stub.api_key, poll_s=0.05)
        report = run_smoke(options, lines.append)
    assert report.ok, report.reason
    out = "\n".join(lines)
    assert "polling instead" in out and report.followed_by == "polling"
    assert statuses(out) == ALL_STAGES
    assert stub.polls >= len(happy_events())


@pytest.mark.parametrize(
    "code_name, exit_code", [("narration_failed", 1), ("refused", 4)], ids=["failed", "refused"]
)
def test_a_failed_request_names_its_stage_and_reason(
    capsys: pytest.CaptureFixture[str], code_name: str, exit_code: int
) -> None:
    error = {
        "stage": "generating_video",
        "code": code_name,
        "message": "the narrator could not voice scene 2",
        "error_id": None,
    }
    scenario = Scenario(
        events=[*happy_events()[:6], event("failed", 46, error=error)],
        final={"status": "failed", "current_stage": "failed", "error": error},
    )
    with SmokeStub(scenario) as stub:
        code, out, err = smoke(stub, capsys)
    assert code == exit_code
    assert err.startswith(
        "smoke failed at generating_video: the narrator could not voice scene 2 "
        f"(code {code_name}, request {stub.request_id})"
    )
    assert len(err.splitlines()) == 1
    assert not stub.calls_to(f"/v1/videos/{stub.request_id}/files/")


def test_a_wrong_key_fails_at_submit(capsys: pytest.CaptureFixture[str]) -> None:
    scenario = Scenario(
        submit_status=401,
        submit_body={
            "title": "Authentication required",
            "status": 401,
            "detail": "unknown API key",
        },
    )
    with SmokeStub(scenario) as stub:
        code, _, err = smoke(stub, capsys)
    assert code == 2
    assert err == "smoke failed at submit: HTTP 401 Authentication required: unknown API key\n"
    assert [call.method for call in stub.calls] == ["POST"]


def test_a_busy_service_fails_at_submit_with_exit_code_1(
    capsys: pytest.CaptureFixture[str],
) -> None:
    scenario = Scenario(submit_status=503, submit_body={"title": "Service busy", "detail": "full"})
    with SmokeStub(scenario) as stub:
        code, _, err = smoke(stub, capsys)
    assert (code, err) == (1, "smoke failed at submit: HTTP 503 Service busy: full\n")


@pytest.mark.parametrize(
    "broken, reported, expected",
    [
        ("no_audio", None, "smoke failed at playback: no audio stream"),
        ("truncated", None, "smoke failed at playback: video.mp4 does not decode cleanly: "),
        (
            "short",
            3.0,
            "smoke failed at playback: the video is 3.0 s long; a 3-minute request "
            "allows 117-243 s (±35%)",
        ),
        ("mismatch", 150.0, "smoke failed at playback: the video is 180.0 s but the API reports"),
        ("not_mp4", None, "smoke failed at playback: cannot read MP4 video.mp4"),
    ],
)
def test_a_broken_video_fails_at_playback(
    media: Media,
    capsys: pytest.CaptureFixture[str],
    broken: str,
    reported: float | None,
    expected: str,
) -> None:
    video = {
        "no_audio": media.no_audio,
        "truncated": media.good[: len(media.good) * 2 // 3],
        "short": media.short,
        "mismatch": media.good,
        "not_mp4": b"<html>Service Unavailable</html>",
    }[broken]
    scenario = completed(media, video)
    scenario.final["video_seconds"] = reported
    scenario.files.pop("manifest.json")
    with SmokeStub(scenario) as stub:
        code, _, err = smoke(stub, capsys)
    assert code == 1
    assert err.startswith(expected), err
    assert len(err.splitlines()) == 1


def test_captions_without_cues_fail_at_captions(
    media: Media, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = completed(media)
    scenario.files["captions.vtt"] = b"WEBVTT\n\n"
    with SmokeStub(scenario) as stub:
        code, _, err = smoke(stub, capsys)
    assert (code, err) == (1, "smoke failed at captions: captions.vtt has no cues\n")


def test_a_file_that_will_not_download_fails_at_download(
    media: Media, capsys: pytest.CaptureFixture[str]
) -> None:
    with SmokeStub(completed(media, file_status={"captions.vtt": 404})) as stub:
        code, _, err = smoke(stub, capsys)
    assert code == 1
    assert err.startswith("smoke failed at download: captions.vtt: HTTP 404 No such file"), err


def test_a_clarifying_question_is_an_outcome_of_its_own(
    capsys: pytest.CaptureFixture[str],
) -> None:
    question = "Which part of the water cycle should the video explain?"
    scenario = Scenario(
        events=[*happy_events()[:2], event("clarification_needed", 5, questions=[question])],
        final={"status": "clarification_needed", "clarifying_questions": [question]},
    )
    with SmokeStub(scenario) as stub:
        code, _, err = smoke(stub, capsys)
    assert code == 3
    assert err.startswith(
        f"smoke failed at clarification_needed: the service asks instead of "
        f"making the video: {question}"
    )


def test_a_request_that_never_ends_times_out_naming_its_stage(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with SmokeStub(Scenario(events=happy_events()[:6], stall=True)) as stub:
        started = time.monotonic()
        code, out, err = smoke(stub, capsys, "--timeout", "3")
        took = time.monotonic() - started
    assert code == 1
    assert err.startswith(
        "smoke failed at generating_video: timed out after 3 s in generating_video "
        f"(46%, scenes 1/3); request {stub.request_id} is still generating_video"
    ), err
    assert took < 15
    assert statuses(out)[-1] == "generating_video"


def test_connection_refused_is_one_clear_line(tmp_path: Path) -> None:
    port = free_port()
    run = subprocess.run(
        [sys.executable, "-m", "actors.cli", "smoke", "--url", f"http://127.0.0.1:{port}",
         "--api-key", "vk_x"],
        capture_output=True, text=True, timeout=60, cwd=REPO_ROOT,
    )  # fmt: skip
    assert run.returncode == 1
    assert run.stderr == (
        f"smoke failed at submit: cannot reach http://127.0.0.1:{port}: connection refused\n"
    )


def test_the_json_summary_has_the_figures(
    media: Media, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with SmokeStub(completed(media)) as stub:
        code, out, err = smoke(stub, capsys, "--json", "--out", str(tmp_path / "kept"))
    assert code == 0, err
    report = json.loads(out)
    assert report["ok"] is True and report["exit_code"] == 0
    assert report["request_id"] == stub.request_id
    assert report["timeline"][-1]["status"] == "completed"
    assert report["completed_after_s"] == report["timeline"][-1]["elapsed_s"]
    assert report["video_seconds"] == pytest.approx(media.good_seconds, abs=0.01)
    assert report["video_bytes"] == len(media.good)
    assert report["caption_cues"] == 2 and report["thumbnail_size"] == [160, 90]
    assert (tmp_path / "kept" / "video.mp4").read_bytes() == media.good
    assert err.splitlines()[-1].startswith("smoke passed in ")


def test_ctrl_c_cancels_the_request_and_exits_130() -> None:
    with SmokeStub(Scenario(events=happy_events()[:6], stall=True)) as stub:
        run = subprocess.Popen(
            [sys.executable, "-m", "actors.cli", "smoke", "--url", stub.url,
             "--api-key", stub.api_key],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO_ROOT,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while not stub.calls_to(f"/v1/videos/{stub.request_id}/events"):
            assert time.monotonic() < deadline and run.poll() is None
            time.sleep(0.05)
        time.sleep(0.5)
        run.send_signal(signal.SIGINT)
        out, err = run.communicate(timeout=30)
        cancels = stub.calls_to(f"/v1/videos/{stub.request_id}/cancel")
    assert run.returncode == 130, err
    assert err == (
        f"smoke failed at generating_video: interrupted; request {stub.request_id} cancelled\n"
    )
    assert [call.method for call in cancels] == ["POST"]
    assert "Traceback" not in out + err


@pytest.mark.parametrize(
    "flags, problem",
    [
        (["--url", "ftp://x", "--api-key", "k"], "invalid input --url: must be an http:// or "),
        (["--url", "http://x"], "invalid input --api-key: required (or set VIVIDLY_API_KEY)"),
        (["--url", "http://x", "--api-key", "k", "--timeout", "-1"], "invalid input --timeout"),
    ],
)
def test_bad_arguments_exit_2_naming_the_flag(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
    flags: list[str], problem: str,
) -> None:  # fmt: skip
    monkeypatch.delenv("VIVIDLY_API_KEY", raising=False)
    assert main(["smoke", *flags]) == 2
    assert capsys.readouterr().err.startswith(problem)
