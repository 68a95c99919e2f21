"""Reading library files: Markdown, plain text, HTML and JSON Lines.

Markdown (with optional front matter), plain text, HTML and JSON Lines (one record per line, the
OER record format) all become the same ``LibraryDocument``. A file that cannot be read raises
``LibraryError`` naming the file and, where it makes sense, the line.
"""

from __future__ import annotations

import json
from pathlib import Path

from vividly_ray.domain.errors import LibraryError
from vividly_ray.library.html_document import parse_html
from vividly_ray.library.markdown_document import parse_markdown
from vividly_ray.library.records import LibraryDocument, document_from_record, make_document, slug

__all__ = [
    "LibraryDocument",
    "load_documents",
    "parse_html",
    "parse_jsonl",
    "parse_markdown",
    "parse_plain_text",
]

SUFFIXES = (".md", ".markdown", ".txt", ".text", ".html", ".htm", ".jsonl")


def parse_jsonl(text: str, name: str) -> tuple[LibraryDocument, ...]:
    """One document per non-blank line of a JSON Lines file."""
    found: list[LibraryDocument] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{name}:{number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise LibraryError(f"{where}: not valid JSON ({error.msg})") from error
        if not isinstance(record, dict):
            raise LibraryError(f"{where}: each line must be a JSON object")
        found.append(document_from_record(record, where))
    if not found:
        raise LibraryError(f"{name}: the file holds no records")
    return tuple(found)


def parse_plain_text(text: str, name: str) -> LibraryDocument:
    """Plain text: the first non-blank line is the title, blank lines separate paragraphs."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.strip()), None)
    if start is None:
        raise LibraryError(f"{name}:1: the file is empty")
    blocks = "\n".join(lines[start + 1 :]).split("\n\n")
    return make_document(
        f"{name}:{start + 1}",
        source_id=slug(Path(name).stem),
        title=lines[start].strip(),
        paragraphs=[" ".join(block.split()) for block in blocks],
    )


def read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise LibraryError(f"{path}: not UTF-8 text (byte {error.start})") from error
    except OSError as error:
        raise LibraryError(f"{path}: cannot be read ({error.strerror})") from error


def load_documents(path: Path) -> tuple[LibraryDocument, ...]:
    """Read every document in one file; the format follows the file's extension."""
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise LibraryError(
            f"{path}: unsupported file type {suffix or '(none)'!r}; use .md, .txt, .html or .jsonl"
        )
    text = read_text(path)
    name = str(path)
    if suffix in (".md", ".markdown"):
        return (parse_markdown(text, name),)
    if suffix in (".txt", ".text"):
        return (parse_plain_text(text, name),)
    if suffix in (".html", ".htm"):
        return (parse_html(text, name),)
    return parse_jsonl(text, name)
