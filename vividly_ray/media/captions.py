"""Caption cues from the narration's sentence timings, written as WebVTT and SRT.

A cue holds at most two lines of 42 characters (the Netflix Timed Text Style Guide's English
limits; ``caption_breaks``). Within a sentence each word is taken to last in proportion to its
characters, which tracks speech spoken at an even pace. Each scene's words are then cut into
cues the way subtitle practice asks:
- a cue appears when its first word is spoken and stays at least until its last word ends; it
  may stay on into the silence after them (the gap before the next sentence, the scene's tail)
  for up to ``MAX_LINGER_SECONDS``, but never past the next cue's start, the end of its scene
  (a slide change) or ``MAX_SECONDS`` on screen;
- a short sentence may share a cue with its neighbour when together they fit the lines, so no
  cue flashes by; a long one is split at natural phrase boundaries;
- among all the ways to cut a scene, the one chosen (by dynamic programming over the words)
  breaks the reading-speed and duration limits least, then reads best: sentence ends before
  clause ends before phrase boundaries, few cues holding parts of two sentences, no scraps.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from vividly_ray.domain.models import SceneAudio
from vividly_ray.media.caption_breaks import MAX_LINE_CHARS, MAX_LINES, break_cost, layout

__all__ = ["MAX_LINE_CHARS", "MAX_LINES", "Cue", "build_cues", "split_sentence"]

MAX_CPS = 20.0  # characters a second, spaces and punctuation counted
COMFORTABLE_CPS = 17.0  # the Netflix English (adult) reading speed; faster costs a little
MIN_SECONDS = 1.0
MAX_SECONDS = 7.0
MAX_LINGER_SECONDS = 1.5  # how long a cue may stay up in silence after its words

_BROKEN_RULE = 100.0  # a cue too fast, too short or too long
_CUE = 2.0  # every cue: fewer, fuller cues read better
_JOINED = 3.0  # a cue holding two whole sentences
_STRADDLED = 40.0  # a cue holding part of a sentence and part of another: only to keep a rule
_PART = 2.0  # a cue holding part of a sentence: a sentence that fits one cue is read whole
_SCRAP_CHARS = 16  # a cue shorter than this is a scrap unless it is a whole sentence
_SCRAP = 3.0
_SPEED = 0.05  # a second's worth of characters over the comfortable speed


@dataclass(frozen=True)
class Cue:
    """Text shown from ``start`` to ``end`` seconds into the video; lines split by newline."""

    start: float
    end: float
    text: str


@dataclass(frozen=True)
class _Word:
    text: str
    start: float
    end: float
    opens_sentence: bool
    closes_sentence: bool


def wrap_caption(text: str, width: int = MAX_LINE_CHARS) -> list[str]:
    """Greedy word wrap; a single word longer than ``width`` keeps a line to itself."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        if current and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    if current:
        lines.append(current)
    return lines


def timed_words(text: str, start: float, end: float) -> list[_Word]:
    """A sentence's words, each taking a share of its time in proportion to its characters and
    the space after it."""
    words = text.split()
    weights = [len(word) + 1 for word in words]
    total = sum(weights)
    timed: list[_Word] = []
    used = 0
    for n, (word, weight) in enumerate(zip(words, weights, strict=True)):
        word_start = start + (end - start) * used / total
        used += weight
        # The last word ends exactly at the sentence end, whatever the float arithmetic says.
        word_end = end if n == len(words) - 1 else start + (end - start) * used / total
        timed.append(_Word(word, word_start, word_end, n == 0, n == len(words) - 1))
    return timed


def _cue_cost(words: Sequence[_Word], next_start: float, scene_end: float) -> tuple[Cue, float]:
    """The cue these words make, followed by a cue starting at ``next_start``, and its cost."""
    ends = [n + 1 for n, word in enumerate(words[:-1]) if word.closes_sentence]
    whole = words[0].opens_sentence and words[-1].closes_sentence
    if not whole and len(ends) > 1:
        return Cue(0.0, 0.0, ""), math.inf
    # Parts of two sentences share a cue only one to a line, so each line reads as a phrase.
    shown = layout([w.text for w in words], cut=ends[0] if ends and not whole else None)
    if shown is None:
        return Cue(0.0, 0.0, ""), math.inf
    text, line_cost = shown
    start, spoken_end = words[0].start, words[-1].end
    linger = min(next_start, scene_end, spoken_end + MAX_LINGER_SECONDS, start + MAX_SECONDS)
    end = max(spoken_end, linger)
    seconds = end - start
    chars = len(text.replace("\n", " "))
    cps = chars / seconds if seconds > 0 else math.inf
    broken = (cps > MAX_CPS) + (seconds < MIN_SECONDS) + (seconds > MAX_SECONDS)
    cost = (
        _BROKEN_RULE * broken
        + _CUE
        + line_cost
        + (_JOINED if whole else _STRADDLED) * len(ends)
        + (0.0 if whole else _PART + (_SCRAP if chars < _SCRAP_CHARS else 0.0))
        + _SPEED * max(0.0, cps - COMFORTABLE_CPS) * min(seconds, MAX_SECONDS)
    )
    return Cue(start, end, text), cost


def _segment(words: Sequence[_Word], scene_end: float) -> list[Cue]:
    """The cheapest cutting of ``words`` (in spoken order) into cues."""
    count = len(words)
    unreached: tuple[float, int, Cue | None] = (math.inf, 0, None)
    best = [(0.0, 0, None), *[unreached] * count]
    for first in range(count):
        if best[first][0] == math.inf:
            continue
        chars = -1
        for stop in range(first + 1, count + 1):
            chars += len(words[stop - 1].text) + 1
            if chars > MAX_LINES * (MAX_LINE_CHARS + 1) and stop - first > 1:
                break
            next_start = words[stop].start if stop < count else scene_end
            cue, cost = _cue_cost(words[first:stop], next_start, scene_end)
            if stop < count:
                cost += break_cost(words[stop - 1].text, words[stop].text)
            total = best[first][0] + cost
            if total < best[stop][0]:
                best[stop] = (total, first, cue)
    cues: list[Cue] = []
    stop = count
    while stop > 0:
        _, first, found = best[stop]
        assert found is not None  # a single word always makes a cue, so every stop is reached
        cues.append(found)
        stop = first
    return cues[::-1]


def split_sentence(text: str, start: float, end: float) -> list[Cue]:
    """One sentence spoken alone from ``start`` to ``end`` as cues of at most two lines."""
    return _segment(timed_words(" ".join(text.split()), start, end), end)


def _scenes(
    timed_audio: Sequence[tuple[float, SceneAudio]],
) -> list[list[tuple[float, SceneAudio]]]:
    """The audio pieces grouped by scene: a scene narrated in parts arrives as consecutive
    pieces of the same scene index, and its cues may run across the joins."""
    scenes: list[list[tuple[float, SceneAudio]]] = []
    for placed in timed_audio:
        if scenes and scenes[-1][-1][1].scene_index == placed[1].scene_index:
            scenes[-1].append(placed)
        else:
            scenes.append([placed])
    return scenes


def build_cues(timed_scenes: Sequence[tuple[float, SceneAudio]]) -> list[Cue]:
    """Cues for every sentence of every scene; each float is the offset in the video of the
    scene's audio (or of one part of it)."""
    cues: list[Cue] = []
    for pieces in _scenes(timed_scenes):
        words: list[_Word] = []
        for offset, audio in pieces:
            for sentence in sorted(audio.sentences, key=lambda s: s.start):
                text = " ".join(sentence.text.split())
                if not text or sentence.end <= sentence.start:
                    continue  # nothing to read, or no time to read it in
                words += timed_words(text, offset + sentence.start, offset + sentence.end)
        if words:
            offset, audio = pieces[-1]
            cues += _segment(words, max(offset + audio.duration, words[-1].end))
    return sorted(cues, key=lambda cue: cue.start)


def _timestamp(seconds: float, separator: str) -> str:
    millis = max(0, round(seconds * 1000))
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def vtt_timestamp(seconds: float) -> str:
    return _timestamp(seconds, ".")


def srt_timestamp(seconds: float) -> str:
    return _timestamp(seconds, ",")


def _vtt_escape(text: str) -> str:
    # "&" and "<" start entities and tags in WebVTT cue text; "-->" would end the timing line.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_webvtt(cues: Sequence[Cue]) -> str:
    blocks = ["WEBVTT"]
    for cue in cues:
        timing = f"{vtt_timestamp(cue.start)} --> {vtt_timestamp(cue.end)}"
        blocks.append(f"{timing}\n{_vtt_escape(cue.text)}")
    return "\n\n".join(blocks) + "\n"


def to_srt(cues: Sequence[Cue]) -> str:
    blocks = [
        f"{number}\n{srt_timestamp(cue.start)} --> {srt_timestamp(cue.end)}\n{cue.text}"
        for number, cue in enumerate(cues, start=1)
    ]
    return "\n\n".join(blocks) + "\n" if blocks else ""
