"""More question shapes for the check for understanding, each made by a fixed rule from one
narrated sentence that answers it:
- a result ("Rockets do not need air to push against, so rockets work in the vacuum of space.")
  asks "Why do rockets work in the vacuum of space?"; so does a cause given first ("Since red
  light is less likely to be scattered, the Sun appears red ...") or after the main clause
  with "because" ("Parallax stops working ..., because ...");
- a purpose ("A parachute uses a large surface to catch air.") asks "Why does a parachute use a
  large surface?"; "X is used to ..." asks "What is X used for?";
- a way ("One way to estimate the age of a surface is by counting craters.") asks "How can you
  estimate the age of a surface?";
- an age ("Meteor Crater in Arizona is about 50,000 years old.") asks "How old is ...?";
- a time ("A double rainbow forms when light reflects twice.") asks "When does a double rainbow
  form?";
- parts ("Each chloroplast contains a green pigment.", "A comet is made of ice and dust.") ask
  "What does each chloroplast contain?", "What is a comet made of?";
- a ranking ("Jupiter's largest moons are Ganymede and Callisto.") asks "What are Jupiter's
  largest moons?".
A clause is turned into a question only when its subject and verb are read safely: a short
subject that is not a pronoun, then an auxiliary ("is", "can", "does not") or a present-tense
verb of ``VERBS`` that agrees with the subject's head noun.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from vividly_ray.library.text import word_set
from vividly_ray.script.vocabulary import PREPOSITIONS, PRONOUNS

MAX_QUESTION_WORDS = 16

# Present-tense verbs (base forms) common in science narration whose "-s" form is read safely.
VERBS = word_set(
    """
    absorb allow appear attract become begin bend bounce break burn carry cause change collide
    come contain cool create depend drop expand explain fall feel flow fly form freeze gain get
    glow go grow happen heat help hit hold keep last lead let look lose make melt move need
    occur orbit pass produce pull push reach reflect release repel rise rotate scatter seem
    shine show shrink sink slow speed spin spread stay stop take travel turn use vibrate warm
    work
    """
)
_AUXILIARIES = {"is", "are", "can", "will", "must", "cannot"}
_NEGATED = re.compile(r"^(?P<subject>.+?) (?P<aux>does|do|is|are|can) not (?P<rest>.+)$")
_LOWERED = {"The", "A", "An", "Each", "Every"}
# A clause with one of these points at something said before it, so it cannot stand alone.
_POINTING = re.compile(r"\b(?:this|these|those|such|there)\b", re.IGNORECASE)
_SUBJECT_STOPS = PRONOUNS | word_set("there here who which what")
_CLAUSE_WORDS = word_set("that which who whom when where if because while than")
_VERB_FORMS = frozenset(_verb + "s" for _verb in VERBS) | word_set("has have does do")

_SO = re.compile(r"^(?P<cause>[^,]{12,}(?:,[^,]+)?), (?:and )?so (?P<clause>[A-Za-z].+)\.$")
_CAUSE_FIRST = re.compile(r"^(?:Since|Because) (?P<cause>[^,]{8,}), (?P<clause>[A-Za-z].+)\.$")
_BECAUSE = re.compile(r"^(?P<clause>[A-Z][^,]+?),? because \S.+\.$")
_USES = re.compile(
    r"^(?P<subject>[A-Z][\w' ]{1,40}?) (?P<verb>uses|use) (?P<what>[^,]{3,40}?) to \S"
)
_USED = re.compile(
    r"^(?P<subject>[A-Z][\w' ]{1,40}?) (?P<aux>is|are) (?:\w+ly |often |also )?used (?:to|for) \S"
)
_ONE_WAY = re.compile(r"^One way to (?P<aim>[a-z][\w' ]{4,50}?) is (?:by|to) [a-z]\S*")
_AGE = re.compile(
    r"^(?P<subject>[A-Z][^,]{1,40}?)(?:, (?P<name>[A-Z][^,]{1,40}),)? (?P<aux>is|are) "
    r"(?:about |nearly |almost |roughly |over |more than )?[\d.,]+ (?:million |billion )?"
    r"years old\.$"
)
_WHEN = re.compile(
    r"^(?P<subject>(?:The |A |An )?[A-Z]?[\w' -]{1,40}?) "
    r"(?P<verb>forms?|happens?|occurs?|appears?|begins?|starts?) when \S"
)
_CONTAINS = re.compile(
    r"^(?P<subject>(?:The |A |An |Each |Every )?[A-Z]?[\w' -]{1,40}?) (?P<verb>contains|contain"
    r"|consists of|consist of|(?P<aux>is|are) (?:mostly |mainly |largely )?made "
    r"(?:mostly |mainly |largely )?(?:up )?of) \S"
)
_RANKED = re.compile(
    r"^(?P<subject>(?:The |[A-Z][\w]*['’]s )(?:\w+ )?(?:largest|biggest|smallest|nearest"
    r"|closest|brightest|farthest|oldest|youngest|hottest|coldest|heaviest|lightest|fastest"
    r"|slowest|main)(?: [a-z]+){1,2}) (?P<aux>is|are) (?:the |a |an )?[A-Z]\S*"
)

_BY = re.compile(
    r"^(?P<subject>(?:The |A |An )?[A-Z]?[\w' -]{1,40}?) (?P<verb>[a-z]+) "
    r"(?P<rest>(?:[a-z][\w']* ){0,5}?)by [a-z]+ing\b"
)
_AT_THE = re.compile(r"^At the (?P<place>(?!same\b)[a-z][\w' -]{2,30}), (?P<clause>[a-z].+)\.$")
_APPOSITIVE = re.compile(
    r"^(?P<name>[A-Z][\w'’-]*(?: [A-Z][\w'’-]*){0,2}), (?P<what>the (?:\w+est|\w*most|most "
    r"\w+|first|last) [^,]{3,50}), [a-z]"
)
_EXPLAINS = re.compile(r"^The [\w' ]{3,40} explains (?P<how>how|why) (?P<rest>[a-z][^;:]{5,60})\.$")
_ABOUT = r"(?:about |nearly |almost |roughly |over |more than )?"
_SIZE = re.compile(
    rf"^(?P<subject>(?:The |A |An )?[A-Z][\w' ]{{1,40}}?) (?P<verb>is|are|was|were|stood|stands) "
    rf"{_ABOUT}[\d.,]+ (?:[a-z]+ )?(?P<size>tall|long|wide|high|deep|thick)\.$"
)
_TOOK = re.compile(
    rf"^(?P<subject>The [\w' ]{{2,50}}?) (?P<verb>took|takes) {_ABOUT}(?:[\d.,]+|one|two|three"
    r"|four|five|six|seven|eight|nine|ten|a few) (?:seconds?|minutes?|hours?|days?|weeks?"
    r"|months?|years?)\.$"
)
_LAW_SAYS = re.compile(
    r"^(?P<law>(?:[A-Z][\w'’]* )?(?:[a-z]+ ){0,2}(?:law|rule|principle)(?: of [a-z ]+)?): [A-Z]"
)


def lower_opening(text: str, proper: frozenset[str] = frozenset()) -> str:
    """A sentence's opening words for use inside a question: "The Moon" -> "the Moon",
    "Tides" -> "tides", but "Mars" and "Jupiter's" stay as they are when ``proper`` (the
    lesson's proper names) holds them, and a possessive name always does."""
    first = text.split(maxsplit=1)[0]
    name = re.sub(r"['’]s$", "", first)
    if first in _LOWERED or (
        name == first and name[1:].islower() and len(name) > 1 and name not in proper
    ):
        return text[:1].lower() + text[1:]
    return text


def proper_names(sentences: Iterable[str]) -> frozenset[str]:
    """Words written with a capital inside sentences and never in lower case: names."""
    capital: set[str] = set()
    lower: set[str] = set()
    for sentence in sentences:
        for word in re.findall(r"[A-Za-z][\w-]*", sentence)[1:]:
            (capital if word[0].isupper() else lower).add(word)
    return frozenset(word for word in capital if word.lower() not in lower)


def _singular(word: str, proper: frozenset[str] = frozenset()) -> bool:
    if word in proper:
        return True  # "Mars", "Venus"
    word = word.lower()
    return not word.endswith("s") or word.endswith(("ss", "us", "is", "ics"))


def _head(subject: list[str]) -> str:
    """The subject's head noun: its last word before a preposition ("light" in "the light
    from a star")."""
    for n, word in enumerate(subject):
        if n and word.lower() in PREPOSITIONS:
            return subject[n - 1]
    return subject[-1]


def _base(verb: str) -> str:
    if verb.endswith("ies"):
        return verb[:-3] + "y"
    if verb.endswith(("sses", "shes", "ches", "xes", "zes", "oes")):
        return verb[:-2]
    return verb[:-1]


def _subject_ok(words: list[str]) -> bool:
    """A short subject that is not a pronoun and holds no verb or clause of its own."""
    later = {word.lower() for word in words[1:]}
    return (
        1 <= len(words) <= 6
        and words[0].lower() not in _SUBJECT_STOPS
        and not any("," in word for word in words)
        and not later & (_CLAUSE_WORDS | _AUXILIARIES | VERBS | _VERB_FORMS)
        and not any(word.endswith("ed") for word in later)
    )


def _question(words: str) -> str | None:
    return words if len(words.split()) <= MAX_QUESTION_WORDS else None


def why_question(clause: str, proper: frozenset[str] = frozenset()) -> str | None:
    """ "the star looks dimmer from farther away" -> "Why does the star look dimmer from
    farther away?", or None when the clause's subject and verb are not read safely."""
    clause = clause.strip().rstrip(".")
    negated = _NEGATED.match(clause)
    if negated and _subject_ok(negated.group("subject").split()):
        aux = {"can": "can't"}.get(negated.group("aux"), negated.group("aux") + "n't")
        said = lower_opening(negated.group("subject"), proper)
        return _question(f"Why {aux} {said} {negated.group('rest')}?")
    words = clause.split()
    for at in range(1, min(len(words) - 1, 7)):
        subject, verb = words[:at], words[at]
        if not _subject_ok(subject):
            continue
        rest = " ".join(words[at + 1 :])
        said = lower_opening(" ".join(subject), proper)
        if verb in _AUXILIARIES:
            aux = "can't" if verb == "cannot" else verb
            return _question(f"Why {aux} {said} {rest}?")
        head = _head(subject)
        if verb in {"has", "have"} and (verb == "has") == _singular(head, proper):
            return _question(f"Why {'does' if verb == 'has' else 'do'} {said} have {rest}?")
        if verb.endswith("s") and _base(verb) in VERBS and _singular(head, proper):
            return _question(f"Why does {said} {_base(verb)} {rest}?")
        if verb in VERBS and not _singular(head, proper):
            return _question(f"Why do {said} {verb} {rest}?")
        if verb.lower() in VERBS | _VERB_FORMS:
            return None  # a verb that does not agree: the subject was misread
    return None


def _does(subject: str, verb: str, proper: frozenset[str]) -> str | None:
    """ "does the Moon form" / "do rainbows form" for a verb as the sentence gives it, or None
    when the subject is not read safely."""
    words = subject.split()
    if not _subject_ok(words):
        return None
    said = lower_opening(subject, proper)
    if verb.endswith("s") and _singular(_head(words), proper):
        return f"does {said} {_base(verb)}"
    if not verb.endswith("s") and not _singular(_head(words), proper):
        return f"do {said} {verb}"
    return None


def _is(subject: str, aux: str, proper: frozenset[str]) -> str | None:
    return f"{aux} {lower_opening(subject, proper)}" if _subject_ok(subject.split()) else None


def _clause_start(clause: str, proper: frozenset[str]) -> bool:
    first = clause.split(maxsplit=1)[0]
    return first[:1].islower() or re.sub(r"['\u2019]s$", "", first) in proper


# Planning asks this of the same sentences in many candidate scripts.
@lru_cache(maxsize=16384)
def shaped_question(sentence: str, proper: frozenset[str] = frozenset()) -> str | None:
    """A question ``sentence`` answers by one of this module's shapes, or None; ``proper``
    holds the lesson's proper names (``proper_names``)."""
    text = sentence.strip()
    if _POINTING.search(text):
        return None
    for pattern in (_SO, _CAUSE_FIRST, _BECAUSE):
        match = pattern.match(text)
        # After the comma only a name keeps its capital: "..., so Mars has four seasons."
        starts = match is not None and (
            pattern is _BECAUSE or _clause_start(match["clause"], proper)
        )
        if match and starts and (asked := why_question(match.group("clause"), proper)):
            return asked
    if (match := _USES.match(text)) and (does := _does(match["subject"], match["verb"], proper)):
        return _question(f"Why {does} {match['what']}?")
    if (match := _USED.match(text)) and (is_ := _is(match["subject"], match["aux"], proper)):
        return f"What {is_} used for?"
    if match := _ONE_WAY.match(text):
        return _question(f"How can you {match['aim']}?")
    if match := _AGE.match(text):
        named = match["name"] or lower_opening(match["subject"], proper)
        return f"How old {match['aux']} {named}?"
    if (match := _WHEN.match(text)) and (does := _does(match["subject"], match["verb"], proper)):
        return f"When {does}?"
    if match := _CONTAINS.match(text):
        return _parts_question(match, proper)
    if (match := _RANKED.match(text)) and (is_ := _is(match["subject"], match["aux"], proper)):
        return f"What {is_}?"
    return _other_shapes(text, proper)


def _other_shapes(text: str, proper: frozenset[str]) -> str | None:
    """The means, setting, name and law shapes (see the module's docstring)."""
    match = _BY.match(text)
    known = match is not None and (match["verb"] in VERBS or _base(match["verb"]) in VERBS)
    if match and known and (does := _does(match["subject"], match["verb"], proper)):
        return _question(f"How {does} {match['rest']}".rstrip() + "?")
    match = _AT_THE.match(text)
    if match and match["clause"].split()[0].lower() not in _SUBJECT_STOPS:
        return _question(f"What happens at the {match['place']}?")
    match = _APPOSITIVE.match(text)
    if match and all(bare in proper for bare in match["name"].split()):
        return _question(f"What is {match['what']}?")
    if match := _EXPLAINS.match(text):
        return _question(f"What explains {match['how']} {match['rest']}?")
    if (match := _SIZE.match(text)) and _subject_ok(match["subject"].split()):
        verb = {"stood": "was", "stands": "is"}.get(match["verb"], match["verb"])
        said = lower_opening(match["subject"], proper)
        return _question(f"How {match['size']} {verb} {said}?")
    trip = (match := _TOOK.match(text)) is not None and len(match["subject"].split()) <= 8
    if match and trip and not set(match["subject"].lower().split()) & _CLAUSE_WORDS:
        does = "did" if match["verb"] == "took" else "does"
        return _question(f"How long {does} {lower_opening(match['subject'], proper)} take?")
    if match := _LAW_SAYS.match(text):
        return _question(f"What does {lower_opening(match['law'], proper)} say?")
    return None


def _parts_question(match: re.Match[str], proper: frozenset[str]) -> str | None:
    subject, verb = match["subject"], match["verb"]
    if match["aux"]:
        is_ = _is(subject, match["aux"], proper)
        return f"What {is_} made of?" if is_ else None
    if verb.endswith(" of"):
        does = _does(subject, verb[:-3], proper)
        return f"What {does} of?" if does else None
    does = _does(subject, verb, proper)
    return f"What {does}?" if does else None
