"""The embedded script writer: a grounded scene plan from retrieved passages, with no model.

Every concept sentence is a library sentence (lightly edited), so the script can only say what an
openly licensed source says, and the credits name every source used. The amount of narration is
chosen so the estimated spoken length is close to the requested minutes; when the library holds
less on-topic material than that, the script is shorter rather than padded.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence

from vividly_ray.domain.errors import StageFailed
from vividly_ray.domain.models import Retrieval, Script, SourceDocument, VideoRequest
from vividly_ray.library.query import search_query, topic_phrase
from vividly_ray.library.text import tokenize
from vividly_ray.script.checks import add_check_scene
from vividly_ray.script.pacing import script_seconds, split_sentences
from vividly_ray.script.planning import Section, plan_sections
from vividly_ray.script.question_title import statement_order
from vividly_ray.script.question_type import plan_for
from vividly_ray.script.reading_level import level_offset, script_grade
from vividly_ray.script.scenes import Assembler, Framing, assemble, reserved_titles
from vividly_ray.script.selection import candidates, core_tokens, key_terms, lead_idea, on_topic
from vividly_ray.script.titles import running_text, title_case

STAGE = "generating_script"

KeywordLookup = Callable[[str], Sequence[str]]  # source id -> the document's keywords


def proper_words(texts: Sequence[str]) -> frozenset[str]:
    """Words written with a capital inside sentences at least as often as in lowercase (names
    like "Earth"), and the later words of multi-word names ("States" in "United States")."""
    capital: Counter[str] = Counter()
    lower: Counter[str] = Counter()
    joined: set[str] = set()  # the later words of names written as several ("United States")
    for text in texts:
        for sentence in split_sentences(text):
            previous = False
            for position, raw in enumerate(sentence.split()):
                word = raw.strip(".,;:!?\"'()[]\u201c\u201d")
                upper = word[:1].isupper() and position > 0
                if word[:1].islower():
                    lower[word.lower()] += 1
                elif upper:
                    capital[word] += 1
                    if previous:
                        joined.add(word)
                previous = upper and raw == word
    names = {word for word, count in capital.items() if count >= lower[word.lower()]} | joined
    # Titles are typed with straight apostrophes, textbooks often use curly ones.
    return frozenset(names | {word.replace("\u2019", "'") for word in names})


SHORT_BAND = 0.08  # a lesson on the topic's own ideas may be this much short of the target
DOMINANT_SHARE = 0.6  # of the candidate sentences, for a document to lend the video its title


_QUOTES = ('"', "\u201c", "\u201d", "\u2018")


def _title(
    topic: str,
    documents: Sequence[tuple[SourceDocument, float]],
    proper: frozenset[str],
    question: str = "",
) -> tuple[str, str]:
    """The script title and how it reads in a sentence.

    A how, why or "what is X made of" question names its topic best in statement order
    ("How Rockets Move in Space", ``question_title``); that is the title whenever it can be made.
    ``documents`` are the lesson's sources with the share of its candidate sentences each
    supplies, largest first. The title is a document's title when that names the topic: it holds
    half the topic's words, or one of them while the document supplies most of the lesson, or
    one of them while the topic is a clause left over from the question ("lever make work
    easier"), which names nothing on its own. A heading in quotation marks (The "Long-Haired"
    Comets) is the book's wordplay, not a name, and is never the title. Otherwise it is the topic
    in the student's words.
    """
    in_order = statement_order(question) if question else None
    if in_order:
        return title_case(in_order, proper), in_order[:1].lower() + in_order[1:]
    wanted = set(tokenize(topic))
    for document, share in documents:
        shared = wanted & set(tokenize(document.title))
        if not shared or any(mark in document.title for mark in _QUOTES):
            continue
        if len(shared) * 2 >= len(wanted) or share >= DOMINANT_SHARE or len(wanted) > 2:
            return document.title, running_text(document.title, proper)
    return topic[:1].upper() + topic[1:], topic


class OfflineScriptWriter:
    """Writes grounded, paced scripts from the library alone (the embedded ``ScriptWriter``).

    ``keywords`` may look up a document's own keywords by source id; the terms the passages
    name or explain are found either way, and the keywords only add to them.
    """

    def __init__(self, keywords: KeywordLookup | None = None) -> None:
        self._keywords = keywords

    def write(self, request: VideoRequest, retrieval: Retrieval, topic: str = "") -> Script:
        """A script for ``request`` from ``retrieval``; ``topic`` is the validator's topic.

        Without a topic (a caller outside the pipeline), it is read from the question.
        """
        topic = topic or topic_phrase(request.effective_question)
        wanted = search_query(request.effective_question)
        core = core_tokens(topic)
        # Everyday words ("far away") ask through their textbook word ("distance"); a sentence
        # that merely uses them ("far away from city lights") does not answer the question,
        # unless they name the topic itself.
        searched = retrieval.query_terms or wanted.tokens
        terms = [t for t in searched if t not in wanted.everyday - core] or list(searched)
        narrated = dict.fromkeys(r.passage.source_id for r in on_topic(retrieval))
        lookup = self._keywords
        listed = [keyword for i in narrated for keyword in (lookup(i) if lookup else ())]
        known = key_terms(retrieval, listed)
        plan = plan_for(request.effective_question)
        pool = candidates(retrieval, terms, request.grade, known, topic=topic, plan=plan)
        if not pool:
            raise StageFailed(
                STAGE,
                f"the library has no material on '{topic}'; add some with `vividly library add`",
            )
        sources = {source.source_id: source for source in retrieval.sources}
        proper = proper_words([r.passage.text for r in retrieval.passages])
        # Sources by how much of the lesson they supply (ties: the best ranked first).
        shares = Counter(candidate.source_id for candidate in pool)
        order = sorted(shares, key=lambda source: -shares[source])
        documents = [(sources[i], shares[i] / len(pool)) for i in order if i in sources]
        title, phrase = _title(topic, documents, proper, request.effective_question)
        framing = Framing(
            title=title,
            phrase=phrase,
            grade=request.grade,
            target_seconds=request.minutes * 60.0,
            sources=sources,
            proper=proper,
            query=frozenset(terms),
            reserved=reserved_titles(title, topic),
            known=known,
        )
        estimate = _Estimate(framing)
        target = framing.target_seconds
        focused = [candidate for candidate in pool if candidate.on_subject]
        if focused and len(focused) < len(pool):
            # Neighbouring subjects only when the topic's own ideas cannot fill the length.
            sections = plan_sections(
                focused, estimate, target, lead_idea(focused), core, estimate.level, request.grade
            )
            if estimate(sections) >= (1 - SHORT_BAND) * target:
                return add_check_scene(assemble(framing, sections))
        lead = lead_idea(focused)
        lead = pool.index(focused[lead]) if focused and lead is not None else lead_idea(pool)
        sections = plan_sections(pool, estimate, target, lead, core, estimate.level, request.grade)
        return add_check_scene(assemble(framing, sections))


class _Estimate:
    """Estimated seconds of the script a plan would give, and how far its reading level lies
    from the grade (``level``), remembered per plan; the scripts share the concept scenes of
    their common opening sections (``Assembler``)."""

    def __init__(self, framing: Framing) -> None:
        self._assemble = Assembler(framing)
        self._grade = framing.grade
        self._seen: dict[tuple[Section, ...], tuple[float, float]] = {}

    def _measure(self, sections: list[Section]) -> tuple[float, float]:
        key = tuple(sections)
        if key not in self._seen:
            script = add_check_scene(self._assemble(sections))
            self._seen[key] = (script_seconds(script), script_grade(script))
        return self._seen[key]

    def __call__(self, sections: list[Section]) -> float:
        return self._measure(sections)[0]

    def level(self, sections: list[Section]) -> float:
        """Grades the script reads above (positive) or below (negative) the student's
        comfortable range, 0 inside."""
        return level_offset(self._measure(sections)[1], self._grade)
