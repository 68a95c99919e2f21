"""Retrieval stays on topic, and too little material fails the retrieving stage clearly."""

from __future__ import annotations

import pytest

from vividly_ray.domain.errors import StageFailed
from vividly_ray.domain.models import Grade, Passage, Retrieval, RetrievedPassage, VideoRequest
from vividly_ray.library.store import load_index
from vividly_ray.pipeline.grounding import require_material, retrieval_limit
from vividly_ray.script.pacing import EstimatedPacing

SENTENCE = "Evaporation turns liquid water into water vapor when the sun warms it. "


def _retrieval(words_of_text: int) -> Retrieval:
    text = (SENTENCE * (words_of_text // 12 + 1)).strip()
    passage = Passage("d#0", "d", "Doc", text)
    return Retrieval("q", (RetrievedPassage(passage, 1.0),), ())


def test_nothing_found_names_the_topic_and_the_fix() -> None:
    request = VideoRequest("How do vaccines work?", Grade(7), 2)
    with pytest.raises(StageFailed) as caught:
        require_material(Retrieval("q", (), ()), request, "vaccines", EstimatedPacing())
    assert caught.value.stage == "retrieving"
    assert "'vaccines'" in caught.value.reason and "vividly library add" in caught.value.reason


def test_too_little_material_for_the_minutes_asked_fails() -> None:
    request = VideoRequest("Explain evaporation", Grade(7), 5)
    with pytest.raises(StageFailed, match="too little for a 5-minute video"):
        require_material(_retrieval(60), request, "evaporation", EstimatedPacing())


def test_enough_material_passes() -> None:
    require_material(
        _retrieval(400), VideoRequest("Explain evaporation", Grade(7), 2), "x", EstimatedPacing()
    )


def test_longer_videos_ask_for_more_passages() -> None:
    short = retrieval_limit(VideoRequest("q", Grade(5), 1))
    long = retrieval_limit(VideoRequest("q", Grade(5), 10))
    assert long > short >= 12


@pytest.mark.parametrize(
    "question, topic",
    [("How do tattoos work?", "tattoos"), ("How do tattoos stay in the skin?", "tattoos")],
)
def test_a_shared_common_word_does_not_make_a_passage_on_topic(question: str, topic: str) -> None:
    index = load_index(None)
    assert index.retrieve(question, Grade(7)).passages  # plain BM25 finds something...
    assert index.retrieve(question, Grade(7), topic=topic).passages == ()  # ...but off topic


@pytest.mark.parametrize(
    "question, topic, source",
    [
        ("How do magnets stick to the fridge?", "magnets", "science-magnets"),
        ("How do volcanoes erupt?", "volcanoes", "science-volcanoes"),
        ("Explain the water cycle", "water cycle", "science-water-cycle"),
    ],
)
def test_on_topic_passages_are_kept(question: str, topic: str, source: str) -> None:
    found = load_index(None).retrieve(question, Grade(6), topic=topic)
    assert len(found.passages) >= 5
    assert found.passages[0].passage.source_id == source
