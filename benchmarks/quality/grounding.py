"""Is each narrated claim supported by a retrieved passage?

Claims are the narration sentences of the CONCEPT, RECAP and CHECK scenes, except sentences that
open with "Let's" or "Let us" (framing such as "Let's review what we learned.") and, in a CHECK
scene, the questions (sentences ending with "?"): its answers repeat narration sentences and are
claims like any other. The title and credits scenes are framing and are not claims.

A claim is supported when, after normalising both texts (lowercase, straight quotes, every run of
other characters than letters and digits made one space):
- it occurs inside one retrieved passage (``exact``), or
- at least ``SUPPORT_THRESHOLD`` (80%) of its distinct content words occur in one retrieved
  passage (``overlap``). Content words are word tokens that are not stopwords, with a possessive
  "'s" and a plural "s" removed, so "magnets" and "magnet" are one word.
- or it is an edited sentence (``edited``): the scene records its source sentence
  (``Scene.source_sentences``), that source occurs inside one retrieved passage, and every
  content word of the claim is a content word of the source, or the listed common synonym
  (``vividly_ray.script.simplify.SYNONYMS``) of one.
A claim supported only by passages of sources its scene does not list is ``misattributed``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from vividly_ray.domain.models import Passage, Retrieval, SceneKind, Script
from vividly_ray.library.text import STOPWORDS
from vividly_ray.script.simplify import SYNONYMS

SUPPORT_THRESHOLD = 0.8
CLAIM_KINDS = (SceneKind.CONCEPT, SceneKind.RECAP, SceneKind.CHECK)
_FRAMING = re.compile(r"^\s*let(?:'|\u2019)?s\b|^\s*let us\b", re.IGNORECASE)
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)*")


def normalise(text: str) -> str:
    text = text.lower().replace("\u2019", "'").replace("\u2018", "'")
    return " ".join(re.sub(r"[^a-z0-9']+", " ", text).replace(" '", " ").split())


def content_words(text: str) -> frozenset[str]:
    found: set[str] = set()
    for word in _WORD.findall(text.lower().replace("\u2019", "'")):
        if word in STOPWORDS:
            continue
        word = word.removesuffix("'s")
        if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        found.add(word)
    return frozenset(found)


@dataclass(frozen=True)
class _Indexed:
    passage: Passage
    text: str
    words: frozenset[str]


def support(sentence: str, passages: Sequence[_Indexed]) -> list[tuple[str, _Indexed]]:
    """The passages that support ``sentence`` and how ("exact" or "overlap")."""
    plain = normalise(sentence)
    words = content_words(sentence)
    found: list[tuple[str, _Indexed]] = []
    for item in passages:
        if plain and plain in item.text:
            found.append(("exact", item))
        elif words and len(words & item.words) >= SUPPORT_THRESHOLD * len(words):
            found.append(("overlap", item))
    return found


def edited_support(sentence: str, source: str, passages: Sequence[_Indexed]) -> list[_Indexed]:
    """The passages holding ``source`` when ``sentence`` says nothing its source does not."""
    plain = normalise(source)
    holding = [item for item in passages if plain and plain in item.text]
    if not holding:
        return []
    allowed = set(content_words(source))
    allowed |= {
        word
        for original, plain_word in SYNONYMS.items()
        if original in allowed
        for word in content_words(plain_word)
    }
    return holding if content_words(sentence) <= allowed else []


@dataclass
class Grounding:
    """Claims, the supported ones, and the scenes that name no source."""

    claims: int = 0
    exact: int = 0
    overlap: int = 0
    edited: int = 0
    misattributed: int = 0
    unsupported: list[str] = field(default_factory=list)
    scenes_without_source: list[str] = field(default_factory=list)

    @property
    def supported(self) -> int:
        return self.exact + self.overlap + self.edited

    @property
    def share(self) -> float:
        return self.supported / self.claims if self.claims else 1.0


def is_claim(sentence: str) -> bool:
    return bool(sentence.strip()) and not _FRAMING.match(sentence)


def measure_grounding(script: Script, retrieval: Retrieval) -> Grounding:
    indexed = [
        _Indexed(r.passage, normalise(r.passage.text), content_words(r.passage.text))
        for r in retrieval.passages
    ]
    result = Grounding()
    for scene in script.scenes:
        if scene.kind is SceneKind.CONCEPT and not scene.source_ids:
            result.scenes_without_source.append(scene.title)
        if scene.kind not in CLAIM_KINDS:
            continue
        for n, sentence in enumerate(scene.narration):
            if not is_claim(sentence) or (
                scene.kind is SceneKind.CHECK and sentence.rstrip().endswith("?")
            ):
                continue
            result.claims += 1
            found = support(sentence, indexed)
            source = scene.source_sentences[n] if n < len(scene.source_sentences) else ""
            if not found and source:
                found = [("edited", item) for item in edited_support(sentence, source, indexed)]
            if not found:
                result.unsupported.append(sentence)
                continue
            if any(how == "exact" for how, _ in found):
                result.exact += 1
            elif any(how == "overlap" for how, _ in found):
                result.overlap += 1
            else:
                result.edited += 1
            if not any(item.passage.source_id in scene.source_ids for _, item in found):
                result.misattributed += 1
    return result
