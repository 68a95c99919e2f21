"""A one-minute request through the real pools on a local Ray cluster, probed with PyAV."""

from __future__ import annotations

import json
from pathlib import Path

import av
import pytest
from actors.runtime import LocalRuntime

from vividly_ray.domain.errors import ClarificationNeeded
from vividly_ray.domain.models import Grade, VideoRequest
from vividly_ray.domain.status import PIPELINE, RequestStatus

pytestmark = pytest.mark.ray

REQUEST = VideoRequest(question="How do magnets work?", grade=Grade(4), minutes=1)


def test_one_minute_video_end_to_end(runtime: LocalRuntime, tmp_path: Path) -> None:
    out = tmp_path / "out"
    request_id, result = runtime.run(REQUEST, out)

    for name in ("video.mp4", "captions.vtt", "captions.srt", "thumbnail.jpg", "script.json"):
        assert (out / name).stat().st_size > 0, name
    manifest = json.loads((out / "manifest.json").read_text())
    script = json.loads((out / "script.json").read_text())

    with av.open(str(out / "video.mp4")) as container:
        kinds = sorted(s.type for s in container.streams if s.type in ("audio", "video"))
        assert kinds == ["audio", "video"]
        assert container.streams.video[0].codec_context.name == "h264"
        assert container.streams.audio[0].codec_context.name == "aac"
        duration = float(container.duration) / av.time_base
        chapters = container.chapters()
    assert len(chapters) == len(script["scenes"]) == manifest["scene_count"]
    # Within 15% of the requested minute.
    assert abs(duration - 60) <= 9, duration
    assert duration == pytest.approx(manifest["durations"]["video_seconds"], abs=0.2)

    # Captions carry the narration, in order.
    vtt = (out / "captions.vtt").read_text()
    assert vtt.startswith("WEBVTT")
    first_sentence = script["scenes"][1]["sentences"][0]
    assert first_sentence.split()[0] in vtt

    # The persisted timeline is the platform's status sequence.
    record = runtime.repository.get(request_id)
    assert record.status is RequestStatus.COMPLETED and record.progress_percentage == 100
    statuses = [e.status for e in runtime.repository.events(request_id) if e.event_type == "status"]
    assert statuses == list(PIPELINE)
    assert [row["status"] for row in manifest["status_timeline"]] == [s.value for s in PIPELINE]
    assert any(e.event_type == "progress" for e in runtime.repository.events(request_id))
    assert manifest["sources"] and all(s["attribution"] for s in manifest["sources"])


def test_the_same_request_again_reuses_every_scene(runtime: LocalRuntime, tmp_path: Path) -> None:
    _, first = runtime.run(REQUEST, tmp_path / "first")
    _, again = runtime.run(REQUEST, tmp_path / "again")
    assert again.reused_scenes == again.scene_count == first.scene_count
    assert again.duration == pytest.approx(first.duration, abs=0.05)


def test_clarification_is_persisted_not_failed(runtime: LocalRuntime, tmp_path: Path) -> None:
    request = VideoRequest(question="explain it", grade=Grade(5), minutes=1)
    request_id = runtime.submit(request)
    with pytest.raises(ClarificationNeeded) as caught:
        runtime.pipeline(request).run(request_id, request, tmp_path)
    assert 1 <= len(caught.value.questions) <= 3
    assert runtime.repository.get(request_id).status is RequestStatus.CLARIFICATION_NEEDED


def test_a_resumed_request_redoes_only_the_missing_scenes(
    runtime: LocalRuntime, tmp_path: Path
) -> None:
    request = VideoRequest(question="Why do we have seasons on Earth?", grade=Grade(6), minutes=1)
    _, first = runtime.run(request, tmp_path / "first")
    segments = sorted((runtime.settings.cache_dir / "segments").rglob("*.mp4"))
    script = json.loads(Path(first.script_json).read_text())
    # Lose two scenes' finished segments, as if the run had crashed before encoding them.
    lost = [p for p in segments if p.stat().st_mtime >= Path(first.script_json).stat().st_mtime]
    for path in lost[:2]:
        path.unlink()
    _, resumed = runtime.run(request, tmp_path / "resumed")
    assert resumed.scene_count == len(script["scenes"])
    assert resumed.reused_scenes == resumed.scene_count - 2


def test_a_crashed_narrator_is_restarted_and_the_request_completes(
    runtime: LocalRuntime, tmp_path: Path
) -> None:
    import ray

    ray.kill(runtime.narrators[0], no_restart=False)
    request = VideoRequest(question="What causes the tides?", grade=Grade(6), minutes=1)
    request_id, result = runtime.run(request, tmp_path / "out")
    assert result.scene_count >= 5
    assert runtime.repository.get(request_id).status is RequestStatus.COMPLETED
