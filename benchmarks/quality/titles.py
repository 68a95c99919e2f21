"""Is a title a topic name, or a piece of the student's question?

A title is flagged ("chopped") when any of these holds (words are compared in lowercase, with
curly apostrophes made straight):
1. it has no word of three or more letters ("3");
2. its first word is left over from a question or a request: an auxiliary ("Does", "Is",
   "Can"), the second word of "how fast/far/much/many/long/big/often", or a request verb
   ("Explain", "Create", "Include", "Make", "Show", "Tell");
3. it holds request wording: "include", "including", "video", "minute(s)", "diagram(s)",
   "please", "students", "explain(ing)";
4. its last word cannot end a name: an article, preposition, conjunction, auxiliary, a
   possessive ("Newton's"), or a verb left from the question ("Lever Work", "Rainbows Form",
   "Ball fall"): a common question verb, or the last word of a do-question's subject-and-verb
   clause ("how/why/what do/does/can ..." up to its first preposition or the end: "fall" in
   "Why does a ball fall to the ground?"), unless "How", "Why" or
   "What" comes before it in the title ("Light and How Rainbows Form");
   a capital "A" after a capitalised word is a name ("Alpha Centauri A"), not an article; a
   how/why/what clause in statement order may end with a preposition or an auxiliary ("What
   Comets Are Made Of", "How We Know How Far Away Stars Are");
5. it is longer than eight words; or
6. it copies the question: its words are the question's words in order starting at the
   question's second or third word, and a word left out is a question word or an auxiliary
   ("Fast Does a Lever" from "How fast does a lever work?", "Magnets Work" from "How do magnets
   work?"; but "The Water Cycle" from "Explain the water cycle" is a topic name), or it is the
   whole question when the question starts with a question word or an auxiliary.
"""

from __future__ import annotations

import re

from vividly_ray.library.text import word_set

from .wording import OPEN_ENDINGS, ends_with_name

MAX_TITLE_WORDS = 8
QUESTION_WORDS = word_set("how what why when where which who whom whose")
REMNANT_STARTS = word_set(
    """
    does do did is are was were can could should would will has have fast far much many long
    big often explain describe create make tell show teach help give include including
    """
)
REQUEST_WORDS = word_set(
    "include includes including video minute minutes diagram diagrams please students "
    "explain explaining"
)
AUXILIARIES = word_set("does do did is are was were can could should would will has have")
VERB_REMNANTS = word_set(
    "work works form forms happen happens mean means move moves grow grows change changes"
)
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)*")


def title_words(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("\u2019", "'"))


_DO = word_set("do does did can could will would should")
_DETERMINERS = word_set("a an the our your their its")
_PREPOSITIONS = word_set("in on to into through from at by for with of over under")


def question_verbs(question: list[str]) -> set[str]:
    """The base-form verbs a do-question asks about: "why does a ball fall to the ground" ->
    {"fall"}; "how does an electric circuit work" -> {"work"}."""
    if len(question) < 4 or question[0] not in QUESTION_WORDS or question[1] not in _DO:
        return set()
    rest = question[2:]
    if rest[0] in _DETERMINERS:
        rest = rest[1:]
    clause = []
    for word in rest:
        if word in _PREPOSITIONS or word in _DETERMINERS:
            break
        clause.append(word)
    # The clause's last word, before the first preposition or the end, ends its verb phrase.
    return {clause[-1]} if len(clause) >= 2 else set()


def _copies_question(words: list[str], question: list[str]) -> str | None:
    if len(words) >= 2:
        for skip in (1, 2):
            asked = set(question[:skip]) & (QUESTION_WORDS | AUXILIARIES)
            if asked and question[skip : skip + len(words)] == words:
                return f"the question's words from its word {skip + 1} on"
    if words == question and question and question[0] in QUESTION_WORDS | AUXILIARIES:
        return "the question itself"
    return None


def chopped_title_reasons(title: str, question: str = "") -> list[str]:
    """Every rule the title breaks (empty: it reads as a topic name)."""
    words = title_words(title)
    reasons: list[str] = []
    if not any(len(re.sub(r"[^a-z]", "", w)) >= 3 for w in words):
        return ["no topic word"]
    if words[0] in REMNANT_STARTS:
        reasons.append(f"starts with {words[0]!r}, left from a question or request")
    request = sorted(REQUEST_WORDS.intersection(words))
    if request:
        reasons.append("request wording: " + ", ".join(request))
    last = words[-1]
    dangling = last in OPEN_ENDINGS or last in AUXILIARIES or last.endswith("'s")
    # "What Comets Are Made Of" is a clause in statement order, which may end so.
    clause = len(words) > 2 and words[0] in QUESTION_WORDS and words[1] not in AUXILIARIES
    if dangling and not clause and not ends_with_name(title.split()):
        reasons.append(f"ends with the dangling word {last!r}")
    elif (last in VERB_REMNANTS or last in question_verbs(title_words(question))) and not {
        "how",
        "why",
        "what",
    } & set(words[:-1]):
        reasons.append(f"ends with {last!r}, a verb left from the question")
    if len(words) > MAX_TITLE_WORDS:
        reasons.append(f"{len(words)} words (more than {MAX_TITLE_WORDS})")
    copied = _copies_question(words, title_words(question))
    if copied:
        reasons.append(f"copies {copied}")
    return reasons


def is_chopped_title(title: str, question: str = "") -> bool:
    return bool(chopped_title_reasons(title, question))
