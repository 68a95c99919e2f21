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
TOPIC_COVERAGE = 0.5  # share of the topic's IDF a passage (or its document's head) must hold
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
    heads: tuple[frozenset[str], ...]  # per document: tokens of its title, keywords and topic
    bodies: tuple[frozenset[str], ...]  # per passage: tokens of its text
    wholes: tuple[frozenset[str], ...]  # per document: every token it holds
    keywords: dict[str, tuple[str, ...]]  # per source id: the document's keywords


def _build(documents: tuple[LibraryDocument, ...]) -> _Snapshot:
    passages: list[Passage] = []
    owners: list[int] = []
    items: list[tuple[Field, ...]] = []
    vocabulary: set[str] = set()
    heads: list[frozenset[str]] = []
    bodies: list[frozenset[str]] = []
    wholes: list[frozenset[str]] = []
    for number, document in enumerate(documents):
        head = (
            Field.of(tokenize(document.source.title), TITLE_WEIGHT),
            Field.of(tokenize(" ".join(document.keywords)), KEYWORD_WEIGHT),
            Field.of(tokenize(document.topic), TOPIC_WEIGHT),
        )
        heads.append(frozenset(token for field in head for token in field.counts))
        whole: set[str] = set(heads[-1])
        vocabulary.add(document.source.title.lower())
        vocabulary.update(keyword.lower() for keyword in document.keywords)
        for passage in document_passages(document):
            passages.append(passage)
            owners.append(number)
            body = Field.of(tokenize(passage.text))
            bodies.append(frozenset(body.counts))
            whole.update(body.counts)
            items.append((body, *head))
        wholes.append(frozenset(whole))
    return _Snapshot(
        documents=documents,
        passages=tuple(passages),
        owners=tuple(owners),
        bm25=Bm25Index.build(items),
        vocabulary=frozenset(vocabulary),
        heads=tuple(heads),
        bodies=tuple(bodies),
        wholes=tuple(wholes),
        keywords={d.source_id: tuple(d.keywords) for d in documents},
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

    def keywords(self, source_id: str) -> tuple[str, ...]:
        """A document's keywords ("" id or an unknown one: none)."""
        return self._snapshot.keywords.get(source_id, ())

    def vocabulary(self) -> frozenset[str]:
        """Lowercased document titles and keywords: the topics this library can talk about."""
        return self._snapshot.vocabulary

    def __len__(self) -> int:
        return len(self._snapshot.documents)

    def retrieve(self, query: str, grade: Grade, limit: int = 12, topic: str = "") -> Retrieval:
        """The best passages for a question, best first, with the documents they came from.

        With a ``topic`` (the validator's topic phrase), only passages that are about it are
        returned: the passage with its document's title and keywords must hold at least half of
        the topic's weight (IDF), or the document as a whole must, and the passage names a word
        of the topic. A passage that shares only a common word with the question ("work" in
        "How do vaccines work?") never grounds a video.
        """
        snapshot = self._snapshot
        wanted = search_query(query)
        scores = snapshot.bm25.scores(wanted.tokens, wanted.weights)
        if topic.strip():
            scores = {n: v for n, v in scores.items() if self._about(n, topic)}
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
        return Retrieval(
            query=query,
            passages=found,
            sources=tuple(sources.values()),
            query_terms=tuple(wanted.tokens),
        )

    def _about(self, passage: int, topic: str) -> bool:
        snapshot = self._snapshot
        tokens = set(tokenize(topic))
        if not tokens:
            return True
        weights = {token: snapshot.bm25.idf(token) for token in tokens}
        total = sum(weights.values())
        owner = snapshot.owners[passage]
        near = snapshot.heads[owner] | snapshot.bodies[passage]
        if sum(w for token, w in weights.items() if token in near) >= TOPIC_COVERAGE * total:
            return True
        whole = snapshot.wholes[owner]
        return (
            bool(tokens & snapshot.bodies[passage])
            and sum(w for token, w in weights.items() if token in whole) >= TOPIC_COVERAGE * total
        )
