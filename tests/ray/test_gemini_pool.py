"""The Serve app with the Gemini writer, the real google-genai SDK and a loopback stub of Vertex
AI: the ScriptWriter replica plans the outline and the SceneWriter pool writes the scenes in
parallel; the video completes and its manifest credits the model and counts its tokens."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from ray import serve

from tests.ray.conftest import Service
from tests.stubs.gemini_stub import is_scene, running_gemini_stub
from tests.stubs.llm_stub_server import RecordingServer
from vividly_ray.domain.models import Grade, VideoRequest
from vividly_ray.domain.status import RequestStatus
from vividly_ray.settings import Settings, load_settings

pytestmark = pytest.mark.ray


@pytest.fixture(scope="module")
def gemini_stub() -> Iterator[RecordingServer]:
    with running_gemini_stub() as stub:
        yield stub


@pytest.fixture(scope="module")
def ray_settings(ray_home: Path, gemini_stub: RecordingServer) -> Settings:
    return load_settings(
        {},
        home=ray_home,
        ray_num_cpus=2,
        lease_seconds=6,
        script_writer="gemini",
        google_cloud_project="vividly-test",
        vertex_location="us-central1",
        vertex_model="gemini-2.5-flash",
        vertex_base_url=f"{gemini_stub.url}/",
        google_access_token="stub-token",
    )


def test_scenes_are_written_in_parallel_on_the_scene_writer_pool(
    service: Service, gemini_stub: RecordingServer, tmp_path: Path
) -> None:
    # Each scene request waits until two have arrived: only parallel writing gets past it.
    gemini_stub.hold(is_scene, until=2, timeout=20)
    request = VideoRequest("Explain the water cycle", Grade(5), 1, organization_id="local")
    record = service.run(request)
    assert record.status is RequestStatus.COMPLETED, record.error

    scene_calls = [r for r in gemini_stub.requests if is_scene(r)]
    assert len(scene_calls) >= 2
    assert gemini_stub.max_in_flight >= 2
    deployments = serve.status().applications["vividly"].deployments
    assert "SceneWriter" in deployments and "ScriptWriter" in deployments

    out = service.download(record, tmp_path / "out")
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["providers"]["script"] == "gemini:gemini-2.5-flash"
    written = {scene["written_by"] for scene in manifest["providers"]["scenes"]}
    assert "gemini:gemini-2.5-flash" in written
    assert manifest["cost"]["llm_calls"] == len(gemini_stub.requests)
    assert manifest["cost"]["llm_tokens_in"] > 0 and manifest["cost"]["estimated_usd"]["llm"] > 0
    # The student's words reach the model as data in the user turn, never as instructions.
    for call in gemini_stub.requests:
        system = "".join(p["text"] for p in call.body["systemInstruction"]["parts"])
        assert "Explain the water cycle" not in system
