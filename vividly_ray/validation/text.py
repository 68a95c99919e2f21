"""Text normalisation shared by the safety rules and topic detection.

Two views of a question are needed. Topic detection wants words with their surface form and a
plural-folded key, split at punctuation so that a list of terms is not read as one phrase. The
safety rules want one flat lowercase string per plausible spelling, with light obfuscation undone
(``b0mb``, ``b o m b``, ``$ex``) so that word-boundary patterns still see the word.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

BREAK = "|"  # stands for punctuation between phrases; never a word

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'"})
_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)*|[.,;:!?()\[\]{}\"/\n]")

# Plurals the suffix rules below would fold wrongly.
_IRREGULAR = {
    "gases": "gas",
    "buses": "bus",
    "viruses": "virus",
    "lenses": "lens",
    "leaves": "leaf",
    "wolves": "wolf",
    "lives": "life",
    "halves": "half",
    "shelves": "shelf",
    "mice": "mouse",
    "geese": "goose",
    "teeth": "tooth",
    "feet": "foot",
    "children": "child",
    "women": "woman",
    "men": "man",
    "fungi": "fungus",
    "cacti": "cactus",
    "nuclei": "nucleus",
    "species": "species",
    "series": "series",
    "people": "people",
    "data": "data",
    "news": "news",
    "axes": "axis",
    "analyses": "analysis",
    "hypotheses": "hypothesis",
    "oases": "oasis",
    "crises": "crisis",
}
# Words ending in these letters are singular already (class, virus, axis, physics).
_SINGULAR_ENDINGS = ("ss", "us", "is", "ics", "ous")


@dataclass(frozen=True)
class Token:
    """One word of a question: as written (lowercased) and as matched (plural folded)."""

    surface: str
    key: str

    @property
    def is_break(self) -> bool:
        return self.key == BREAK


def clean(text: str) -> str:
    """Unicode-normalised, case-folded text with invisible format characters removed."""
    text = unicodedata.normalize("NFKC", text).casefold().translate(_APOSTROPHES)
    # Zero-width and direction characters (category Cf) can hide a word from a pattern.
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf")


def fold_plural(word: str) -> str:
    """A plural noun's singular by simple English suffix rules; other words unchanged."""
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    if len(word) <= 3 or not word.isalpha() or word.endswith(_SINGULAR_ENDINGS):
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "shes", "ches", "xes", "zes")):
        return word[:-2]
    if word.endswith("s"):
        return word[:-1]
    return word


def word_key(word: str) -> str:
    """The matching key of one word: possessive and apostrophes dropped, plural folded."""
    if word.endswith("'s"):
        word = word[:-2]
    return fold_plural(word.replace("'", ""))


def tokenize(text: str) -> tuple[Token, ...]:
    """Words and punctuation breaks, in order. Hyphens split words (``3-minute``, ``self-harm``)."""
    tokens: list[Token] = []
    for match in _TOKEN.finditer(clean(text).replace("-", " ")):
        piece = match.group()
        if piece[0].isalnum():
            tokens.append(Token(piece, word_key(piece)))
        elif not tokens or not tokens[-1].is_break:
            tokens.append(Token(piece, BREAK))
    return tuple(tokens)


def phrase_keys(phrase: str) -> tuple[str, ...]:
    """Matching keys of a vocabulary phrase, written the way a student would write it."""
    return tuple(token.key for token in tokenize(phrase) if not token.is_break)


# --- the safety view -------------------------------------------------------------------------

_LEET_COMMON = {"0": "o", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i"}
_OBFUSCATED = re.compile(r"[a-z0-9@$!]*[a-z][a-z0-9@$!]*|[@$][a-z0-9@$!]+")
_ORDINAL = re.compile(r"\d+(?:st|nd|rd|th)")
# Three or more single characters separated by one space, dot, dash, underscore or star.
_SPACED_OUT = re.compile(r"(?<![a-z0-9])(?:[a-z0-9@$][ .\-_*]){2,}[a-z0-9@$](?![a-z0-9])")
_NOT_WORD = re.compile(r"[^a-z0-9 ]+")


def _squash(spaced: str) -> str:
    return re.sub(r"[ .\-_*]", "", spaced)


def _rejoin(match: re.Match[str]) -> str:
    return _squash(match.group())


def _rejoin_after_article(match: re.Match[str]) -> str:
    # "make a b o m b": a leading "a" or "i" may be a word of its own rather than a letter.
    text = match.group()
    if text[0] in "ai" and len(text) >= 7:
        return text[:2] + _squash(text[2:])
    return _squash(text)


def _unleet(text: str, one: str) -> str:
    table = {**_LEET_COMMON, "1": one}

    def swap(match: re.Match[str]) -> str:
        word = match.group()
        # An exclamation mark ending a word is punctuation, not a letter.
        core = word.rstrip("!")
        if _ORDINAL.fullmatch(core) or core.isalpha():
            return word
        return "".join(table.get(ch, ch) for ch in core) + word[len(core) :]

    return _OBFUSCATED.sub(swap, text)


def _flatten(text: str) -> str:
    # Accents off (naïve -> naive) so that the ASCII patterns still see the word.
    text = "".join(
        ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch)
    )
    text = re.sub(r"'s\b", "", text).replace("'", "")
    return " ".join(_NOT_WORD.sub(" ", text).split())


def safety_forms(text: str) -> tuple[str, ...]:
    """The question as flat lowercase word strings: as written, and with obfuscation undone.

    A ``1`` may stand for ``i`` or ``l`` (``k1ll``, ``a1cohol``), so both readings are kept.
    """
    cleaned = clean(text)
    forms: list[str] = []
    joined = (_SPACED_OUT.sub(join, cleaned) for join in (_rejoin, _rejoin_after_article))
    for base in dict.fromkeys(joined):
        for one in ("i", "l"):
            for form in (_flatten(base), _flatten(_unleet(base, one))):
                if form not in forms:
                    forms.append(form)
    return tuple(forms)
