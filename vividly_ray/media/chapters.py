"""Chapter markers as an FFMETADATA file, which ffmpeg muxes with ``-map_chapters``."""

from __future__ import annotations

from collections.abc import Sequence

from vividly_ray.domain.models import Chapter

__all__ = ["Chapter", "escape_value", "ffmetadata"]

_SPECIAL = ("\\", "=", ";", "#", "\n")


def escape_value(text: str) -> str:
    """Backslash-escape the characters FFMETADATA gives a meaning to (backslash first)."""
    for char in _SPECIAL:
        text = text.replace(char, "\\" + char)
    return text


def ffmetadata(chapters: Sequence[Chapter]) -> str:
    """An FFMETADATA1 document with one [CHAPTER] per entry, times in milliseconds."""
    lines = [";FFMETADATA1"]
    for title, start, end in chapters:
        lines += [
            "[CHAPTER]",
            "TIMEBASE=1/1000",
            f"START={round(start * 1000)}",
            f"END={round(end * 1000)}",
            f"title={escape_value(title)}",
        ]
    return "\n".join(lines) + "\n"
