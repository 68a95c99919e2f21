"""Sentences fit to narrate: light, meaning-preserving edits and readability for a grade.

The offline writer never writes facts of its own; it narrates sentences from the library. The
edits here only remove things that do not work when spoken (parenthetical asides, figure
references), split a long sentence at a semicolon and, for younger grades, make the plainer
sentences of ``simplify``; every edited sentence keeps its source sentence. Sentences that lean on
something not in the video (a figure, a table, an exercise, an equation) are left out rather than
rewritten.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from vividly_ray.domain.models import Grade
from vividly_ray.library.text import words
from vividly_ray.script.pacing import split_sentences
from vividly_ray.script.reading_level import LEVEL_SLACK, passage_grade, wording_grade
from vividly_ray.script.simplify import simplify

_PARENTHETICAL = re.compile(r"\s*(?:\([^()]*\)|\[[^\[\]]*\])")
_SPACE_BEFORE_PUNCTUATION = re.compile(r"\s+([,.;:!?])")
_MATH = re.compile(r"[=<>\u00d7\u00f7\u221d\u2248\u2211\u221a\u00b1\u2264\u2265^/\\|{}]")
_REFERENCE = re.compile(
    r"\b(?:figures?\s*\d|fig\.|(?:the|this|that|in|see)(?: \w+)? figures?|tables?\s*\d"
    r"|(?:the|this) table"
    r"|examples?\s*\d|worked example|exercises?|chapters?|sections?|appendix|click|(?:the|this) "
    r"link|(?:this|the|a) video|(?:this|the) activity|worksheet|shown (?:above|below|here|in)"
    r"|(?:outlined|described|mentioned|listed|given|explained|discussed) (?:above|below|earlier)"
    r"|the lecturer|the following|as follows|see also|check your|learning objectives?"
    r"|(?:this|the|that) "
    r"(?:formula|equation)|artist[\u2019']s|(?:this|the) (?:image|photo|photograph|illustration|"
    r"diagram|map|graph|drawing)|pictured|credit|(?:note|notice|observe) how)\b",
    re.IGNORECASE,
)
# Converted textbooks sometimes glue a heading onto the next sentence ("Solution If Earth were
# tilted less"); a capitalised function word inside a sentence gives it away.
_GLUED_HEADING = re.compile(
    r"(?<![.:;!?\u2014\"\u201c(])\s(?:The|A|An|If|In|When|This|These|It|We|You|Our|As|For)\s"
)
# A textbook talking about itself ("In Earth, Moon, and Sky, we discuss ... in more detail",
# "With these facts in mind, let us ask ...") says nothing about the topic once read aloud.
_SELF_REFERENCE = re.compile(
    r"\b(?:let us|let[\u2019']s (?:briefly |now |next )?(?:review|look|examine|consider|turn|see)"
    r"|we (?:will |shall |now |next )?(?:discuss|discussed|describe|described|explore|explored"
    r"|examine|examined|return|returned|turn|consider|considered)|we (?:will|shall) (?:see|learn"
    r"|look|show)"
    r"|in (?:more|greater) detail|(?:later|earlier|previously) in this (?:book|text))\b",
    re.IGNORECASE,
)
# A sentence ending on a preposition lost the figure or link it pointed at ("look at ... in."),
# and so did one where a preposition runs into a comma or a verb ("in the circuit of, the
# battery", "the water circuit of is").
_DANGLING = re.compile(
    r"\b(?:in|of|to|at|on|from|with|by|see)[.!?]$|\b(?:of|in)\s*[,;:]"
    r"|\bof\s+(?:is|are|was|were|shows?|has|have)\b",
    re.IGNORECASE,
)
# A picture named with a word or two before it: "The left circuit diagram shows ...".
_NAMED_PICTURE = re.compile(
    r"\b(?:the|this|that|these|those) (?!big picture)(?:(?!(?:and|or) )[\w\u2019'-]+ ){1,2}"
    r"(?:diagrams?|figures?|graphs?|images?|photos?|photographs?|drawings?|illustrations?|charts?|pictures?|panels?)\b",
    re.IGNORECASE,
)
# A step of a worked problem or exercise, said to the reader: "Identify a group of resistors
# ...", "Draw a new circuit diagram ...", "Otherwise, you are finished."
_INSTRUCTION = re.compile(
    r"^(?:identify|draw|return|repeat|calculate|compute|determine|solve|substitute|sketch|label"
    r"|plug|rearrange|write down|list|enter|convert|check whether|make sure|step \d)\b"
    r"|\byou are (?:finished|done)\b",
    re.IGNORECASE,
)
# A place on a page: "On the left is an electrical circuit", "at right", "in the upper left".
_PAGE_PLACE = re.compile(
    r"\b(?:on|at|to) the (?:left|right|top|bottom)\s+(?:is|are|was|were|shows?)\b"
    r"|^(?:on|at) (?:the )?(?:left|right|top|bottom)\b|\b(?:at|on) (?:left|right)\b"
    r"|\b(?:in|at) the (?:upper|lower|top|bottom) (?:left|right)\b",
    re.IGNORECASE,
)
_VOWEL_GROUPS = re.compile(r"[aeiouy]+")

# Longest sentence worth narrating, and the comfortable length, per grade band.
_MAX_WORDS = {"K-2": 20, "3-5": 25, "6-8": 35, "9-12": 45}
_EASY_WORDS = {"K-2": 10, "3-5": 14, "6-8": 18, "9-12": 22}


# The most grades below the student's that a passage's plainer sentences aim, to make up for
# its terms.
MAX_AIM_BELOW = 2.0


def max_sentence_words(grade: Grade) -> int:
    return _MAX_WORDS[grade.band]


# A dashed aside ("so\u2014as discussed in Chapter 2\u2014astronomers") reads badly aloud.
_DASHED_ASIDE = re.compile(r"\s*\u2014[^\u2014]{1,120}\u2014\s*")


# "As we shall show, the seasons are caused by ..." states its fact without the signpost.
_SIGNPOST = re.compile(
    r"^As we (?:saw|have seen|noted|discussed|will see|learned|shall show|will show)[^,]{0,80},\s*"
    r"|^As you (?:are|may be|might be) (?:no doubt |probably |well |already )?aware,\s*"
)


def light_edit(sentence: str) -> str:
    """Drop parenthetical and dashed asides and an opening signpost ("As we saw in ..., ") and
    tidy the spacing they leave."""
    previous = None
    text = _DASHED_ASIDE.sub(" ", sentence)
    without = _SIGNPOST.sub("", text)
    if without != text and without:
        text = without[:1].upper() + without[1:]
    while previous != text:  # nested brackets come out from the inside
        previous, text = text, _PARENTHETICAL.sub("", text)
    text = _SPACE_BEFORE_PUNCTUATION.sub(r"\1", " ".join(text.split()))
    return text


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def split_at_semicolons(sentence: str, limit: int) -> list[str]:
    """A sentence longer than ``limit`` words becomes its semicolon-separated clauses."""
    if len(sentence.split()) <= limit or ";" not in sentence:
        return [sentence]
    parts = [part.strip() for part in sentence.split(";") if part.strip()]
    edited = []
    for part in parts:
        part = _capitalised(part)
        edited.append(part if part[-1] in ".!?" else f"{part}.")
    return edited


def narratable(sentence: str) -> bool:
    """Whether a sentence can be spoken on its own, without a figure, table or equation."""
    count = len(sentence.split())
    if count < 4:
        return False
    if not (sentence[0].isupper() or sentence[0].isdigit() or sentence[0] in '"\u201c'):
        return False
    if sentence.rstrip("\"'\u201d\u2019")[-1:] not in (".", "!", "?"):
        return False
    if _MATH.search(sentence) or _REFERENCE.search(sentence) or _SELF_REFERENCE.search(sentence):
        return False
    if _GLUED_HEADING.search(sentence) or _DANGLING.search(sentence):
        return False
    if _PAGE_PLACE.search(sentence) or _NAMED_PICTURE.search(sentence):
        return False
    if _INSTRUCTION.search(sentence):
        return False
    if sentence.count("\u201c") != sentence.count("\u201d") or sentence.count('"') % 2:
        return False
    if sentence.count("(") != sentence.count(")") or sentence.count("[") != sentence.count("]"):
        return False  # what is left of an aside the conversion broke: "circuits] to missiles"
    return not sentence.endswith(":")


_CONCLUDING = ("thus", "hence")  # a conclusion drawn from the sentence before
# Words that open a sentence by pointing back at the one before ("These areas are called
# the poles"): such a sentence means nothing once that one is gone.
_REFERRING_OPENERS = frozenset(
    ("this", "these", "that", "those", "it", "its", "they", "them", "their", "such")
    + ("he", "she", "his", "her")
    # "However, the current through each resistor can differ" contrasts with what came before.
    + ("however", "moreover", "furthermore", "nevertheless", "nonetheless", "instead")
    + ("otherwise", "conversely", "similarly", "likewise")
    + _CONCLUDING
)


def refers_back(sentence: str) -> bool:
    """Whether a sentence opens with a word pointing back at the previous one ("This video"
    and the like are caught by ``narratable`` already)."""
    first = sentence.split(maxsplit=1)[0].strip("\"'\u201c,").lower() if sentence else ""
    return first in _REFERRING_OPENERS


def concludes(sentence: str) -> bool:
    """Whether a sentence opens by concluding from the one before ("Thus, Mars has seasons")."""
    first = sentence.split(maxsplit=1)[0].strip("\"'\u201c,").lower() if sentence else ""
    return first in _CONCLUDING


def edited_sentences(text: str, grade: Grade) -> list[tuple[str, str]]:
    """The sentences of a passage that can be narrated for ``grade``, edited, in order, each
    with the source sentence it was edited from ("" when it is the source's own words).

    Simplifying aims at the grade over the whole passage: when the passage reads above it (its
    terms are long words that no edit may change), its other sentences aim as much lower, up to
    ``MAX_AIM_BELOW`` grades, so that the passage as a whole lands near the grade.

    A sentence that points back at one that could not be narrated goes too: "These areas are
    called the poles" after a dropped sentence about magnetic rocks names nothing.
    """
    limit = max_sentence_words(grade)
    easy = _EASY_WORDS[grade.band]
    lightly = [
        (part, raw)
        for raw in split_sentences(text)
        for part in split_at_semicolons(light_edit(raw), limit)
    ]
    spoken = [part for part, _ in lightly if narratable(part)]
    above = max(0.0, passage_grade(spoken) - grade.level) if spoken else 0.0
    aim = grade.level - min(MAX_AIM_BELOW, above)
    kept: list[tuple[str, str]] = []
    previous_kept = False
    for part, raw in lightly:
        for sentence in simplify(part, grade, easy, aim):
            usable = narratable(sentence) and len(sentence.split()) <= limit
            if usable and refers_back(sentence) and not previous_kept:
                usable = False
            if usable:
                kept.append((sentence, "" if sentence == raw else raw))
            previous_kept = usable
    return kept


def narration_sentences(text: str, grade: Grade) -> list[str]:
    """The narratable sentences of a passage for ``grade`` (``edited_sentences`` without their
    sources)."""
    return [sentence for sentence, _ in edited_sentences(text, grade)]


def syllables(word: str) -> int:
    """Vowel groups of a word, less a silent final "e" (a rough count; ``spoken_syllables``
    also knows silent "-es"/"-ed" and two-vowel pairs)."""
    groups = len(_VOWEL_GROUPS.findall(word.lower()))
    if word.lower().endswith("e") and groups > 1:
        groups -= 1  # a silent final e
    return max(1, groups)


def fk_grade(sentence: str) -> float:
    """Flesch-Kincaid grade of one sentence with the rough ``syllables`` count: the scale that
    selection's weights are set on (``reading_level.fk_grade`` counts syllables as spoken)."""
    found = words(sentence)
    if not found:
        return 0.0
    syllable_count = sum(syllables(word) for word in found)
    return 0.39 * len(found) + 11.8 * syllable_count / len(found) - 15.59


def grade_excess(sentence: str, grade: Grade) -> float:
    """How many grades a sentence reads above ``grade`` (plus one grade of slack), or 0."""
    return max(0.0, fk_grade(sentence) - grade.level - LEVEL_SLACK)


@dataclass(frozen=True)
class Readability:
    """How well a sentence suits a grade: ``ease`` 1.0 is comfortable, lower is too hard or, for
    grade 3 and up, too easy; ``level`` is its Flesch-Kincaid grade."""

    words: int
    hard_words: int
    level: float
    ease: float


# Grades of plainer wording than the grade's that halve a sentence's ease.
_EASIER_GRADES = 6.0
# Younger students stumble more on long words, so the same share of them weighs more.
_HARD_WORD_WEIGHT = {"K-2": 3.0, "3-5": 2.0, "6-8": 1.2, "9-12": 0.8}


def readability(sentence: str, grade: Grade) -> Readability:
    """Long sentences and long words make a sentence harder for ``grade``; from grade 3 on,
    wording well below the grade (``wording_grade`` at the grade's comfortable length, so that
    a short sentence is not taken for an easy one) makes it worth less too."""
    found = words(sentence)
    count = max(1, len(found))
    hard = sum(1 for word in found if syllables(word) >= 3)
    easy_length = _EASY_WORDS[grade.band]
    too_long = max(0.0, count - easy_length) / easy_length
    wording = wording_grade(sentence, easy_length)
    too_easy = max(0.0, grade.level - LEVEL_SLACK - wording) if grade.level > 2 else 0.0
    hard_share = _HARD_WORD_WEIGHT[grade.band] * hard / count
    ease = 1.0 / (1.0 + too_long + hard_share) / (1.0 + too_easy / _EASIER_GRADES)
    return Readability(words=count, hard_words=hard, level=fk_grade(sentence), ease=ease)
