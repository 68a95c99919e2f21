"""The offline script writer: structure, grounding, pacing, credits and honesty."""

from __future__ import annotations

import re
from collections.abc import Sequence

import pytest

from vividly_ray.domain.errors import StageFailed
from vividly_ray.domain.models import (
    Grade,
    Passage,
    Retrieval,
    RetrievedPassage,
    SceneKind,
    Script,
    SourceDocument,
    VideoRequest,
)
from vividly_ray.library.index import LibraryIndex
from vividly_ray.library.store import load_index
from vividly_ray.script.editing import light_edit
from vividly_ray.script.offline_writer import OfflineScriptWriter
from vividly_ray.script.pacing import script_seconds
from vividly_ray.script.selection import candidates

WATER = "Explain the water cycle"


@pytest.fixture(scope="module")
def index() -> LibraryIndex:
    return load_index(None)


def write(index: LibraryIndex, question: str, grade: int, minutes: float) -> Script:
    request = VideoRequest(question=question, grade=Grade(grade), minutes=minutes)
    return OfflineScriptWriter().write(request, index.retrieve(question, request.grade))


def normalised(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", light_edit(text).lower()))


def source_of(sentence: str, passages: Sequence[Passage]) -> str | None:
    """The document whose passage holds the sentence, verbatim or lightly edited."""
    wanted = normalised(sentence)
    for passage in passages:
        if wanted in normalised(passage.text):
            return passage.source_id
    return None


def retrieval_of(*items: tuple[str, str, float]) -> Retrieval:
    """A hand-made retrieval: (passage id, text, score); the source id is the part before '#'."""
    passages = tuple(
        RetrievedPassage(
            Passage(
                passage_id=pid, source_id=pid.split("#")[0], title=pid.split("#")[0], text=text
            ),
            score,
        )
        for pid, text, score in items
    )
    sources = tuple(
        SourceDocument(
            source_id=sid,
            title=sid.title(),
            subject="science",
            grade_band="3-5",
            license="CC0-1.0",
            attribution=f"{sid.title()}, test library",
        )
        for sid in dict.fromkeys(p.passage.source_id for p in passages)
    )
    return Retrieval(query="test", passages=passages, sources=sources)


def test_structure_is_title_concepts_check_recap_credits(index: LibraryIndex) -> None:
    script = write(index, WATER, 5, 2)
    kinds = [scene.kind for scene in script.scenes]
    assert kinds[0] is SceneKind.TITLE
    assert kinds[-3:] == [SceneKind.CHECK, SceneKind.RECAP, SceneKind.CREDITS]
    concepts = kinds[1:-3]
    assert 3 <= len(concepts) <= 8
    assert set(concepts) == {SceneKind.CONCEPT}
    assert [scene.index for scene in script.scenes] == list(range(len(script.scenes)))
    assert script.title == "The Water Cycle"
    assert script.scenes[0].narration[0] == "Let's explore the water cycle."
    assert len(script.scenes[0].narration) == 2


def test_every_concept_sentence_comes_from_a_retrieved_passage(index: LibraryIndex) -> None:
    retrieval = index.retrieve(WATER, Grade(5))
    passages = [r.passage for r in retrieval.passages]
    script = OfflineScriptWriter().write(VideoRequest(WATER, Grade(5), 3), retrieval)
    for scene in script.scenes:
        if scene.kind is not SceneKind.CONCEPT:
            continue
        for sentence in scene.narration:
            found = source_of(sentence, passages)
            assert found is not None, sentence
            assert found in scene.source_ids


def test_recap_restates_the_concept_scenes(index: LibraryIndex) -> None:
    script = write(index, WATER, 5, 2)
    concepts = [s for s in script.scenes if s.kind is SceneKind.CONCEPT]
    recap = script.scenes[-2]
    assert recap.bullets == tuple(scene.title for scene in concepts)
    assert len(recap.narration) == len(concepts) + 1
    for scene, sentence in zip(concepts, recap.narration[1:], strict=True):
        assert any(normalised(sentence) in normalised(said) for said in scene.narration)


@pytest.mark.parametrize("minutes", [1, 2, 3])
def test_estimated_length_is_within_ten_percent(index: LibraryIndex, minutes: int) -> None:
    script = write(index, WATER, 5, minutes)
    assert script.target_seconds == minutes * 60
    assert script_seconds(script) == pytest.approx(minutes * 60, rel=0.10)


def test_longer_requests_narrate_more(index: LibraryIndex) -> None:
    lengths = [script_seconds(write(index, WATER, 5, minutes)) for minutes in (1, 2, 3)]
    assert lengths == sorted(lengths)


def test_credits_list_every_source_with_licence_and_attribution(index: LibraryIndex) -> None:
    script = write(index, WATER, 5, 2)
    credits = script.scenes[-1]
    used = {i for s in script.scenes if s.kind is SceneKind.CONCEPT for i in s.source_ids}
    assert {source.source_id for source in script.sources} == used
    assert set(credits.source_ids) == used
    assert len(credits.bullets) == len(script.sources)
    for source, line in zip(script.sources, credits.bullets, strict=True):
        assert source.license in line
        assert source.attribution in line
    # Grade 5 hears the plain line; it still says where the sources and licences are.
    assert credits.narration == ("Our sources and their licences are on the screen.",)


def test_concept_scenes_have_short_bullets_revealed_with_their_sentences(
    index: LibraryIndex,
) -> None:
    for minutes in (1, 2, 3):
        script = write(index, WATER, 5, minutes)
        for scene in script.scenes:
            if scene.kind is not SceneKind.CONCEPT:
                continue
            assert 2 <= len(scene.bullets) <= 4, scene
            assert all(len(b.split()) <= 9 for b in scene.bullets), scene.bullets
            assert len(scene.reveal_at) == len(scene.bullets)
            assert list(scene.reveal_at) == sorted(set(scene.reveal_at))
            assert scene.reveal_at[0] == 0 and scene.reveal_at[-1] < len(scene.narration)
            assert scene.title and len(scene.title.split()) <= 6


def test_scenes_follow_the_article_order(index: LibraryIndex) -> None:
    article = next(d for d in index.documents() if d.source_id == "science-water-cycle")
    text = normalised(" ".join(article.paragraphs))
    script = write(index, WATER, 5, 3)
    starts = [
        text.index(normalised(scene.narration[0]))
        for scene in script.scenes
        if scene.kind is SceneKind.CONCEPT
    ]
    # The first scene answers the question; the rest follow the article.
    assert starts[1:] == sorted(starts[1:])


def test_off_topic_passages_never_get_in(index: LibraryIndex) -> None:
    retrieval = index.retrieve(WATER, Grade(5))
    assert len(retrieval.sources) > 1  # other articles were retrieved too
    script = write(index, WATER, 5, 3)
    assert {source.source_id for source in script.sources} == {"science-water-cycle"}


def test_sentences_suit_young_students(index: LibraryIndex) -> None:
    for grade, limit in ((2, 20), (4, 25)):
        script = write(index, "How do magnets work?", grade, 2)
        for scene in script.scenes:
            if scene.kind is SceneKind.CONCEPT:
                assert all(len(s.split()) <= limit for s in scene.narration)


def test_same_input_gives_the_same_script(index: LibraryIndex) -> None:
    request = VideoRequest(WATER, Grade(5), 2)
    retrieval = index.retrieve(WATER, request.grade)
    assert OfflineScriptWriter().write(request, retrieval) == OfflineScriptWriter().write(
        request, retrieval
    )


def test_nothing_relevant_fails_the_stage_with_advice() -> None:
    empty = Retrieval(query="quasars", passages=(), sources=())
    with pytest.raises(StageFailed) as raised:
        OfflineScriptWriter().write(VideoRequest("Explain quasars", Grade(7), 2), empty)
    assert raised.value.stage == "generating_script"
    assert "'quasars'" in raised.value.reason
    assert "vividly library add" in raised.value.reason


def test_passages_with_nothing_narratable_fail_the_stage() -> None:
    retrieval = retrieval_of(("figures#p0", "See Figure 3. Table 2 lists values.", 3.0))
    with pytest.raises(StageFailed):
        OfflineScriptWriter().write(VideoRequest("figures", Grade(7), 1), retrieval)


def test_scarce_material_gives_a_shorter_script_without_filler() -> None:
    text = (
        "Geysers are hot springs that erupt. Water underground is heated by hot rock. "
        "Pressure builds until the water bursts out. Old Faithful is a famous geyser."
    )
    retrieval = retrieval_of(("geysers#p0", text, 5.0))
    script = OfflineScriptWriter().write(VideoRequest("Explain geysers", Grade(5), 5), retrieval)
    assert script_seconds(script) < 0.5 * script.target_seconds
    concept = [s for s in script.scenes if s.kind is SceneKind.CONCEPT]
    narrated = [sentence for scene in concept for sentence in scene.narration]
    assert len(narrated) == len(set(narrated)) == 4


def test_low_scoring_passages_are_left_out_even_when_short() -> None:
    retrieval = retrieval_of(
        ("geysers#p0", "Geysers are hot springs that erupt. Water is heated by hot rock.", 6.0),
        ("geysers#p1", "Pressure builds until the water bursts out. It can go very high.", 5.5),
        ("cooking#p0", "Boiling water cooks pasta. Salt makes it tasty.", 1.5),
    )
    script = OfflineScriptWriter().write(VideoRequest("Explain geysers", Grade(5), 3), retrieval)
    assert [source.source_id for source in script.sources] == ["geysers"]


def test_passages_without_a_source_record_are_never_narrated() -> None:
    retrieval = retrieval_of(
        ("geysers#p0", "Geysers are hot springs that erupt. Water is heated by hot rock.", 6.0),
        ("mystery#p0", "Geysers shoot water very high into the air. Some erupt hourly.", 6.5),
    )
    uncredited = Retrieval(
        query=retrieval.query,
        passages=retrieval.passages,
        sources=tuple(s for s in retrieval.sources if s.source_id != "mystery"),
    )
    script = OfflineScriptWriter().write(VideoRequest("Explain geysers", Grade(5), 1), uncredited)
    used = {i for scene in script.scenes for i in scene.source_ids}
    assert used == {"geysers"}


def test_light_edits_drop_asides_and_split_long_sentences_at_semicolons() -> None:
    long = (
        "Hot springs form where water seeps deep underground and meets magma chambers; "
        "the heated water then rises back up through cracks in the ground to form pools."
    )
    text = f"Geysers (from an Icelandic word) are quite rare. {long} They are found in few places."
    retrieval = retrieval_of(("geysers#p0", text, 5.0))
    script = OfflineScriptWriter().write(VideoRequest("Explain geysers", Grade(4), 1), retrieval)
    narrated = [s for scene in script.scenes[1:-2] for s in scene.narration]
    assert "Geysers are quite rare." in narrated
    assert (
        "Hot springs form where water seeps deep underground and meets magma chambers." in narrated
    )
    assert all("(" not in s for s in narrated)


def test_younger_grades_get_the_simpler_sentences() -> None:
    text = (
        "Volcanoes are openings in the ground. "
        "Extraordinarily viscous andesitic magma accumulates beneath stratovolcanoes episodically. "
        "Hot melted rock comes up from deep down."
    )
    retrieval = retrieval_of(("volcanoes#p0", text, 5.0))
    (candidate,) = candidates(retrieval, ["volcano"], Grade(1))
    picked = [sentence.text for sentence in candidate.pick(2)]
    assert picked == [
        "Volcanoes are openings in the ground.",
        "Hot melted rock comes up from deep down.",
    ]
