"""Markdown articles with optional front matter.

The front matter is a small ``key: value`` block between two ``---`` lines (a subset of YAML:
quoted or bare strings, comma-separated or ``[a, b]`` or ``- item`` lists). Without it the title
comes from the first ``#`` heading and the id from the file name. The body keeps prose only:
paragraphs and list items become paragraphs; headings, code, tables and images are left out.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

from vividly_ray.domain.errors import LibraryError
from vividly_ray.library.records import (
    ALL_GRADES,
    GRADE_BANDS,
    LibraryDocument,
    make_document,
    normalize_grade_band,
    slug,
)
from vividly_ray.library.text import word_set

_KEY_VALUE = re.compile(r"^([A-Za-z_][\w-]*)\s*:\s*(.*)$")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+(.*)$")
_YAML_ITEM = re.compile(r"^\s*-\s+(.*)$")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_RULE = re.compile(r"^\s*([-*_])(\s*\1){2,}\s*$")
_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_EMPHASIS = re.compile(r"(\*\*|__|\*|_|`)(?=\S)(.+?)(?<=\S)\1")
_TAG = re.compile(r"<[^>]+>")
_KNOWN_KEYS = word_set(
    """
    id title subject topic grade_band keywords license license_url source_url attribution
    """
)


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def _split_list(value: str) -> list[str]:
    """``a, "b, c"`` or ``[a, 'b']`` to items; quotes keep a comma inside one item."""
    value = value.strip()
    if value.startswith("[") and value.endswith("]"):
        value = value[1:-1]
    if not value:
        return []
    quote = "'" if value.lstrip().startswith("'") else '"'
    (items,) = csv.reader([value], skipinitialspace=True, quotechar=quote)
    return [item.strip() for item in items if item.strip()]


FrontMatter = dict[str, str | list[str]]


def _front_matter(lines: list[str], name: str) -> tuple[FrontMatter, dict[str, int], int]:
    """The fields, the line number of each field, and the index of the first body line."""
    if not lines or lines[0].strip() != "---":
        return {}, {}, 0
    fields: FrontMatter = {}
    numbers: dict[str, int] = {}
    last_key = ""
    for index in range(1, len(lines)):
        line = lines[index]
        number = index + 1
        if line.strip() == "---":
            return fields, numbers, index + 1
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        item = _YAML_ITEM.match(line)
        if item and last_key:
            previous = fields.get(last_key, [])
            items = previous if isinstance(previous, list) else _split_list(previous)
            fields[last_key] = [*items, _unquote(item.group(1))]
            continue
        match = _KEY_VALUE.match(line)
        if match is None:
            raise LibraryError(f"{name}:{number}: front matter line is not 'key: value'")
        key, value = match.group(1).lower(), match.group(2)
        if key in _KNOWN_KEYS:
            fields[key] = _unquote(value)
            numbers[key] = number
        last_key = key
    raise LibraryError(f"{name}:1: the front matter opened here is never closed with '---'")


def _inline(text: str) -> str:
    """Markdown inline markup to plain words."""
    text = _IMAGE.sub("", text)
    text = _LINK.sub(r"\1", text)
    previous = None
    while previous != text:
        previous, text = text, _EMPHASIS.sub(r"\2", text)
    return " ".join(_TAG.sub("", text).split())


def _body(lines: list[str]) -> tuple[str, list[str]]:
    """The first level-one heading and the prose paragraphs of a Markdown body."""
    heading = ""
    paragraphs: list[str] = []
    current: list[str] = []
    in_code = False

    def flush() -> None:
        if current:
            paragraphs.append(_inline(" ".join(current)))
            current.clear()

    for line in lines:
        stripped = line.strip()
        if stripped.startswith(("```", "~~~")):
            flush()
            in_code = not in_code
            continue
        if in_code:
            continue
        found = _HEADING.match(stripped)
        if found:
            flush()
            if found.group(1) == "#" and not heading:
                heading = _inline(found.group(2))
            continue
        if not stripped or stripped.startswith("|") or _RULE.match(stripped):
            flush()
            continue
        item = _LIST_ITEM.match(stripped)
        if item:
            flush()
            current.append(item.group(1))
            continue
        current.append(stripped.lstrip("> ").strip())
    flush()
    return heading, [p for p in paragraphs if p]


def parse_markdown(text: str, name: str) -> LibraryDocument:
    """One Markdown article; ``name`` is the file name, used for errors and the default id."""
    lines = text.splitlines()
    fields, numbers, body_start = _front_matter(lines, name)
    heading, paragraphs = _body(lines[body_start:])

    def field(key: str, default: str = "") -> str:
        value = fields.get(key, default)
        return ", ".join(value) if isinstance(value, list) else value

    band = field("grade_band", ALL_GRADES)
    if normalize_grade_band(band) is None:
        raise LibraryError(
            f"{name}:{numbers.get('grade_band', 1)}: grade_band {band!r} is not one of "
            f"{GRADE_BANDS} (or {ALL_GRADES!r} for every grade)"
        )
    if not paragraphs:
        raise LibraryError(f"{name}:{body_start + 1}: the article has no paragraphs after here")

    keywords = fields.get("keywords", [])
    return make_document(
        f"{name}:1" if fields else name,
        source_id=field("id") or slug(Path(name).stem),
        title=field("title") or heading,
        paragraphs=paragraphs,
        subject=field("subject", "general"),
        grade_band=band,
        license=field("license"),
        attribution=field("attribution"),
        license_url=field("license_url"),
        source_url=field("source_url"),
        keywords=keywords if isinstance(keywords, list) else _split_list(keywords),
        topic=field("topic"),
    )
