"""Words that never make a topic on their own, grouped by why.

A question is the topic plus scaffolding: the request ("make a short video about"), the audience
("for my sixth grade class"), grammar ("what is the"), pointers to something unseen ("this",
"the worksheet from yesterday") and filler ("something cool"). Topic detection removes all of these
and keeps what is left. Everything here is a matching key (see ``text.word_key``): lowercase,
apostrophes dropped, plurals folded.
"""

from __future__ import annotations

from vividly_ray.validation.text import word_key


def _words(text: str) -> frozenset[str]:
    return frozenset(word_key(word) for word in text.split())


GRAMMAR = _words(
    """
    a an the and or but nor if so than then of to in on at by for from with without about into
    onto over under up down out off as like unlike because while during before after between
    among through across around near along against toward towards via per is are was were be
    been being am do does did done doing have has had having can could would should will shall may
    might must not no yes very really just also too even only still again ever never always
    there here where when what which who whom whose why how whats hows whys wheres whos i me my
    mine myself we u our ours ourselves you your yours yourself he him his she her hers they them
    their theirs it its itself one ones im ive id ill dont doesnt didnt cant wont isnt arent
    wasnt werent couldnt wouldnt shouldnt let lets gonna wanna gotta kinda sorta y all each every
    both either neither other another such own same some any many much more most less few lot
    lots bit way kind sort type part whether ok okay oh um uh hmm yeah yep nope hey hi hello
    thanks thank please pls plz sure maybe actually basically really literally far away ahead
    """
)

# Asking for a video or an explanation, and describing its form.
REQUEST = _words(
    """
    explain explanation describe description tell show teach learn understand know help make
    made making create generate produce give need want wish wonder curious video vid clip animation
    animated movie cartoon slideshow presentation narrate narrated narration voice voiceover
    minute min second sec hour long short quick brief simple simply easy basic detail detailed
    diagram example everyday picture image visual illustration include including cover
    covering focus focusing using use go goes going get getting got come came see look find say said
    talk tell write draw break walk run work happen mean cause form occur affect do differ
    difference different compare comparison contrast between overview introduction intro summary
    summarize review recap definition define meaning preface conclusion appendix glossary answer
    question questions discuss discussion
    idea ideas fact facts info information thing things stuff something anything everything
    nothing whatever topic subject lesson lecture material content concept concepts basics
    important interesting cool fun funny awesome amazing random good great nice best better new
    old big little main general whole entire real true exactly specifically solve figure
    calculate carry move travel turn keep stay become seem feel put take bring leave start stop
    begin finish try call name think believe remember forget study practice prepare pass fail
    ready check fix show tell list ask confused confusing stuck struggle bored tired hard
    difficult miss missed absent sick
    """
)

# Who the video is for.
AUDIENCE = _words(
    """
    grade grader level student kid child children class classmate classroom year age aged
    kindergarten kindergartener elementary middle high school beginner beginners audience
    teacher teen teenager people person everyone someone somebody anyone me us
    first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth
    1st 2nd 3rd 4th 5th 6th 7th 8th 9th 10th 11th 12th k
    two three four five six seven eight nine ten eleven twelve fifteen twenty thirty half couple
    """
)

# School work that points at a topic without naming it.
HOMEWORK = _words(
    "homework assignment worksheet project essay report exercise problem task number fair"
)
CLASS = _words(
    "class lesson lecture teacher today yesterday tomorrow morning earlier week test quiz exam "
    "midterm final studied learned covered talked discussed read chapter unit section page"
)
# Describing words that are scaffolding alone but part of a name before a topic word
# ("Great Barrier Reef", "high tide", "first amendment").
MODIFIERS = _words("great big little new old high low middle first second third long short main")
# Words that stand for a topic the reader cannot see.
POINTERS = _words("it this that these those thing stuff something one")
# Nouns that, after a pointer ("this equation", "my essay"), refer to something unseen.
ARTIFACTS = _words(
    "equation graph poem map problem sentence paragraph passage story chart diagram picture word "
    "question page text book article worksheet table list formula experiment"
)
POINTING_DETERMINERS = _words("this that these those my our the following above below")
# Filler students type when they have no topic yet.
FILLER = _words(
    "idk dunno lol lmao bruh whatever anything something stuff random cool surprise boring "
    "fun help ok okay hi hello hey test testing asdf smh tbh brb btw thx ty ngl wtf lmk ikr jk "
    "nvm omg hmm hmmm grr brr shh pfft"
)

NON_TOPIC: frozenset[str] = GRAMMAR | REQUEST | AUDIENCE | HOMEWORK | CLASS | POINTERS | FILLER


def base_forms(key: str) -> tuple[str, ...]:
    """The key and the words it may be inflected from ("explaining" -> "explain")."""
    forms = [key]
    for suffix in ("ing", "ed", "es", "s"):
        # "seed" and "weed" are not "see" and "we" plus "ed".
        if not key.endswith(suffix) or (suffix == "ed" and key.endswith("eed")):
            continue
        stem = key[: -len(suffix)]
        candidates = [stem, stem + "e"]
        doubled = len(stem) > 1 and stem[-1] == stem[-2] and stem[-1] not in "aeiouy"
        if suffix in ("ing", "ed") and doubled:
            candidates.append(stem[:-1])  # "getting" -> "get"
        if suffix in ("ed", "es") and stem.endswith("i"):
            candidates.append(stem[:-1] + "y")  # "studied" -> "study"
        # Shorter stems are accidents more often than words ("used" is "use", not "us").
        forms += [candidate for candidate in candidates if len(candidate) >= 3]
    return tuple(forms)


def is_non_topic(key: str) -> bool:
    """Whether a word, in any inflection, is scaffolding rather than part of a topic."""
    return any(form in NON_TOPIC for form in base_forms(key))
