"""The searchable library: documents, their passages and a BM25 index over them.

``LibraryIndex`` is the embedded ``Retriever``. Each passage is indexed with its document's title
and keywords as extra weighted fields, so a passage of "The Water Cycle" outranks a passage that
merely mentions water. A mild grade factor prefers documents written for a band near the
student's grade without hiding the only good document for another band.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from vividly_ray.domain.models import Grade, Passage, Retrieval, RetrievedPassage, SourceDocument
from vividly_ray.library.bm25 import Bm25Index, Field
from vividly_ray.library.passages import document_passages
from vividly_ray.library.query import search_query
from vividly_ray.library.records import ALL_GRADES, GRADE_BANDS, LibraryDocument
from vividly_ray.library.text import tokenize

TITLE_WEIGHT = 2.0
KEYWORD_WEIGHT = 1.0
TOPIC_WEIGHT = 0.5
GRADE_STEP_PENALTY = 0.08  # per band between the document's band and the student's
ALL_GRADES_FACTOR = 0.96  # a document for every grade ranks like one a little off the band


def grade_factor(grade_band: str, grade: Grade) -> float:
    """How much a document's band suits ``grade``: 1.0 on the band, a little less per band off."""
    if grade_band not in GRADE_BANDS:
        return ALL_GRADES_FACTOR if grade_band == ALL_GRADES else 1.0 - GRADE_STEP_PENALTY
    distance = abs(GRADE_BANDS.index(grade_band) - GRADE_BANDS.index(grade.band))
    return 1.0 - GRADE_STEP_PENALTY * distance


@dataclass(frozen=True)
class _Snapshot:
    """Everything a search needs, built together so a search never sees half an update."""

    documents: tuple[LibraryDocument, ...]
    passages: tuple[Passage, ...]
    owners: tuple[int, ...]  # for each passage, the index of its document
    bm25: Bm25Index
    vocabulary: frozenset[str]


def _build(documents: tuple[LibraryDocument, ...]) -> _Snapshot:
    passages: list[Passage] = []
    owners: list[int] = []
    items: list[tuple[Field, ...]] = []
    vocabulary: set[str] = set()
    for number, document in enumerate(documents):
        head = (
            Field.of(tokenize(document.source.title), TITLE_WEIGHT),
            Field.of(tokenize(" ".join(document.keywords)), KEYWORD_WEIGHT),
            Field.of(tokenize(document.topic), TOPIC_WEIGHT),
        )
        vocabulary.add(document.source.title.lower())
        vocabulary.update(keyword.lower() for keyword in document.keywords)
        for passage in document_passages(document):
            passages.append(passage)
            owners.append(number)
            items.append((Field.of(tokenize(passage.text)), *head))
    return _Snapshot(
        documents=documents,
        passages=tuple(passages),
        owners=tuple(owners),
        bm25=Bm25Index.build(items),
        vocabulary=frozenset(vocabulary),
    )


class LibraryIndex:
    """Library documents and a BM25 index over their passages; the embedded ``Retriever``."""

    def __init__(self, documents: Iterable[LibraryDocument] = ()) -> None:
        self._snapshot = _build(())
        self.add(documents)

    def add(self, documents: Iterable[LibraryDocument]) -> None:
        """Add documents, replacing any with the same id, and rebuild the index."""
        merged = {document.source_id: document for document in self._snapshot.documents}
        for document in documents:
            merged[document.source_id] = document
        # Rebuilding is cheap (hundreds of documents a second) and keeps statistics exact.
        self._snapshot = _build(tuple(merged.values()))

    def documents(self) -> tuple[LibraryDocument, ...]:
        return self._snapshot.documents

    def passages(self) -> tuple[Passage, ...]:
        return self._snapshot.passages

    def vocabulary(self) -> frozenset[str]:
        """Lowercased document titles and keywords: the topics this library can talk about."""
        return self._snapshot.vocabulary

    def __len__(self) -> int:
        return len(self._snapshot.documents)

    def retrieve(self, query: str, grade: Grade, limit: int = 12) -> Retrieval:
        """The best passages for a question, best first, with the documents they came from."""
        snapshot = self._snapshot
        wanted = search_query(query)
        scores = snapshot.bm25.scores(wanted.tokens, wanted.weights)
        ranked = sorted(
            (
                (
                    score
                    * grade_factor(snapshot.documents[snapshot.owners[n]].source.grade_band, grade),
                    n,
                )
                for n, score in scores.items()
                if score > 0
            ),
            key=lambda item: (-item[0], item[1]),
        )[: max(0, limit)]
        found = tuple(RetrievedPassage(snapshot.passages[n], score) for score, n in ranked)
        sources: dict[str, SourceDocument] = {}
        for _, n in ranked:
            source = snapshot.documents[snapshot.owners[n]].source
            sources.setdefault(source.source_id, source)
        return Retrieval(query=query, passages=found, sources=tuple(sources.values()))
