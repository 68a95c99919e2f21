"""Wording tools for visuals: cutting a sentence down to a label, and reading a list out of a
sentence. Both only ever keep the sentence's own words, in order."""

from __future__ import annotations

import re

LABEL_WORDS = 8  # a label longer than this is cut at a clause or word boundary
DETAIL_WORDS = 14
MIN_STAGES = 3
MAX_MEMBERS = 8


def words(text: str) -> frozenset[str]:
    return frozenset(text.split())


DANGLING = words(
    "divided multiplied it they this a an the of to and or but in on for with that which by "
    "from as at its their his her our your is are was were be into onto than so because while "
    "when where who whose over under about through between across after before during against "
    "without within toward towards upon around among "
)
STOP = DANGLING | words("this these those it they some all many much more most")
CLAUSE_END = re.compile(r"[,;:.!?]|\s(?:and the|so|because|which|while)\s")


def shorten(text: str, words: int = LABEL_WORDS) -> str:
    """A prefix of ``text`` of at most ``words`` words, cut at a clause boundary when one is near,
    without a dangling article, preposition or conjunction at its end."""
    text = text.strip().rstrip(".!?;:,")
    tokens = text.split()
    if len(tokens) <= words:
        return text
    clause = CLAUSE_END.search(text)
    if clause and 3 <= len(text[: clause.start()].split()) <= words:
        tokens = text[: clause.start()].split()
    else:
        tokens = tokens[:words]
    while len(tokens) > 1 and tokens[-1].lower().strip(",;:") in DANGLING:
        tokens.pop()
    return " ".join(tokens).rstrip(",;:")


def upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def content_words(text: str) -> set[str]:
    return {w[:6] for w in re.findall(r"[a-z]+", text.lower()) if len(w) > 3 and w not in STOP}


def enumeration(sentence: str) -> list[str]:
    """The members of a list in the sentence ("A, B, and C", "A, then B, then C"), each a piece
    of the sentence; empty when there is no list of at least three short members."""
    body = sentence.strip().rstrip(".!?")
    if not re.search(r",\s*(?:and|then|or)\s|\s+then\s", body):
        return []
    parts = [p.strip() for p in re.split(r",\s*(?:and\s+|then\s+|or\s+)?|\s+then\s+", body)]
    parts = [re.sub(r"^(?:and|then|or)\s+", "", p) for p in parts if p]
    if len(parts) < MIN_STAGES:
        return []
    lead = re.split(r"\s(?:are|is|include|includes|including|through|into)\s", parts[0])
    if len(lead) > 1 and lead[-1].strip():
        parts[0] = lead[-1].strip()
    if any(len(p.split()) > 6 for p in parts) or len(parts) > MAX_MEMBERS:
        return []
    return parts
