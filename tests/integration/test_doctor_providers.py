"""`vividly doctor`'s model and voice probes through the real SDKs against loopback stubs."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.stubs.gemini_stub import json_reply, running_gemini_stub
from tests.stubs.tts_stub import running_tts_stub
from vividly_ray.doctor import backend_probes, run_probes
from vividly_ray.settings import load_settings

pytestmark = pytest.mark.integration


def _rows(tmp_path: Path, **values: object) -> dict[str, tuple[bool, str]]:
    settings = load_settings({}, home=tmp_path / "home", google_access_token="t", **values)
    probes = [p for p in backend_probes(settings) if p[0] in ("script writer", "narrator")]
    return {row.name: (row.ok, row.detail) for row in run_probes(probes, timeout_s=30)}


def test_a_reachable_model_and_an_offered_voice_pass(tmp_path: Path) -> None:
    with running_gemini_stub() as gemini, running_tts_stub() as tts:
        gemini.respond = lambda request: json_reply({"ok": True})
        rows = _rows(
            tmp_path,
            script_writer="gemini",
            google_cloud_project="p",
            vertex_base_url=f"{gemini.url}/",
            narrator="google",
            tts_endpoint=tts.url,
            tts_voice="en-US-Chirp3-HD-Kore",
        )
    assert rows["script writer"][0], rows
    assert "gemini:gemini-2.5-flash answers" in rows["script writer"][1]
    assert rows["narrator"] == (
        True,
        "Cloud Text-to-Speech offers en-US-Chirp3-HD-Kore; Piper is the fallback",
    )


def test_a_failing_model_and_a_voice_not_offered_are_failed_rows(tmp_path: Path) -> None:
    from tests.stubs.gemini_stub import error_reply

    with running_gemini_stub() as gemini, running_tts_stub() as tts:
        gemini.respond = lambda request: error_reply(403, "Vertex AI API has not been used")
        rows = _rows(
            tmp_path,
            script_writer="gemini",
            google_cloud_project="p",
            vertex_base_url=f"{gemini.url}/",
            narrator="google",
            tts_endpoint=tts.url,
            tts_voice="en-US-Nobody",
        )
    assert not rows["script writer"][0]
    assert "Vertex AI API has not been used" in rows["script writer"][1]
    assert not rows["narrator"][0]
    assert "'en-US-Nobody' is not offered for en-US (3 voices are)" in rows["narrator"][1]
