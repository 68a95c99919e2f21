"""What can be narrated: one candidate per key idea, with its sentences valued.

A key idea is a paragraph of an on-topic passage (a long paragraph is cut into parts of at most
``MAX_IDEA_SENTENCES``), so each concept scene explains one thing. Passages below a relevance
floor (a share of the best passage's score) never get in, so a short library gives a short honest
script instead of padding. Sentences that define one of the document's key terms are worth most,
examples and asides least; a sentence that names a term is always kept with the sentence that
explains it, and no scene ends on a sentence that only announces what comes next.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from vividly_ray.domain.models import Grade, Retrieval, RetrievedPassage
from vividly_ray.library.passages import passage_position
from vividly_ray.library.text import tokenize
from vividly_ray.script.bullets import summarize
from vividly_ray.script.editing import narration_sentences, readability, refers_back
from vividly_ray.script.quality import bullet_problems
from vividly_ray.script.terms import DEFINING, Shape, mentions, read, term_key

_EXAMPLE = re.compile(
    r"^(?:for example|for instance|you can see|imagine|think (?:of|about)|picture|suppose|try|"
    r"have you ever|just as)\b|\b(?:for example|for instance)\b",
    re.IGNORECASE,
)
RELEVANCE_FLOOR = 0.6  # a passage scoring under this share of the best one is off topic
MAX_IDEA_SENTENCES = 5  # a longer paragraph is cut into parts of about equal size

Key = tuple[str, ...]  # a term as search tokens


@dataclass(frozen=True)
class Sentence:
    """A narratable sentence of a key idea; ``order`` is its place in the idea."""

    text: str
    order: int
    score: float
    defines: Key | None = None  # the key term it explains
    announces: Key | None = None  # a term it only names ("The next step is condensation.")
    mentions: frozenset[Key] = frozenset()


@dataclass(frozen=True)
class Candidate:
    """One key idea of an on-topic document, ready to be chosen."""

    passage_id: str
    source_id: str
    document_rank: int
    position: int
    priority: float
    sentences: tuple[Sentence, ...]

    def _closure(self, chosen: set[int], added: int) -> set[int]:
        """``added`` and the later sentences that explain the terms it names or mentions."""
        wanted = {added}
        pending = [added]
        while pending:
            sentence = self.sentences[pending.pop()]
            names = set(sentence.mentions) | ({sentence.announces} if sentence.announces else set())
            for key in names:
                explained = any(self.sentences[i].defines == key for i in chosen | wanted)
                later = [s.order for s in self.sentences[sentence.order + 1 :] if s.defines == key]
                if later and not explained:
                    wanted.add(later[0])
                    pending.append(later[0])
        return wanted - chosen

    def pick(self, count: int) -> tuple[Sentence, ...]:
        """The ``count`` most valuable sentences (a few more where a named term needs its
        explanation), in order, never ending on a sentence that only announces a term."""
        ranked = sorted(self.sentences, key=lambda s: (-s.score, s.order))
        chosen: set[int] = set()
        for sentence in ranked:
            if len(chosen) >= count:
                break
            if sentence.order in chosen:
                continue
            needed = self._closure(chosen, sentence.order)
            if chosen and len(chosen) + len(needed) > count + 1:
                continue
            chosen |= needed
        picked = [self.sentences[i] for i in sorted(chosen)]
        defined = {s.defines for s in picked}
        if picked and picked[-1].announces and picked[-1].announces not in defined:
            spare = [s for s in ranked if s.order not in chosen and not s.announces]
            picked.pop()
            if len(picked) < 2 and spare:
                picked = sorted([*picked, spare[0]], key=lambda s: s.order)
        return tuple(picked)


def is_example(sentence: str) -> bool:
    """Whether a sentence is an example or an aside rather than a step of the explanation."""
    return bool(_EXAMPLE.search(sentence)) or sentence.rstrip().endswith("?")


def on_topic(retrieval: Retrieval) -> list[RetrievedPassage]:
    """The retrieved passages that may be narrated: on topic and from a creditable document."""
    ranked = [r for r in retrieval.passages if r.score > 0]
    if not ranked:
        return []
    top = max(r.score for r in ranked)
    creditable = {source.source_id for source in retrieval.sources}
    return [
        r for r in ranked if r.score >= RELEVANCE_FLOOR * top and r.passage.source_id in creditable
    ]


def key_terms(retrieval: Retrieval, keywords: Iterable[str] = ()) -> frozenset[str]:
    """The terms the on-topic passages name or explain, plus the documents' own keywords."""
    found = {keyword.lower() for keyword in keywords}
    for retrieved in on_topic(retrieval):
        for sentence in narration_sentences(retrieved.passage.text, Grade(12)):
            reading = read(sentence)
            if reading.term and reading.defines:
                found.add(reading.term.lower())
    return frozenset(found)


@dataclass(frozen=True)
class _Material:
    """What valuing a sentence needs: the key terms as written and how often the material
    mentions each (by search tokens), the question's tokens and the grade."""

    known: frozenset[str]
    uses: Mapping[Key, int]
    topic: frozenset[str]
    grade: Grade


def _sentence(text: str, order: int, material: _Material) -> Sentence:
    """A sentence valued: explaining a term the material keeps using is worth most."""
    reading = read(text, material.known)
    tokens = tokenize(text)
    topic = material.topic
    key = term_key(reading.term) if reading.term else None
    relevance = len(topic & set(tokens)) / len(topic) if topic else 0.0
    score = 0.3 * relevance + 0.3 * readability(text, material.grade).ease
    if key and reading.shape in DEFINING:
        uses = material.uses.get(key, 1) - 1  # the other sentences that mention the term
        score += 0.7 + 0.15 * min(4, uses) + (0.3 if topic & set(key) else 0.0)
    elif key:
        score += 0.2
    said = frozenset(
        k for k in material.uses if k != key and not set(k) <= topic and mentions(tokens, k)
    )
    score += 0.15 * min(3, len(said)) + (0.25 if order == 0 else 0.0)
    score -= 0.6 if is_example(text) and not reading.defines else 0.0
    # A sentence whose bullet reads as a complete phrase makes a better slide.
    clean = not bullet_problems(summarize(text, known=material.known).text, text)
    score += 0.15 if clean else 0.0
    return Sentence(
        text=text,
        order=order,
        score=score,
        defines=key if key and reading.shape in DEFINING else None,
        # Only a term the material explains somewhere is "announced"; "The real cause of the
        # seasons is the tilt of Earth's axis" states a fact of its own.
        announces=key if reading.shape is Shape.ANNOUNCED and key in material.uses else None,
        mentions=said,
    )


def _ideas(text: str, grade: Grade) -> list[list[str]]:
    """The narratable sentences of a passage, one list per key idea."""
    ideas: list[list[str]] = []
    for paragraph in text.split("\n\n"):
        sentences = narration_sentences(paragraph, grade)
        if not sentences:
            continue
        parts = -(-len(sentences) // MAX_IDEA_SENTENCES)
        size = -(-len(sentences) // parts)
        chunks = [sentences[i : i + size] for i in range(0, len(sentences), size)]
        for n in range(1, len(chunks)):
            # An idea may not open with a sentence that points back into the previous idea.
            while chunks[n] and refers_back(chunks[n][0]):
                chunks[n - 1] = chunks[n - 1] + chunks[n][:1]
                chunks[n] = chunks[n][1:]
        ideas.extend(chunk for chunk in chunks if chunk)
    # A one-sentence idea joins its neighbour: a scene needs two bullets.
    merged: list[list[str]] = []
    for idea in ideas:
        if merged and (len(idea) == 1 or len(merged[-1]) == 1):
            merged[-1] = merged[-1] + idea
        else:
            merged.append(idea)
    return merged


def _uses(passages: Sequence[RetrievedPassage], known: Iterable[str]) -> dict[Key, int]:
    """Each key term and how many sentences of the on-topic material mention it."""
    sentences = [
        tokenize(sentence)
        for retrieved in passages
        for sentence in narration_sentences(retrieved.passage.text, Grade(12))
    ]
    keys = sorted({term_key(term) for term in known} - {()})
    return {key: sum(1 for tokens in sentences if mentions(tokens, key)) for key in keys}


def candidates(
    retrieval: Retrieval, query: Sequence[str], grade: Grade, known: Iterable[str] = ()
) -> list[Candidate]:
    """On-topic key ideas, best document first and each document in its own order.

    Passages off topic, or from a document the credits could not name, are never narrated.
    """
    passages = on_topic(retrieval)
    if not passages:
        return []
    top = max(r.score for r in passages)
    terms = frozenset(term.lower() for term in known)
    material = _Material(terms, _uses(passages, terms), frozenset(query), grade)
    document_rank: dict[str, int] = {}
    for retrieved in retrieval.passages:
        document_rank.setdefault(retrieved.passage.source_id, len(document_rank))
    found: list[Candidate] = []
    for rank, retrieved in enumerate(passages):
        passage = retrieved.passage
        start = passage_position(passage.passage_id)
        for part, texts in enumerate(_ideas(passage.text, grade)):
            sentences = tuple(_sentence(text, order, material) for order, text in enumerate(texts))
            ease = sum(readability(t, grade).ease for t in texts) / len(texts)
            found.append(
                Candidate(
                    passage_id=f"{passage.passage_id}/{part}" if part else passage.passage_id,
                    source_id=passage.source_id,
                    document_rank=document_rank[passage.source_id],
                    position=(rank if start is None else start) * 100 + part,
                    priority=retrieved.score / top * (0.7 + 0.3 * ease),
                    sentences=sentences,
                )
            )
    ordered = sorted(found, key=lambda c: (c.document_rank, c.position, c.passage_id))
    return _join_single_sentences(ordered)


def _joined(first: Candidate, second: Candidate) -> Candidate:
    sentences = [*first.sentences, *second.sentences]
    return Candidate(
        passage_id=first.passage_id,
        source_id=first.source_id,
        document_rank=first.document_rank,
        position=first.position,
        priority=max(first.priority, second.priority),
        sentences=tuple(replace(s, order=n) for n, s in enumerate(sentences)),
    )


def _join_single_sentences(ideas: list[Candidate]) -> list[Candidate]:
    """A one-sentence idea joins the next (or else the previous) idea of its document, when
    the two are neighbours there: a scene needs two bullets, and a lone definition still counts."""
    n = 0
    while n < len(ideas):
        if len(ideas[n].sentences) == 1:
            for other in (n + 1, n - 1):
                if 0 <= other < len(ideas) and _neighbours(ideas[n], ideas[other]):
                    low = min(n, other)
                    ideas[low : low + 2] = [_joined(ideas[low], ideas[low + 1])]
                    n = max(0, low - 1)
                    break
            else:
                n += 1
        else:
            n += 1
    return ideas


def _neighbours(a: Candidate, b: Candidate) -> bool:
    """Whether two ideas come from the same document, at most a paragraph or two apart."""
    return a.source_id == b.source_id and abs(a.position // 100 - b.position // 100) <= 2
