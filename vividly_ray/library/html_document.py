"""HTML pages, read with the standard library's ``html.parser``.

The title comes from ``<title>`` or the first ``<h1>``; paragraphs from ``<p>`` and ``<li>``.
Scripts, styles, navigation and page chrome are skipped. ``<meta name="keywords|license|
attribution|subject|grade_band">`` and ``<link rel="license">`` fill the matching fields.
"""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

from vividly_ray.domain.errors import LibraryError
from vividly_ray.library.records import ALL_GRADES, LibraryDocument, make_document, slug

_SKIPPED = frozenset(
    {"script", "style", "nav", "header", "footer", "aside", "noscript", "template"}
)
_BLOCKS = frozenset({"p", "li"})
_META = frozenset({"keywords", "license", "attribution", "subject", "grade_band", "topic", "id"})


class _PageReader(HTMLParser):
    """Collects the title, meta fields and prose blocks of one page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.title = ""
        self.heading = ""
        self.meta: dict[str, str] = {}
        self.paragraphs: list[str] = []
        self._skip_depth = 0
        self._capture: str | None = None  # "title", "h1" or a block tag
        self._buffer: list[str] = []

    def _flush(self) -> None:
        text = " ".join("".join(self._buffer).split())
        if self._capture == "title" and text and not self.title:
            self.title = text
        elif self._capture == "h1" and text and not self.heading:
            self.heading = text
        elif self._capture in _BLOCKS and text:
            self.paragraphs.append(text)
        self._capture = None
        self._buffer = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {key.lower(): value or "" for key, value in attrs}
        if tag == "meta" and values.get("name", "").lower() in _META:
            self.meta[values["name"].lower()] = values.get("content", "")
        elif tag == "link" and "license" in values.get("rel", "").lower().split():
            self.meta.setdefault("license_url", values.get("href", ""))
        if tag in _SKIPPED:
            self._skip_depth += 1
        elif self._skip_depth == 0 and tag in ("title", "h1", *_BLOCKS):
            # A block inside a block (a <p> in an <li>) ends the outer one: no text is kept twice.
            self._flush()
            self._capture = tag
        elif tag == "br" and self._capture:
            self._buffer.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED:
            self._skip_depth = max(0, self._skip_depth - 1)
        elif tag == self._capture:
            self._flush()

    def handle_data(self, data: str) -> None:
        if self._capture and self._skip_depth == 0:
            self._buffer.append(data)

    def close(self) -> None:
        super().close()
        self._flush()


def parse_html(text: str, name: str) -> LibraryDocument:
    """One HTML page as a document; ``name`` is the file name, used for errors and the id."""
    reader = _PageReader()
    try:
        reader.feed(text)
        reader.close()
    except (AssertionError, ValueError) as error:
        raise LibraryError(f"{name}: the HTML cannot be parsed ({error})") from error
    meta = reader.meta
    title = reader.title or reader.heading
    if not title:
        raise LibraryError(f"{name}: the page has neither a <title> nor an <h1>")
    if not reader.paragraphs:
        raise LibraryError(f"{name}: the page has no <p> or <li> text")
    return make_document(
        name,
        source_id=meta.get("id") or slug(Path(name).stem),
        title=title,
        paragraphs=reader.paragraphs,
        subject=meta.get("subject", "general"),
        grade_band=meta.get("grade_band", ALL_GRADES),
        license=meta.get("license", ""),
        attribution=meta.get("attribution", ""),
        license_url=meta.get("license_url", ""),
        keywords=meta.get("keywords", "").split(","),
        topic=meta.get("topic", ""),
    )
