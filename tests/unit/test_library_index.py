"""The library index: starter articles, retrieval, grade preference and persistence."""

from __future__ import annotations

from pathlib import Path

import pytest

from vividly_ray.domain.models import Grade, SourceDocument
from vividly_ray.library.documents import LibraryDocument
from vividly_ray.library.index import LibraryIndex
from vividly_ray.library.passages import document_passages, passage_position
from vividly_ray.library.query import search_query, strip_scaffolding, topic_phrase
from vividly_ray.library.starter import starter_documents
from vividly_ray.library.store import LocalLibrary, load_index


def document(
    source_id: str,
    title: str,
    paragraphs: tuple[str, ...],
    grade_band: str = "3-5",
    keywords: tuple[str, ...] = (),
) -> LibraryDocument:
    source = SourceDocument(
        source_id=source_id,
        title=title,
        subject="science",
        grade_band=grade_band,
        license="CC0-1.0",
        attribution=f"{title}, test",
    )
    return LibraryDocument(source=source, keywords=keywords, paragraphs=paragraphs)


def test_every_starter_article_parses_with_a_cc0_licence() -> None:
    documents = starter_documents()
    assert len(documents) >= 3
    ids = [d.source_id for d in documents]
    assert len(ids) == len(set(ids))
    for article in documents:
        assert article.source.license == "CC0-1.0", article.source_id
        assert "CC0" in article.source.attribution
        assert article.source.grade_band in ("K-2", "3-5", "6-8", "9-12")
        assert len(article.paragraphs) >= 3


def test_water_cycle_question_ranks_the_water_cycle_article_first() -> None:
    retrieval = load_index(None).retrieve("Explain the water cycle", Grade(5))
    assert retrieval.passages[0].passage.source_id == "science-water-cycle"
    assert retrieval.sources[0].source_id == "science-water-cycle"
    scores = [p.score for p in retrieval.passages]
    assert scores == sorted(scores, reverse=True)
    assert {p.passage.source_id for p in retrieval.passages} <= {
        s.source_id for s in retrieval.sources
    }


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("How do magnets work?", "science-magnets"),
        ("Explain photosynthesis for 8th grade students", "science-photosynthesis"),
        ("What are Newton's laws of motion? 2 minutes", "science-newtons-laws"),
    ],
)
def test_starter_questions_find_their_article(question: str, expected: str) -> None:
    retrieval = load_index(None).retrieve(question, Grade(6))
    assert retrieval.passages[0].passage.source_id == expected


def test_request_scaffolding_does_not_change_the_results() -> None:
    index = load_index(None)
    plain = index.retrieve("water cycle", Grade(5))
    dressed = index.retrieve("Explain the water cycle for grade 5 in a 3 minute video", Grade(5))
    assert [p.passage.passage_id for p in dressed.passages] == [
        p.passage.passage_id for p in plain.passages
    ]


def test_strip_scaffolding_and_topic_phrase() -> None:
    assert strip_scaffolding("Explain the water cycle for grade 5, 3 minutes") == "the water cycle"
    assert topic_phrase("Make a 2-minute video about Newton's second law") == "Newton's second law"
    assert topic_phrase("Explain photosynthesis for 8th grade students") == "photosynthesis"
    assert search_query("explain it, please").tokens == ()


def test_everyday_words_are_expanded_to_textbook_words() -> None:
    query = search_query("How far away is the Moon?")
    assert query.weights["moon"] == 1.0
    assert 0 < query.weights["distanc"] < 1.0


def test_grade_preference_is_mild_and_favours_the_nearest_band() -> None:
    text = ("Volcanoes erupt when magma rises through the crust.",)
    index = LibraryIndex(
        [
            document("young", "Volcanoes", text, grade_band="K-2"),
            document("older", "Volcanoes", text, grade_band="9-12"),
        ]
    )
    assert index.retrieve("volcanoes", Grade(1)).passages[0].passage.source_id == "young"
    assert index.retrieve("volcanoes", Grade(11)).passages[0].passage.source_id == "older"
    far, near = sorted(p.score for p in index.retrieve("volcanoes", Grade(1)).passages)
    assert far > 0.7 * near  # another band is still found, only ranked a little lower


def test_short_paragraphs_are_joined_and_ids_keep_the_position() -> None:
    long = " ".join(["Tides rise and fall twice a day."] * 8)
    doc = document("tides", "Tides", ("Short one.", "Short two.", long, "End."))
    passages = document_passages(doc)
    assert [p.passage_id for p in passages] == ["tides#p0", "tides#p2", "tides#p3"]
    assert passages[0].text == "Short one.\n\nShort two."
    assert [passage_position(p.passage_id) for p in passages] == [0, 2, 3]
    assert passage_position("other-retriever-id") is None


def test_vocabulary_holds_lowercased_titles_and_keywords() -> None:
    vocabulary = load_index(None).vocabulary()
    assert {"the water cycle", "evaporation", "photosynthesis", "how magnets work"} <= vocabulary


def test_add_replaces_a_document_with_the_same_id() -> None:
    index = LibraryIndex([document("rocks", "Rocks", ("Granite is an igneous rock.",))])
    index.add([document("rocks", "Rocks", ("Marble is a metamorphic rock.",))])
    assert len(index) == 1
    assert index.retrieve("granite", Grade(4)).passages == ()
    assert index.retrieve("marble", Grade(4)).passages[0].passage.source_id == "rocks"


def test_nothing_relevant_gives_an_empty_retrieval() -> None:
    index = load_index(None)
    assert index.retrieve("zzyzx qwerty", Grade(5)).passages == ()
    assert index.retrieve("explain it", Grade(5)).sources == ()


def test_limit_caps_the_number_of_passages() -> None:
    assert len(load_index(None).retrieve("water", Grade(5), limit=3).passages) == 3


def test_local_library_round_trip(tmp_path: Path) -> None:
    library = LocalLibrary(tmp_path / "library")
    assert library.documents() == ()
    rocks = document("rocks", "Rocks", ("Granite is an igneous rock.",), keywords=("granite",))
    tides = document("tides", "Tides", ("The moon pulls the oceans.",))
    library.add([rocks, tides])
    assert LocalLibrary(tmp_path / "library").documents() == (rocks, tides)

    newer = document("rocks", "Rocks", ("Marble is a metamorphic rock.",))
    library.add([newer])
    assert LocalLibrary(tmp_path / "library").documents() == (newer, tides)
    assert library.remove("tides") is True
    assert library.remove("tides") is False
    assert library.documents() == (newer,)
    assert [p.name for p in (tmp_path / "library").iterdir()] == ["documents.jsonl"]


def test_local_library_adds_files(tmp_path: Path) -> None:
    source = tmp_path / "comets.md"
    source.write_text("# Comets\n\nA comet is a ball of ice and dust.\n", encoding="utf-8")
    library = LocalLibrary(tmp_path / "library")
    (added,) = library.add_file(source)
    assert added.source.source_id == "comets"
    assert library.documents() == (added,)


def test_load_index_combines_starter_and_added_documents(tmp_path: Path) -> None:
    comets = document("comets", "Comets", ("A comet is a ball of ice and dust.",))
    LocalLibrary(tmp_path).add([comets])
    combined = load_index(tmp_path)
    assert combined.retrieve("comet", Grade(5)).passages[0].passage.source_id == "comets"
    assert len(combined) == len(starter_documents()) + 1
    alone = load_index(tmp_path, include_starter=False)
    assert [d.source_id for d in alone.documents()] == ["comets"]
    assert len(load_index(None, include_starter=False)) == 0


def test_an_added_document_replaces_the_starter_article_with_its_id(tmp_path: Path) -> None:
    replacement = document("science-water-cycle", "Water Cycle Notes", ("Rain falls.",))
    LocalLibrary(tmp_path).add([replacement])
    index = load_index(tmp_path)
    found = [d for d in index.documents() if d.source_id == "science-water-cycle"]
    assert found == [replacement]
