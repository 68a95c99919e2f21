"""The glossary: each key term once, with the sentence that first explains it, in video order."""

from __future__ import annotations

from vividly_ray.domain.models import Scene, SceneKind
from vividly_ray.script.glossary import build_glossary


def _scene(index: int, kind: SceneKind, *narration: str) -> Scene:
    return Scene(index, kind, f"Scene {index}", ("a", "b"), narration, ("doc",))


def test_terms_come_in_video_order_once_each_from_concept_scenes_only() -> None:
    scenes = [
        _scene(0, SceneKind.TITLE, "Evaporation is the first step we will see today."),
        _scene(
            1,
            SceneKind.CONCEPT,
            "Evaporation happens when liquid water warms up and turns into a gas.",
            "The sun heats the ocean every day.",
        ),
        _scene(
            2,
            SceneKind.CONCEPT,
            "Water stored beneath the ground is called groundwater.",
            "Evaporation happens again and again over the sea.",
        ),
        _scene(3, SceneKind.RECAP, "Precipitation is any water that falls from the sky."),
    ]
    glossary = build_glossary(scenes)
    assert [(e.term, e.scene_index) for e in glossary] == [
        ("evaporation", 1),
        ("groundwater", 2),
    ]
    assert glossary[1].definition == "Water stored beneath the ground is called groundwater."


def test_the_offline_writer_s_script_carries_its_glossary() -> None:
    from vividly_ray.library.store import load_index
    from vividly_ray.script.offline_writer import OfflineScriptWriter
    from vividly_ray.validation.limits import parse_request

    request = parse_request("Explain the water cycle", "5", 2)
    script = OfflineScriptWriter().write(
        request, load_index(None).retrieve(request.question, request.grade)
    )
    terms = [entry.term.lower() for entry in script.glossary]
    assert "evaporation" in terms and "condensation" in terms
    narrated = {s for scene in script.scenes for s in scene.narration}
    assert all(entry.definition in narrated for entry in script.glossary)
