"""The library and the offline writer on two real OpenStax textbooks (read from ../shared/oer)."""

from __future__ import annotations

from pathlib import Path

import pytest

from vividly_ray.domain.models import Grade, SceneKind, VideoRequest
from vividly_ray.library.documents import load_documents
from vividly_ray.library.index import LibraryIndex
from vividly_ray.library.records import LibraryDocument
from vividly_ray.script.offline_writer import OfflineScriptWriter
from vividly_ray.script.pacing import script_seconds

pytestmark = pytest.mark.integration

OER = Path(__file__).resolve().parents[2].parent / "shared" / "oer"
STARS = "How do we know how far away stars are?"


@pytest.fixture(scope="module")
def books() -> tuple[LibraryDocument, ...]:
    files = sorted(OER.glob("*.jsonl"))
    if not files:
        pytest.skip(f"no OER books at {OER}")
    return tuple(document for path in files for document in load_documents(path))


@pytest.fixture(scope="module")
def index(books: tuple[LibraryDocument, ...]) -> LibraryIndex:
    return LibraryIndex(books)


def test_both_books_are_read_with_their_licences(books: tuple[LibraryDocument, ...]) -> None:
    licences = {document.source.license for document in books}
    assert "Creative Commons Attribution License" in licences
    assert any("NonCommercial-ShareAlike" in licence for licence in licences)
    assert len(books) > 250
    assert all(document.source.attribution for document in books)


def test_both_books_index_into_thousands_of_passages(books: tuple[LibraryDocument, ...]) -> None:
    index = LibraryIndex(books)
    assert len(index.passages()) > 5000


def test_star_distance_question_finds_astronomy_passages(index: LibraryIndex) -> None:
    retrieval = index.retrieve(STARS, Grade(9))
    assert retrieval.passages
    top = retrieval.passages[:5]
    assert all(p.passage.source_id.startswith("openstax-astronomy-2e") for p in top)
    texts = " ".join(p.passage.text.lower() for p in retrieval.passages)
    assert "parallax" in texts
    assert sum("distance" in p.passage.text.lower() for p in retrieval.passages) >= 6


def test_parallax_question_finds_passages_about_parallax(index: LibraryIndex) -> None:
    retrieval = index.retrieve("What is stellar parallax?", Grade(10))
    assert all("parallax" in p.passage.text.lower() for p in retrieval.passages[:5])
    assert "Surveying the Stars" in {source.title for source in retrieval.sources[:3]}


def test_script_for_stars_credits_the_openstax_attribution(index: LibraryIndex) -> None:
    request = VideoRequest(question=STARS, grade=Grade(9), minutes=2)
    retrieval = index.retrieve(STARS, request.grade)
    script = OfflineScriptWriter().write(request, retrieval)
    credits = script.scenes[-1]
    assert credits.kind is SceneKind.CREDITS
    assert script.sources
    for source in script.sources:
        assert "OpenStax" in source.attribution
        assert any(source.attribution in line for line in credits.bullets)
    assert script_seconds(script) == pytest.approx(120, rel=0.10)
