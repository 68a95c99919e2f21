"""The scene verifier: grounding, citations, pacing, reading level, and what it tells the model."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from tests.stubs.scripted_model import FakeLlmClient, is_rewrite, replying, scene_answer
from tests.stubs.water_cycle import TOPIC, water_cycle_request, water_cycle_retrieval
from vividly_ray.domain.models import Usage
from vividly_ray.script.llm import LlmReply, LlmScriptWriter, SceneVerifier
from vividly_ray.script.llm.drafts import read_scene
from vividly_ray.script.llm.outline import budget
from vividly_ray.script.llm.tasks import Outline, PlannedScene, SceneDraft, SceneTask
from vividly_ray.script.llm.verifier import flesch_kincaid_grade, support
from vividly_ray.script.offline_writer import OfflineScriptWriter

EVAPORATION = "water-on-the-move#2"
RAIN = "weather-and-water#1"
GOOD = [
    ("Evaporation happens when the sun heats water in oceans, lakes, and rivers.", [EVAPORATION]),
    ("The warm water turns into an invisible gas called water vapor.", [EVAPORATION]),
    ("Precipitation is water that falls from clouds to the ground.", [RAIN]),
    ("When the drops get too heavy, they fall as rain.", [RAIN]),
]
BULLETS = ["The sun heats water", "Water vapor is a gas", "Rain falls from clouds"]


def task(
    grade: int = 5, minutes: float = 1.5, ids: Sequence[str] = (EVAPORATION, RAIN)
) -> SceneTask:
    retrieval = water_cycle_retrieval()
    request = water_cycle_request(minutes=minutes, grade=grade)
    sized = budget(request)
    plan = PlannedScene(
        1,
        "Water Goes Up and Down",
        "See how water moves.",
        tuple(ids),
        sized.seconds_per_scene,
        sized.sentences_per_scene,
    )
    passages = tuple(r.passage for r in retrieval.passages if r.passage.passage_id in ids)
    return SceneTask(
        request=request,
        topic=TOPIC,
        outline=Outline("The Water Cycle", (plan,)),
        plan=plan,
        passages=passages,
        sources=retrieval.sources,
        query_terms=retrieval.query_terms,
    )


def draft(
    narration: Sequence[tuple[str, list[str]]] = GOOD,
    bullets: Sequence[str] = BULLETS,
    for_task: SceneTask | None = None,
) -> SceneDraft:
    data = {
        "title": "Water Goes Up and Down",
        "bullets": list(bullets),
        "narration": [{"sentence": s, "passage_ids": ids} for s, ids in narration],
    }
    return read_scene(data, for_task or task(), "fake:model-1", Usage())


def problems(d: SceneDraft, t: SceneTask | None = None) -> tuple[str, ...]:
    return SceneVerifier().check(d, t or task()).problems


def test_a_grounded_paced_readable_scene_passes() -> None:
    assert problems(draft()) == ()


def test_citing_a_passage_that_was_not_given_fails_and_names_it() -> None:
    bad = [*GOOD[:3], (GOOD[3][0], [RAIN, "water-on-the-move#3"])]
    found = problems(draft(bad))
    assert found == (
        "sentence 4 cites 'water-on-the-move#3', which is not one of the passages given",
    )


def test_a_sentence_citing_nothing_fails() -> None:
    found = problems(draft([*GOOD[:3], (GOOD[3][0], [])]))
    assert found == ("sentence 4 cites none of the passages given",)


def test_a_sentence_its_passages_do_not_support_fails() -> None:
    invented = ("Volcanoes erupt when magma pushes through cracks deep underground.", [RAIN])
    assert problems(draft([*GOOD[:3], invented])) == (
        "sentence 4 says things its cited passages do not say",
    )


def test_a_plain_rewording_of_the_passage_is_supported() -> None:
    passage = "Evaporation happens when the sun heats water in oceans, lakes, and rivers."
    assert support("The sun heats water in lakes and rivers, and it evaporates.", [passage]) >= 0.5
    assert support("Magma erupts from volcanoes underground.", [passage]) < 0.5


def test_the_support_must_come_from_the_cited_passage_not_any_given_one() -> None:
    misplaced = [(GOOD[0][0], [RAIN]), *GOOD[1:]]
    assert problems(draft(misplaced)) == ("sentence 1 says things its cited passages do not say",)


def test_a_scene_far_from_its_share_of_the_minutes_fails() -> None:
    (short,) = problems(draft(GOOD[:2]))
    assert short.startswith("the narration is too short")
    (long,) = problems(draft(GOOD * 2))
    assert long.startswith("the narration is too long")


def test_narration_too_hard_for_the_grade_fails_but_suits_an_older_student() -> None:
    # The passages' own facts, joined into two long sentences: about grade 12 to read.
    hard = [
        (
            "Evaporation happens when the sun heats water in oceans, lakes, and rivers, and the "
            "warm water turns into an invisible gas called water vapor that rises.",
            [EVAPORATION],
        ),
        (
            "Precipitation is water that falls from clouds to the ground after the drops in a "
            "cloud bump into each other, grow bigger and get too heavy.",
            [RAIN],
        ),
    ]
    found = problems(draft(hard), task(grade=3))
    assert (
        "the narration reads at about grade 12, too hard for grade 3: use shorter "
        "sentences and simpler words" in found
    )
    older = task(grade=12)
    assert problems(draft(hard, for_task=older), older) == ()


def test_kindergarten_to_grade_two_limits_sentence_length() -> None:
    long_sentence = (
        "Evaporation happens when the sun heats the water that lies in oceans, lakes, and "
        "rivers all over the world."
    )
    k2 = task(grade=1)
    narration = [(long_sentence, [EVAPORATION]), *GOOD[1:]]
    found = problems(draft(narration, for_task=k2), k2)
    assert "sentence 1 is too long for grade 1 (more than 12 words)" in found


def test_a_sentence_pointing_at_a_figure_fails() -> None:
    figure = ("As Figure 2 shows, water vapor rises into the air.", [EVAPORATION])
    assert problems(draft([*GOOD[:3], figure])) == (
        "sentence 4 refers to something the video cannot show (a figure, table, equation or "
        "link) or is not a complete sentence",
    )


@pytest.mark.parametrize("count", [1, 5])
def test_a_scene_needs_two_to_four_bullets(count: int) -> None:
    bullets = ["Water rises", "Water falls", "Clouds form", "Rain falls", "Snow falls"][:count]
    assert problems(draft(bullets=bullets)) == (f"give 2 to 4 bullets, not {count}",)


def test_the_flesch_kincaid_grade_tracks_difficulty() -> None:
    easy = ["The sun warms the sea.", "Water goes up into the sky."]
    hard = ["Atmospheric thermodynamics facilitates hydrological transformation continuously."]
    assert flesch_kincaid_grade(easy) < 3 < 12 < flesch_kincaid_grade(hard)


def test_the_verifiers_reasons_reach_the_rewrite_and_a_second_failure_falls_back() -> None:
    def unsupported(user: str) -> LlmReply:
        data = scene_answer(user)
        data["narration"][0]["sentence"] = "Volcanoes erupt when magma pushes through cracks."
        return replying(data)

    client = FakeLlmClient(scene=unsupported)
    writer = LlmScriptWriter(client, provider="fake:model-1", fallback=OfflineScriptWriter())
    result = writer.write_scene(task())
    first, second = client.calls
    assert not is_rewrite(first.user) and is_rewrite(second.user)
    assert "- sentence 1 says things its cited passages do not say" in second.user
    assert "<earlier_draft>" in second.user and "Volcanoes erupt" in second.user
    assert "Volcanoes" not in second.system
    assert result.written_by == "offline" and result.problems
    assert result.narration and "Volcanoes" not in " ".join(result.narration)
    assert result.usage.llm_calls == 2
