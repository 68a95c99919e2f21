"""Closed classes of English words that the writer's phrase rules are built on.

Bullets, terms and titles are all made by dropping words from library sentences; whether a
shortened phrase still reads as complete depends mostly on these small, closed word classes
(articles, prepositions, auxiliaries...), never on a list of topics.
"""

from __future__ import annotations

from vividly_ray.library.text import word_set

ARTICLES = word_set("the a an")
POSSESSIVES = word_set("its their his her our your my")
DETERMINERS = ARTICLES | POSSESSIVES | word_set("this that these those some any each every no such")
PREPOSITIONS = word_set(
    """
    of to in on at for from into onto with by about between through over under across around
    during without within toward towards upon than as like per via among along behind beyond
    inside outside near above below beneath against off
    """
)
CONJUNCTIONS = word_set("and or but nor so because when while if whether which who whom whose")
AUXILIARIES = word_set(
    """
    is are was were be been being am has have had do does did will can may would could should
    must might shall cannot
    """
)
COPULAS = word_set("is are was were")
# Quantities that need a noun after them ("hundreds of liters", "several kinds").
QUANTIFIERS = word_set(
    """
    hundreds thousands millions billions trillions dozens many several few most all both more
    less lots
    """
)
NUMBERS = word_set(
    """
    zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen
    fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty
    ninety hundred thousand million billion half halves thirds fourths
    """
)
# Words that count or pick out things; a phrase they open names no idea ("each piece").
COUNTING = QUANTIFIERS | NUMBERS | word_set("each every some any same other another such no")
NAMING_WORDS = word_set("call calls called named known termed")
# After one of these the rest of a sentence is a clause of its own.
CLAUSE_OPENERS = word_set(
    """
    which that who whom whose where when while because since although though unless until so as
    if before after whereas
    """
)
SUBORDINATORS = word_set(
    "when if because although though while after before unless since whether without until once"
)
# A dropped negation changes what the words next to it mean ...
NEGATIONS = word_set(
    """
    not no never nor neither cannot can't don't doesn't didn't won't isn't aren't wasn't weren't
    couldn't wouldn't shouldn't only nothing none nobody
    """
)
# ... and a dropped condition changes the clause after it ("Without X, water would not rise").
CONDITIONS = word_set("without unless if except")
PRONOUNS = word_set("it its this that there these those they them he she we you one i what")
# Pronouns that refer to nothing once a phrase stands alone on a slide.
UNCLEAR_STARTS = word_set("it this these those they them he she")
# Nouns that stand for whatever fills them in ("the answer", "one example"), never a term.
SHELL_NOUNS = word_set(
    """
    example examples mistake mistakes way ways thing things part parts answer answers result
    results reason reasons idea ideas fact facts problem problems question questions step steps
    stage stages kind kinds type types lot lots amount time times place places key cause
    causes name
    """
)
# Words that only add emphasis or size; a bullet reads the same without them.
EMPHASIS = word_set("also even really very just actually simply tiny")
WEAK_ENDINGS = (
    DETERMINERS
    | PREPOSITIONS
    | CONJUNCTIONS
    | AUXILIARIES
    | QUANTIFIERS
    | NAMING_WORDS
    | word_set("how what why just")
)
FUNCTION_WORDS = DETERMINERS | PREPOSITIONS | CONJUNCTIONS | AUXILIARIES | CLAUSE_OPENERS
