"""What a teacher would check in every script, on six starter articles, three grades and three
lengths: terms explained where they are named, complete bullets, meaningful unique titles, an
opening preview and a recap that restates each scene's key idea."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from vividly_ray.domain.models import Grade, Scene, SceneKind, Script, VideoRequest
from vividly_ray.library.index import LibraryIndex
from vividly_ray.library.store import load_index
from vividly_ray.library.text import tokenize, word_set
from vividly_ray.script.editing import narration_sentences
from vividly_ray.script.offline_writer import OfflineScriptWriter, proper_words
from vividly_ray.script.pacing import script_seconds
from vividly_ray.script.quality import (
    HARD_BULLET_WORDS,
    INVENTED,
    TOO_LONG,
    WEAK_END,
    bullet_problems,
)
from vividly_ray.script.terms import Shape, read, term_key
from vividly_ray.script.titles import title_key
from vividly_ray.script.vocabulary import ARTICLES

ARTICLES_CHECKED = (
    "science-water-cycle",
    "science-photosynthesis",
    "science-magnets",
    "science-seasons",
    "math-fractions",
    "social-studies-three-branches",
)
GRADES = (3, 5, 8)
MINUTES = (1, 2, 3)
SMALL = word_set("a an the and or but nor of in on at to for by with from as into per via")
EVAPORATION = (
    "Evaporation happens when liquid water warms up and turns into an invisible gas called "
    "water vapor."
)
Case = tuple[str, int, int]


@pytest.fixture(scope="module")
def index() -> LibraryIndex:
    return load_index(None)


@pytest.fixture(scope="module")
def scripts(index: LibraryIndex) -> dict[Case, Script]:
    writer = OfflineScriptWriter()
    titles = {d.source_id: d.source.title for d in index.documents()}
    found = {}
    for article in ARTICLES_CHECKED:
        question = f"Explain {titles[article]}"
        for grade in GRADES:
            for minutes in MINUTES:
                request = VideoRequest(question=question, grade=Grade(grade), minutes=minutes)
                found[(article, grade, minutes)] = writer.write(
                    request, index.retrieve(question, request.grade)
                )
    return found


def concepts(script: Script) -> list[Scene]:
    return [scene for scene in script.scenes if scene.kind is SceneKind.CONCEPT]


def paragraphs_of(index: LibraryIndex, script: Script, grade: int) -> Iterator[list[str]]:
    """The narratable sentences of each paragraph of the script's sources."""
    for document in index.documents():
        if document.source_id in {s.source_id for s in script.sources}:
            for paragraph in document.paragraphs:
                yield narration_sentences(paragraph, Grade(grade))


def test_every_script_has_three_to_eight_concepts_near_the_target(
    scripts: dict[Case, Script],
) -> None:
    for (article, grade, minutes), script in scripts.items():
        assert 3 <= len(concepts(script)) <= 8, (article, grade, minutes)
        seconds = script_seconds(script)
        assert seconds == pytest.approx(minutes * 60, rel=0.10), (article, grade, minutes)


def test_a_term_a_scene_names_is_explained_in_that_scene(
    index: LibraryIndex, scripts: dict[Case, Script]
) -> None:
    for (article, grade, minutes), script in scripts.items():
        for paragraph in paragraphs_of(index, script, grade):
            defined = {n: read(s).term for n, s in enumerate(paragraph) if read(s).defines}
            for scene in concepts(script):
                said = set(scene.narration)
                explained = {term_key(read(s).term or "") for s in said if read(s).defines}
                for n, sentence in enumerate(paragraph):
                    if sentence not in said:
                        continue
                    tokens = tokenize(sentence)
                    for later, term in defined.items():
                        key = term_key(term or "")
                        named = (
                            read(sentence).term is not None
                            and term_key(read(sentence).term or "") == key
                        )
                        mentioned = any(
                            tuple(tokens[i : i + len(key)]) == key for i in range(len(tokens))
                        )
                        if later > n and (named or mentioned):
                            assert key in explained, (article, grade, minutes, sentence, term)


def test_no_scene_ends_on_a_sentence_that_only_announces_a_term(
    index: LibraryIndex, scripts: dict[Case, Script]
) -> None:
    for case, script in scripts.items():
        article = [s for p in paragraphs_of(index, script, 12) for s in p]
        explained_somewhere = {term_key(read(s).term or "") for s in article if read(s).defines}
        for scene in concepts(script):
            last = read(scene.narration[-1])
            if last.shape is Shape.ANNOUNCED and last.term:
                if term_key(last.term) not in explained_somewhere:
                    continue  # "The real cause of the seasons is the tilt of Earth's axis."
                explained = {term_key(read(s).term or "") for s in scene.narration[:-1]}
                assert term_key(last.term) in explained, (case, scene.narration)


def test_the_water_cycle_explains_evaporation(scripts: dict[Case, Script]) -> None:
    for grade in GRADES:
        for minutes in (2, 3):
            script = scripts[("science-water-cycle", grade, minutes)]
            scene = next(s for s in concepts(script) if EVAPORATION in s.narration)
            assert "Evaporation" in scene.title
            assert "Evaporation: liquid water turns into water vapor" in scene.bullets


def test_the_water_cycle_covers_its_steps_before_its_asides(scripts: dict[Case, Script]) -> None:
    script = scripts[("science-water-cycle", 5, 2)]
    titles = " ".join(scene.title for scene in concepts(script))
    narrated = " ".join(s for scene in concepts(script) for s in scene.narration)
    for step in ("Evaporation", "Condensation", "Precipitation", "Collection"):
        assert step in titles and f"{step} is" in narrated or f"{step} happens" in narrated
    assert "You can see" not in narrated  # the examples wait for a longer video


def test_bullets_are_complete_short_phrases_from_their_sentences(
    scripts: dict[Case, Script],
) -> None:
    flagged = total = 0
    for case, script in scripts.items():
        for scene in concepts(script):
            assert 2 <= len(scene.bullets) <= 4, (case, scene.title)
            for bullet in scene.bullets:
                problems = min(
                    (bullet_problems(bullet, sentence) for sentence in scene.narration),
                    key=lambda found: (INVENTED in found, len(found)),
                )
                assert len(bullet.split()) <= HARD_BULLET_WORDS, (case, bullet)
                assert not {INVENTED, WEAK_END, TOO_LONG} & set(problems), (case, bullet)
                flagged += bool(problems)
                total += 1
    assert flagged <= 0.05 * total


def _is_title_case(title: str) -> bool:
    words = title.rstrip("?").split()
    return all(
        (n and word in SMALL) or word[:1].isupper() or not word[:1].isalpha()
        for n, word in enumerate(words)
    )


def test_titles_are_unique_title_case_and_never_a_stray_word(
    index: LibraryIndex, scripts: dict[Case, Script]
) -> None:
    for case, script in scripts.items():
        names = proper_words([" ".join(p) for p in paragraphs_of(index, script, 12)])
        titles = [scene.title for scene in concepts(script)]
        assert len({title_key(t) for t in titles}) == len(titles), (case, titles)
        for scene in concepts(script):
            assert _is_title_case(scene.title), (case, scene.title)
            assert len(scene.title.split()) <= 6, (case, scene.title)
            assert not re.fullmatch(r"Part \d+", scene.title), (case, titles)
            if len(scene.title.split()) == 1:
                # A single word is a term the scene explains or describes, or a name.
                terms = {(read(s).term or "").lower() for s in scene.narration}
                assert scene.title.lower() in terms or scene.title in names, (case, scene.title)


def test_the_preview_lists_the_concept_titles_in_running_text(
    scripts: dict[Case, Script],
) -> None:
    for case, script in scripts.items():
        preview = script.scenes[0].narration[1]
        match = re.fullmatch(r"We will look at (.+)\.", preview)
        assert match is not None, (case, preview)
        listed = match.group(1)
        items = re.split(r", (?:and )?", listed)
        if len(items) == 1:
            items = listed.split(" and ", 1)
        if len(items) >= 3:
            assert ", and " in listed, (case, preview)
        assert 2 <= len(items) <= 4, (case, preview)
        titles = [scene.title.lower() for scene in concepts(script)]
        for item in items:
            words = item.split()
            plain = " ".join(words[1:] if words[0] in ARTICLES else words)
            assert any(t.removeprefix("the ").startswith(plain.lower()) for t in titles), (
                case,
                item,
            )
            assert not words[0][:1].isupper() or words[0] in plain.split()[:1], (case, item)


def test_the_water_cycle_preview_reads_naturally(scripts: dict[Case, Script]) -> None:
    preview = scripts[("science-water-cycle", 5, 2)].scenes[0].narration[1]
    assert preview == "We will look at evaporation, the sun, precipitation, and collection."


def test_the_recap_restates_each_scene_by_its_definition(scripts: dict[Case, Script]) -> None:
    for case, script in scripts.items():
        scenes = concepts(script)
        recap = script.scenes[-2]
        assert recap.bullets == tuple(scene.title for scene in scenes)
        for scene, restated in zip(scenes, recap.narration[1:], strict=True):
            source = [s for s in scene.narration if s.startswith(restated.rstrip("."))]
            assert source, (case, restated)
            term = scene.title.split(" and ")[0].lower()
            definition = [
                s
                for s in scene.narration
                if read(s).defines and (read(s).term or "").lower() == term
            ]
            if definition and len(definition[0].split()) <= 25:
                assert source[0] == definition[0], (case, scene.title, restated)


def test_dashed_asides_are_dropped_from_narration() -> None:
    from vividly_ray.script.editing import light_edit

    edited = light_edit(
        "Kilometers are clumsy; so\u2014as discussed in Chapter 2\u2014astronomers use light-years."
    )
    assert edited == "Kilometers are clumsy; so astronomers use light-years."


def test_the_last_word_of_a_title_is_capitalised() -> None:
    from vividly_ray.script.titles import title_case

    assert title_case("alpha Centauri a") == "Alpha Centauri A"
    assert title_case("the speed of light") == "The Speed of Light"


def test_a_recap_cut_keeps_numbers_and_lists_whole() -> None:
    from vividly_ray.script.scenes import recap_sentence

    number = (
        "The Louisiana Purchase was the 1803 sale of about 828,000 square miles of land by "
        "France to the United States for about 15 million dollars."
    )
    listed = (
        "Economics is the study of how people, businesses, and governments make choices "
        "about the scarce resources they want."
    )
    clause = (
        "Every magnet has two ends called poles, and opposite poles pull toward each other "
        "with a force that grows stronger as they come closer."
    )
    assert recap_sentence(number) == number
    assert recap_sentence(listed) == listed
    assert recap_sentence(clause) == "Every magnet has two ends called poles."


def test_a_sentence_pointing_back_at_a_dropped_one_goes_too() -> None:
    from vividly_ray.script.editing import narration_sentences

    text = (
        "When people first found magnetic rocks in the hills of ancient Magnesia, they most "
        "likely noticed that some parts of each rock pulled on bits of iron much more strongly "
        "than other parts of the same rock did. These areas are called the poles of a magnet. "
        "Every magnet has a north pole and a south pole. They always come in pairs."
    )
    assert narration_sentences(text, Grade(4)) == [
        "Every magnet has a north pole and a south pole.",
        "They always come in pairs.",
    ]
