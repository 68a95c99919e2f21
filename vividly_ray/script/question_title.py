"""A lesson title made from a how, why or what question by putting it back in statement order.

"How does a rocket move in space?" -> "How Rockets Move in Space"; "Why is the sky blue?" ->
"Why the Sky Is Blue"; "What is a comet made of?" -> "What Comets Are Made Of" (a what question
only in the passive: "made of", "used for"). The subject is
an optional determiner, any words that read as adjectives ("electric"), and one noun; a subject
with "a" or "an" is made plural ("a rocket" -> "rockets"), so the verb needs no ending, while
"the" or a bare singular noun takes one ("the Moon has"). A question that goes on with a second
clause ("... and why is it conserved?"), one in the past tense ("did"), or one whose title would
be longer than ``MAX_WORDS`` words gives None: the writer then names the lesson another way.
"""

from __future__ import annotations

from vividly_ray.script.title_options import plural
from vividly_ray.script.titles import title_case

MAX_WORDS = 8
_DO = {"do", "does", "can", "could", "will", "would", "should"}
_BE = {"is", "are"}
_DETERMINERS = {"a", "an", "the", "our", "your", "my", "their", "its"}
_PRONOUNS = {"we", "they"}  # "How do I ...?" and "you" ask for advice, not a topic
_ADJECTIVE_ENDINGS = ("ic", "ical", "ous", "ive", "ful")  # "electric", "famous"
_PARTICIPLES = {"made", "known", "found", "seen", "built", "done", "used"}
_CLAUSE_WORDS = {"and", "or", "but", "so", "because", "why", "how", "what", "when", "where"}
_IRREGULAR = {"have": "has", "do": "does", "go": "goes", "be": "is"}
_SINGULAR_S = ("ss", "us", "is", "sis")


def _third_person(verb: str) -> str:
    if verb in _IRREGULAR:
        return _IRREGULAR[verb]
    if verb.endswith(("s", "x", "z", "ch", "sh")):
        return f"{verb}es"
    if verb.endswith("y") and verb[-2:-1] not in "aeiou":
        return f"{verb[:-1]}ies"
    return f"{verb}s"


def _subject(words: list[str]) -> tuple[list[str], bool, int] | None:
    """The subject at the start of ``words``, whether it is one thing, and where it ends."""
    if not words:
        return None
    if words[0].lower() in _PRONOUNS:
        return [words[0].lower()], False, 1
    if words[0].lower() in ("i", "you"):
        return None
    n = 1 if words[0].lower() in _DETERMINERS else 0
    while n + 1 < len(words) and words[n].lower().endswith(_ADJECTIVE_ENDINGS):
        n += 1
    if n >= len(words):
        return None
    determiner = words[0].lower() if n and words[0].lower() in _DETERMINERS else ""
    head = words[: n + 1]
    noun = head[-1].lower()
    many = noun.endswith("s") and not noun.endswith(_SINGULAR_S)
    if determiner in ("a", "an"):
        return [*head[1:-1], plural(head[-1])], False, n + 1
    return head, not many, n + 1


def question_title(question: str) -> str | None:
    """The question in statement order as a Title Case title, or None (see the module text)."""
    phrase = statement_order(question)
    return title_case(phrase) if phrase else None


def statement_order(question: str) -> str | None:
    """ "How does a rocket move in space?" -> "How rockets move in space", or None."""
    words = question.strip().rstrip("?.!").replace(",", "").split()
    if len(words) < 3 or words[0].lower() not in ("how", "why", "what"):
        return None
    asker, aux, rest = words[0].capitalize(), words[1].lower(), words[2:]
    found = _subject(rest)
    if found is None:
        return None
    subject, one, end = found
    after = rest[end:]
    if any(word.lower() in _CLAUSE_WORDS for word in after[:1]) or "and" in after:
        return None
    if aux in _DO and asker != "What":
        if not after:
            return None
        verb = after[0].lower()
        if aux in ("do", "does"):
            verb = _third_person(verb) if one else verb
            phrase = [asker, *subject, verb, *after[1:]]
        else:
            phrase = [asker, *subject, aux, verb, *after[1:]]
    elif aux in _BE:
        if not after:
            return None  # "What is a black hole?" asks for a definition: the documents name it
        participle = after[0].lower().endswith("ed") or after[0].lower() in _PARTICIPLES
        if asker == "What" and not participle:
            return None
        phrase = [asker, *subject, "is" if one else "are", *after]
    else:
        return None
    if len(phrase) > MAX_WORDS:
        return None
    return " ".join(phrase)
