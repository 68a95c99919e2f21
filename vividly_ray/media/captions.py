"""Caption cues from the narration's sentence timings, written as WebVTT and SRT.

A cue holds at most two lines of about 42 characters (the common broadcast and streaming
guideline). A longer sentence is split at word boundaries into several cues that share the
sentence's time in proportion to their length, which tracks speech closely enough for
narration spoken at an even pace.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from vividly_ray.domain.models import SceneAudio

MAX_LINE_CHARS = 42
MAX_LINES = 2


@dataclass(frozen=True)
class Cue:
    """Text shown from ``start`` to ``end`` seconds into the video; lines split by newline."""

    start: float
    end: float
    text: str


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


def _balanced_pair(lines: Sequence[str]) -> str:
    """Re-wrap a cue's words into lines of similar length, which read more easily."""
    words = " ".join(lines).split()
    if len(lines) < 2:
        return " ".join(words)
    best: tuple[int, int] | None = None
    for cut in range(1, len(words)):
        top, bottom = " ".join(words[:cut]), " ".join(words[cut:])
        if max(len(top), len(bottom)) <= MAX_LINE_CHARS:
            score = abs(len(top) - len(bottom))
            if best is None or score < best[0]:
                best = (score, cut)
    if best is None:
        return "\n".join(lines)
    return " ".join(words[: best[1]]) + "\n" + " ".join(words[best[1] :])


def _even_chunks(words: Sequence[str], count: int) -> list[str]:
    """Words cut into ``count`` runs of similar length (so no cue is a two-word leftover)."""
    total = len(" ".join(words))
    ends = [len(" ".join(words[: i + 1])) for i in range(len(words))]
    cuts: list[int] = []
    for k in range(1, count):
        target = total * k / count
        first = cuts[-1] + 1 if cuts else 1
        candidates = range(first, len(words) - (count - k) + 1)
        cuts.append(min(candidates, key=lambda i: abs(ends[i - 1] - target)))
    bounds = [0, *cuts, len(words)]
    return [" ".join(words[a:b]) for a, b in zip(bounds, bounds[1:], strict=False)]


def _chunk_sentence(text: str) -> list[str]:
    """A sentence as cue texts of at most two lines each, lines joined by newlines."""
    lines = wrap_caption(text)
    count = -(-len(lines) // MAX_LINES)
    even = _even_chunks(text.split(), count)
    if all(len(wrap_caption(chunk)) <= MAX_LINES for chunk in even):
        return [_balanced_pair(wrap_caption(chunk)) for chunk in even]
    # Evening out can push a run past two lines when words are long; greedy pairs always fit.
    return [_balanced_pair(lines[i : i + MAX_LINES]) for i in range(0, len(lines), MAX_LINES)]


def split_sentence(text: str, start: float, end: float) -> list[Cue]:
    """One sentence as cues of at most two lines, time split in proportion to characters."""
    chunks = _chunk_sentence(text)
    weights = [len(chunk.replace("\n", " ")) for chunk in chunks]
    total = sum(weights)
    cues: list[Cue] = []
    used = 0
    for chunk, weight in zip(chunks, weights, strict=True):
        cue_start = start + (end - start) * used / total
        used += weight
        # The last cue ends exactly at the sentence end, whatever the float arithmetic says.
        cue_end = end if used == total else start + (end - start) * used / total
        cues.append(Cue(cue_start, cue_end, chunk))
    return cues


def build_cues(timed_scenes: Sequence[tuple[float, SceneAudio]]) -> list[Cue]:
    """Cues for every sentence of every scene; each float is the scene's offset in the video."""
    cues: list[Cue] = []
    for offset, audio in timed_scenes:
        for sentence in audio.sentences:
            text = " ".join(sentence.text.split())
            if not text or sentence.end <= sentence.start:
                continue  # nothing to read, or no time to read it in
            cues += split_sentence(text, offset + sentence.start, offset + sentence.end)
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
