"""What can be narrated: one candidate per key idea, with its sentences valued.

A key idea is a paragraph of an on-topic passage (a long paragraph is cut into parts of at most
``MAX_IDEA_SENTENCES``), so each concept scene explains one thing. Passages below a relevance
floor (a share of the best passage's score) never get in, unless they name the topic in a
document titled by it, so a short library gives a short honest script instead of padding.
Sentences that define one of the document's key terms are worth most, examples and asides least;
a sentence that names a term is always kept with the sentence that
explains it, and no scene ends on a sentence that only announces what comes next. An idea from
outside the best documents that opens on a term far from the topic (``close_tokens``) is left out,
and an idea on a neighbouring subject (``on_subject``) is marked so that planning takes it last.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from vividly_ray.domain.models import Grade, Retrieval, RetrievedPassage
from vividly_ray.library.passages import passage_position
from vividly_ray.library.text import tokenize
from vividly_ray.script.bullets import summarize
from vividly_ray.script.editing import (
    edited_sentences,
    grade_excess,
    narration_sentences,
    readability,
    refers_back,
)
from vividly_ray.script.quality import bullet_problems
from vividly_ray.script.question_type import QuestionPlan, QuestionType
from vividly_ray.script.terms import DEFINING, Shape, mentions, read, term_key

_EXAMPLE = re.compile(
    r"^(?:for example|for instance|you can see|imagine|think (?:of|about)|picture|suppose|try|"
    r"have you ever|just as)\b|\b(?:for example|for instance)\b",
    re.IGNORECASE,
)
# A sentence that names its topic and says what causes it gives a "why" question its answer.
_DIRECT_CAUSE = re.compile(
    r"\b(?:caused|produced|created|driven|controlled)\s+(?:\w+ly\s+)?by\b|\bdue\s+to\b|"
    r"\bbecause\b|\bresults?\s+from\b|\b(?:main|real|chief|major)\s+causes?\b|"
    r"\bcauses?\s+of\b|\breasons?\s+(?:for|why)\b",
    re.IGNORECASE,
)
RELEVANCE_FLOOR = 0.6  # a passage scoring under this share of the best one is off topic
MAX_IDEA_SENTENCES = 5  # a longer paragraph is cut into parts of about equal size
ANSWER_WEIGHT = 0.5  # what giving the question's kind of answer adds to a sentence
GRADE_EXCESS_WEIGHT = 0.08  # what each grade of reading level above the student's costs
GRADE_FIT_UP_TO = 8  # older students read textbook sentences as written
# Verbs and question words left in a topic phrase ("magnets work", "stars form"): they name no
# part of the topic, so a passage sharing only them is not about it.
_QUESTION_WORDS = frozenset(
    tokenize(
        "work works form forms happen mean move grow change carry make made start begin cause "
        "matter matters important use used do does get become"
    )
)

# Words of how a question is asked, not of what it asks about ("how do we know ...").
_ASKING_WORDS = frozenset(tokenize("know explain tell describe learn understand happen why"))

Key = tuple[str, ...]  # a term as search tokens

# Adjective endings that make a word of the same idea ("tidal" for the tides, "planetary" for the
# planets, "cellular" for the cell); the search stemmer keeps these words whole.
_ADJECTIVE_ENDINGS = ("al", "ar", "ary", "ic", "ical", "ular")


def _adjective_of(word: str, base: str) -> bool:
    """Whether ``word`` is ``base`` with an adjective ending ("tidal", "tid")."""
    return len(base) >= 3 and word.startswith(base) and word[len(base) :] in _ADJECTIVE_ENDINGS


def named_core(tokens: Iterable[str], core: frozenset[str]) -> frozenset[str]:
    """The ``core`` tokens that ``tokens`` name, itself or in an adjective form of it (one more
    ending either way: "tidal" names "tid", "electric" names the "electr" of "electricity")."""
    found = set(tokens)
    named = set(core & found)
    if len(named) == len(core):
        return frozenset(named)
    for token in core - named:
        if any(_adjective_of(other, token) or _adjective_of(token, other) for other in found):
            named.add(token)
    return frozenset(named)


@dataclass(frozen=True)
class Sentence:
    """A narratable sentence of a key idea; ``order`` is its place in the idea."""

    text: str
    order: int
    score: float
    defines: Key | None = None  # the key term it explains
    announces: Key | None = None  # a term it only names ("The next step is condensation.")
    mentions: frozenset[Key] = frozenset()
    source: str = ""  # the library sentence it was edited from ("" when unedited)
    answer: float = 0.0  # how directly it gives the question's kind of answer, 0 to 1
    # It is the answer itself: the number with its unit, the named cause, the topic defined.
    direct: bool = False


@dataclass(frozen=True)
class Candidate:
    """One key idea of an on-topic document, ready to be chosen."""

    passage_id: str
    source_id: str
    document_rank: int
    position: int
    priority: float
    sentences: tuple[Sentence, ...]
    relevance: float = 1.0  # how much of the idea is about the question's topic, 0 to 1
    on_subject: bool = True  # see ``on_subject``: False for a neighbouring subject
    answers: float = (
        1.0  # share of its sentences that carry the question's focus (``answer_focus``)
    )

    def _closure(self, chosen: set[int], added: int) -> set[int]:
        """``added`` and the later sentences that explain the terms it names or mentions."""
        wanted = {added}
        pending = [added]
        while pending:
            sentence = self.sentences[pending.pop()]
            # The parts of one split source sentence say its meaning only together.
            for other in self.sentences:
                if (
                    sentence.source
                    and other.source == sentence.source
                    and other.order not in wanted
                ):
                    wanted.add(other.order)
                    pending.append(other.order)
            names = set(sentence.mentions) | ({sentence.announces} if sentence.announces else set())
            for key in names:
                explained = any(self.sentences[i].defines == key for i in chosen | wanted)
                later = [s.order for s in self.sentences[sentence.order + 1 :] if s.defines == key]
                if later and not explained:
                    wanted.add(later[0])
                    pending.append(later[0])
            # "Thus, Mars has seasons" says nothing without the sentence it concludes from, nor
            # "They ..." or "This ..." without the one it points back at.
            if sentence.order > 0 and refers_back(sentence.text):
                before = sentence.order - 1
                if before not in wanted and before not in chosen:
                    wanted.add(before)
                    pending.append(before)
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


def on_topic(retrieval: Retrieval, core: frozenset[str] = frozenset()) -> list[RetrievedPassage]:
    """The retrieved passages that may be narrated: on topic and from a creditable document.

    A passage scoring under ``RELEVANCE_FLOOR`` of the best one is off topic, unless (given the
    topic's ``core`` tokens) it names the topic in a document whose title names it: the best
    score may come from the question's other words ("everyday examples"), and a document on the
    topic speaks of it in every passage that names it."""
    ranked = [r for r in retrieval.passages if r.score > 0]
    if not ranked:
        return []
    top = max(r.score for r in ranked)
    creditable = {source.source_id for source in retrieval.sources}
    titled = {
        source.source_id for source in retrieval.sources if core and about_topic(source.title, core)
    }
    return [
        r
        for r in ranked
        if r.passage.source_id in creditable
        and (
            r.score >= RELEVANCE_FLOOR * top
            or (r.passage.source_id in titled and about_topic(r.passage.text, core))
        )
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
    core: frozenset[str] = frozenset()  # the topic's own tokens (its nouns and modifiers)
    plan: QuestionPlan = QuestionPlan(QuestionType.DEFINITION)
    close: frozenset[str] = frozenset()  # the core and the tokens of terms close to the topic
    tied: frozenset[Key] = frozenset()  # terms of the topic itself (``topic_terms``)


def _sentence(text: str, order: int, material: _Material, source: str = "") -> Sentence:
    """A sentence valued: explaining a term the material keeps using is worth most, and so is
    giving the question's kind of answer about its topic."""
    reading = read(text, material.known)
    tokens = tokenize(text)
    topic = material.topic
    key = term_key(reading.term) if reading.term else None
    relevance = len(topic & set(tokens)) / len(topic) if topic else 0.0
    score = 0.3 * relevance + 0.3 * readability(text, material.grade).ease
    # A sentence about the topic names it, or one of its own terms ("Opposite poles attract").
    topical = (
        not material.core
        or bool(named_core(tokens, material.core))
        or any(mentions(tokens, term) for term in material.tied)
    )
    # It may name the topic and still be about another subject ("... called an accretion disk"):
    # the term it explains is then neither the topic nor close to it.
    elsewhere = bool(key and material.close and not set(key) & material.close)
    topical = topical and not elsewhere
    # An overview that names several of the question's own words answers it too ("Water
    # evaporates, condenses into clouds, falls as precipitation ...").
    asked = len(topic & set(tokens)) / min(len(topic), 4) if len(topic) >= 3 else 0.0
    kind = material.plan.kind
    answer = max(material.plan.answers(text), min(1.0, asked)) * (1.0 if topical else 0.3)
    direct = kind is QuestionType.QUANTITY and topical and material.plan.answers(text) >= 1.0
    if (
        material.plan.kind is QuestionType.CAUSES
        and named_core(tokens, material.core)
        and _DIRECT_CAUSE.search(text)
        and not elsewhere
    ):
        answer, direct = 1.0, True  # "Tides are caused mainly by the Moon's gravity"
    if (
        material.plan.kind is QuestionType.DEFINITION
        and key
        and reading.shape in DEFINING
        and defines_topic(key, material.core)
    ):
        # "A black hole is a place in space where ...": what "what is" asks for
        answer, direct = 1.0, True
    score += ANSWER_WEIGHT * answer
    if material.grade.level <= GRADE_FIT_UP_TO:
        score -= GRADE_EXCESS_WEIGHT * grade_excess(text, material.grade)
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
        source=source,
        answer=answer,
        direct=direct,
    )


Edited = tuple[str, str]  # a narratable sentence and its source ("" when unedited)


def _ideas(text: str, grade: Grade) -> list[list[Edited]]:
    """The narratable sentences of a passage, one list per key idea."""
    ideas: list[list[Edited]] = []
    for paragraph in text.split("\n\n"):
        sentences = edited_sentences(paragraph, grade)
        if not sentences:
            continue
        parts = -(-len(sentences) // MAX_IDEA_SENTENCES)
        size = -(-len(sentences) // parts)
        chunks = [sentences[i : i + size] for i in range(0, len(sentences), size)]
        for n in range(1, len(chunks)):
            # An idea may not open with a sentence that points back into the previous idea.
            while chunks[n] and refers_back(chunks[n][0][0]):
                chunks[n - 1] = chunks[n - 1] + chunks[n][:1]
                chunks[n] = chunks[n][1:]
        ideas.extend(chunk for chunk in chunks if chunk)
    # A one-sentence idea joins its neighbour: a scene needs two bullets.
    merged: list[list[Edited]] = []
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


def core_tokens(topic: str) -> frozenset[str]:
    """The topic's own search tokens, without question verbs left in it ("magnets work")."""
    found = frozenset(tokenize(topic)) - _QUESTION_WORDS
    return found or frozenset(tokenize(topic))


def defines_topic(key: Key, core: frozenset[str]) -> bool:
    """Whether a defined term is the topic itself ("black holes" for the black hole), not a part
    of it or a neighbour ("event horizon")."""
    return bool(core) and bool(set(key)) and set(key) <= core


def topic_terms(
    passages: Sequence[RetrievedPassage], core: frozenset[str], known: Iterable[str] = ()
) -> frozenset[Key]:
    """The terms of the topic itself: those a passage defines in a sentence that names the topic,
    or whose name holds a word of it ("Every magnet has two ends, and each end is called a
    pole"; "magnetic field"). A sentence that speaks of them speaks of the topic."""
    if not core:
        return frozenset()
    found: set[Key] = set()
    for retrieved in passages:
        for sentence in narration_sentences(retrieved.passage.text, Grade(12)):
            reading = read(sentence, known)
            if not (reading.term and reading.defines):
                continue
            key = term_key(reading.term)
            if key and (named_core(tokenize(sentence), core) or core & set(key)):
                found.add(key)
    return frozenset(found)


def about_topic(text: str, core: frozenset[str]) -> bool:
    """Whether a passage names the topic itself rather than sharing one word with it: every core
    token of a one- or two-word topic, two thirds of a longer one's."""
    if not core:
        return True
    shared = len(named_core(tokenize(text), core))
    return shared >= (len(core) if len(core) <= 2 else -(-2 * len(core) // 3))


def head_token(topic: str) -> str:
    """The topic's head noun as a token: the last word before "of" ("phases of the moon"), else
    the last word ("water cycle" -> "cycle")."""
    words = topic.lower().split()
    if "of" in words[1:]:
        words = words[: words.index("of", 1)]
    found = [t for t in tokenize(" ".join(words)) if t not in _QUESTION_WORDS]
    return found[-1] if found else ""


def shared_head(topic: str) -> str:
    """The head noun that two joined modifiers share ("circuit" in "series and parallel
    circuits"), as a token; "" when the joined words are nouns of their own ("speed and
    velocity")."""
    words = topic.lower().split()
    if "and" not in words[1:-1] or words.index("and", 1) >= len(words) - 2:
        return ""
    return head_token(topic)


FOCUS_WEIGHT = 0.4  # of an idea's relevance, when the question asks about more than its topic


def idea_relevance(
    texts: Sequence[str],
    core: frozenset[str],
    head: str = "",
    focus: frozenset[str] = frozenset(),
    tied: frozenset[Key] = frozenset(),
) -> float:
    """How much of an idea is about the topic: the share of the topic's tokens it names (the
    head noun counting most) and the share of its sentences that name any, or one of the
    topic's own ``tied`` terms ("Opposite poles attract" speaks of magnets), averaged. ``focus``
    holds the question's other content words ("far", "distance" for how far away the stars
    are): when given, the share of sentences naming one of them weighs in too."""
    if not core or not texts:
        return 1.0
    words = [tokenize(text) for text in texts]
    tokens = [set(found) for found in words]
    said = [named_core(found, core) for found in tokens]
    named = set().union(*said)
    share = len(named) / len(core)
    if head and len(core) > 1:
        share = 0.6 * (head in named) + 0.4 * len(named - {head}) / (len(core) - 1)
    speaking = sum(
        1
        for found, listed in zip(said, words, strict=True)
        if found or any(mentions(listed, term) for term in tied)
    )
    relevance = 0.5 * share + 0.5 * speaking / len(texts)
    if not focus or relevance == 0.0:
        return relevance
    focused = sum(1 for found in tokens if found & focus) / len(texts)
    return (1 - FOCUS_WEIGHT) * relevance + FOCUS_WEIGHT * focused


def candidates(
    retrieval: Retrieval,
    query: Sequence[str],
    grade: Grade,
    known: Iterable[str] = (),
    *,
    topic: str = "",
    plan: QuestionPlan | None = None,
) -> list[Candidate]:
    """On-topic key ideas, best document first and each document in its own order.

    Passages off topic, or from a document the credits could not name, are never narrated; with
    a ``topic``, a passage must name it (``about_topic``, when any passage does) and an idea that
    names none of its tokens is left out. ``plan`` values the sentences that answer the question.
    """
    core = core_tokens(topic) if topic else frozenset()
    passages = on_topic(retrieval, core)
    head = head_token(topic) if topic else ""
    # "Series and parallel circuits": what is compared is "series" and "parallel"; a passage
    # that only says "circuit" is about neither.
    shared = shared_head(topic) if plan and plan.kind is QuestionType.COMPARISON else ""
    compared = core - {shared} if shared else core
    about = _documents_about(retrieval, passages, core)
    named = [
        r for r in passages if r.passage.source_id in about or about_topic(r.passage.text, core)
    ]
    passages = named or passages
    if not passages:
        return []
    top = max(r.score for r in passages)
    terms = frozenset(term.lower() for term in known)
    nearby = close_terms(passages, terms) if core else frozenset()
    close = frozenset(core).union(*nearby) if core else frozenset()
    best = best_documents(passages)
    # The question's content words beyond its topic: what it asks about the topic.
    focus = frozenset(query) - core - _QUESTION_WORDS - _ASKING_WORDS if core else frozenset()
    answering = answer_focus(passages, core, focus, plan, terms)
    tied = topic_terms(passages, core, terms)
    material = _Material(
        terms,
        _uses(passages, terms),
        frozenset(query),
        grade,
        core=core,
        plan=plan or QuestionPlan(QuestionType.DEFINITION),
        close=close,
        tied=tied,
    )
    titles = {source.source_id: source.title for source in retrieval.sources}
    document_rank: dict[str, int] = {}
    for retrieved in retrieval.passages:
        document_rank.setdefault(retrieved.passage.source_id, len(document_rank))
    found: list[Candidate] = []
    for rank, retrieved in enumerate(passages):
        passage = retrieved.passage
        start = passage_position(passage.passage_id)
        for part, edited in enumerate(_ideas(passage.text, grade)):
            texts = [text for text, _ in edited]
            relevance = idea_relevance(texts, compared, "" if shared else head, focus, tied)
            if relevance == 0.0 and passage.source_id not in about:
                continue  # shares a passage with the topic, says nothing about it
            if (
                close
                and passage.source_id not in best
                and not opens_on_topic(texts[0], close, terms)
            ):
                continue  # another document's idea that opens on another subject
            sentences = tuple(
                _sentence(text, order, material, source)
                for order, (text, source) in enumerate(edited)
            )
            ease = sum(readability(t, grade).ease for t in texts) / len(texts)
            found.append(
                Candidate(
                    passage_id=f"{passage.passage_id}/{part}" if part else passage.passage_id,
                    source_id=passage.source_id,
                    document_rank=document_rank[passage.source_id],
                    position=(rank if start is None else start) * 100 + part,
                    priority=retrieved.score / top * (0.7 + 0.3 * ease) * (0.4 + 0.6 * relevance),
                    sentences=sentences,
                    relevance=relevance,
                    on_subject=on_subject(
                        texts, titles.get(passage.source_id, ""), core | focus, nearby
                    ),
                    answers=answer_share(texts, answering),
                )
            )
    ordered = sorted(found, key=lambda c: (c.document_rank, c.position, c.passage_id))
    return _join_single_sentences(ordered)


ANSWERING_SENTENCES = 8  # the best answers to the question, whose terms carry its focus


def answer_focus(
    passages: Sequence[RetrievedPassage],
    core: frozenset[str],
    focus: frozenset[str],
    plan: QuestionPlan | None,
    known: Iterable[str] = (),
) -> frozenset[str]:
    """The tokens that carry what the question asks about its topic: its own content words
    beyond the topic (``focus``, stemmed, so "far" and "farther" meet) and the terms that the
    ``ANSWERING_SENTENCES`` best-answering sentences about the topic define or repeat
    ("distance" and "light-year" for how far away the stars are). Empty without a topic or
    without content words beyond it: such a question ("What is a black hole?", "Explain the
    water cycle") asks about the topic as a whole."""
    kind = plan or QuestionPlan(QuestionType.DEFINITION)
    if not core or not focus:
        return frozenset()
    scored: list[tuple[float, int, str, frozenset[str]]] = []
    for retrieved in passages:
        for sentence in narration_sentences(retrieved.passage.text, Grade(12)):
            tokens = frozenset(tokenize(sentence))
            if not core & tokens:
                continue
            worth = kind.answers(sentence) + (0.5 if focus & tokens else 0.0)
            if worth > 0:
                scored.append((worth, len(scored), sentence, tokens))
    best = sorted(scored, key=lambda found: (-found[0], found[1]))[:ANSWERING_SENTENCES]
    found = set(focus)
    counts = Counter(token for *_, tokens in best for token in tokens)
    found |= {token for token, count in counts.items() if count >= 2}
    for _, _, sentence, _ in best:
        reading = read(sentence, known)
        if reading.term and reading.defines:
            found |= set(term_key(reading.term))
    return frozenset(found - core - _QUESTION_WORDS - _ASKING_WORDS)


def answer_share(texts: Sequence[str], answering: frozenset[str]) -> float:
    """The share of an idea's sentences that name a token of ``answering`` (1 without any)."""
    if not answering or not texts:
        return 1.0
    return sum(1 for text in texts if answering & set(tokenize(text))) / len(texts)


BEST_DOCUMENTS = 3  # the documents of this many best passages define the topic's close terms


def best_documents(passages: Sequence[RetrievedPassage]) -> frozenset[str]:
    """The documents of the ``BEST_DOCUMENTS`` best passages: the ones that answer best."""
    ranked = sorted(passages, key=lambda r: -r.score)
    return frozenset(r.passage.source_id for r in ranked[:BEST_DOCUMENTS])


def close_terms(passages: Sequence[RetrievedPassage], known: frozenset[str]) -> frozenset[Key]:
    """The terms (as search tokens) that the best passages' documents explain: "axis" and
    "equinox" for the seasons."""
    best = best_documents(passages)
    found: set[Key] = set()
    for retrieved in passages:
        if retrieved.passage.source_id not in best:
            continue
        for sentence in narration_sentences(retrieved.passage.text, Grade(12)):
            reading = read(sentence, known)
            if reading.term and reading.defines:
                found.add(term_key(reading.term))
    return frozenset(found - {()})


def close_tokens(
    passages: Sequence[RetrievedPassage], core: frozenset[str], known: frozenset[str]
) -> frozenset[str]:
    """The topic's core tokens and those of its close terms (``close_terms``): the words a
    sentence about the topic uses."""
    return frozenset(core).union(*close_terms(passages, known))


SUBJECT_SHARE = 0.5  # of an idea's sentences, naming the topic or a close term


def on_subject(
    texts: Sequence[str], title: str, core: frozenset[str], close: frozenset[Key]
) -> bool:
    """Whether an idea stays on the topic: its section's title names a ``core`` token (of the
    topic, or of what the question asks about it) or one of its ``close`` terms in full, or at
    least half its sentences do. An idea of a section on another subject whose sentences mostly
    speak of other things ("Ultraviolet, X-ray, and gamma-ray observations can be made only
    from space" in a lesson on rockets) is a neighbouring subject."""

    def names(text: str) -> bool:
        tokens = tokenize(text)
        return bool(named_core(tokens, core)) or any(mentions(tokens, key) for key in close)

    if not texts or not core or names(title):
        return True
    return sum(1 for text in texts if names(text)) >= SUBJECT_SHARE * len(texts)


def opens_on_topic(sentence: str, close: frozenset[str], known: Iterable[str] = ()) -> bool:
    """Whether an idea's opening sentence is about the topic: the term it names, when it names
    one, shares a word with the topic or its close terms ("The infalling gas whirls around the
    black hole in a pancake of matter called an accretion disk" is about the disk)."""
    reading = read(sentence, known)
    return reading.term is None or bool(set(term_key(reading.term)) & close)


def _documents_about(
    retrieval: Retrieval, passages: Sequence[RetrievedPassage], core: frozenset[str]
) -> frozenset[str]:
    """Documents about the topic as a whole: the title names it, or most of the document's
    retrieved passages do. Their other passages (the axis paragraph of an article on the
    seasons) are context the topic needs; elsewhere a passage must name the topic itself."""
    titles = {source.source_id: source.title for source in retrieval.sources}
    by_document: dict[str, list[bool]] = {}
    for retrieved in passages:
        named = about_topic(retrieved.passage.text, core)
        by_document.setdefault(retrieved.passage.source_id, []).append(named)
    return frozenset(
        source
        for source, named in by_document.items()
        if about_topic(titles.get(source, ""), core) or sum(named) * 2 > len(named)
    )


# What holding a direct answer (the number with its unit, the named cause, the topic's own
# definition) adds to an idea's claim to open the lesson: more than relevance can.
DIRECT_ANSWER = 1.0


def lead_idea(pool: Sequence[Candidate]) -> int | None:
    """The idea that answers the question most directly, to open the lesson: one holding a
    direct answer, then the best answering sentence, the most relevant, the best ranked."""
    usable = [i for i, c in enumerate(pool) if len(c.sentences) >= 2] or list(range(len(pool)))
    if not usable:
        return None

    def strength(i: int) -> float:
        best = max((s.answer + 0.5 * s.score for s in pool[i].sentences), default=0.0)
        direct = DIRECT_ANSWER if any(s.direct for s in pool[i].sentences) else 0.0
        return best + direct + pool[i].relevance + pool[i].priority

    return max(usable, key=lambda i: (strength(i), -i))


def _joined(first: Candidate, second: Candidate) -> Candidate:
    sentences = [*first.sentences, *second.sentences]
    return Candidate(
        passage_id=first.passage_id,
        source_id=first.source_id,
        document_rank=first.document_rank,
        position=first.position,
        priority=max(first.priority, second.priority),
        sentences=tuple(replace(s, order=n) for n, s in enumerate(sentences)),
        relevance=max(first.relevance, second.relevance),
        on_subject=first.on_subject or second.on_subject,
        answers=max(first.answers, second.answers),
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
