"""The library document value and the checks every file format shares.

Each reader (Markdown, plain text, HTML, JSON Lines) collects fields its own way and hands them to
``make_document``, so ids, grade bands, licences and attributions are validated in one place.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from vividly_ray.domain.errors import LibraryError
from vividly_ray.domain.models import SourceDocument

GRADE_BANDS = ("K-2", "3-5", "6-8", "9-12")
ALL_GRADES = "K-12"  # a document not written for one band
SUBJECTS = ("science", "math", "social studies", "general")
UNKNOWN_LICENSE = "unknown"
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


@dataclass(frozen=True)
class LibraryDocument:
    """One document of the library: its source record, search keywords and body paragraphs."""

    source: SourceDocument
    keywords: tuple[str, ...]
    paragraphs: tuple[str, ...]
    topic: str = ""

    @property
    def source_id(self) -> str:
        return self.source.source_id


def slug(name: str) -> str:
    """A document id from a file name: lowercase words joined by dashes."""
    return "-".join(re.findall(r"[a-z0-9]+", name.lower())) or "document"


def normalize_grade_band(value: str) -> str | None:
    """``"3-5"``, ``"3–5"`` or ``"k-2"`` to a canonical band; None when it is not a band."""
    cleaned = value.strip().upper().replace("\u2013", "-").replace("\u2014", "-").replace(" ", "")
    if cleaned in GRADE_BANDS or cleaned == ALL_GRADES:
        return cleaned
    return None


def make_document(
    where: str,
    *,
    source_id: str,
    title: str,
    paragraphs: Sequence[str],
    subject: str = "general",
    grade_band: str = ALL_GRADES,
    license: str = UNKNOWN_LICENSE,
    attribution: str = "",
    license_url: str = "",
    source_url: str = "",
    keywords: Sequence[str] = (),
    topic: str = "",
) -> LibraryDocument:
    """Check the fields shared by every format and build the document; ``where`` names the place."""
    if not _ID.match(source_id):
        raise LibraryError(f"{where}: id {source_id!r} must be letters, digits, '.', '_' or '-'")
    if not title.strip():
        raise LibraryError(f"{where}: the document has no title")
    body = tuple(" ".join(p.split()) for p in paragraphs if p.strip())
    if not body:
        raise LibraryError(f"{where}: the document has no paragraphs")
    band = normalize_grade_band(grade_band)
    if band is None:
        raise LibraryError(f"{where}: grade_band {grade_band!r} is not one of {GRADE_BANDS}")
    title = " ".join(title.split())
    source = SourceDocument(
        source_id=source_id,
        title=title,
        subject=subject.strip().lower() or "general",
        grade_band=band,
        license=license.strip() or UNKNOWN_LICENSE,
        # Credits must always name something; the title is the honest minimum.
        attribution=attribution.strip() or title,
        license_url=license_url.strip(),
        source_url=source_url.strip(),
    )
    terms = tuple(dict.fromkeys(k.strip() for k in keywords if k.strip()))
    return LibraryDocument(source=source, keywords=terms, paragraphs=body, topic=topic.strip())


def document_to_record(document: LibraryDocument) -> dict[str, object]:
    """The JSON Lines record of a document (the OER record format plus our own fields)."""
    source = document.source
    return {
        "id": source.source_id,
        "title": source.title,
        "subject": source.subject,
        "grade_band": source.grade_band,
        "topic": document.topic,
        "keywords": list(document.keywords),
        "license": source.license,
        "license_url": source.license_url,
        "source_url": source.source_url,
        "attribution": source.attribution,
        "paragraphs": list(document.paragraphs),
    }


def document_from_record(record: Mapping[str, object], where: str) -> LibraryDocument:
    """A document from one JSON Lines record; OER records lack subject, band and keywords."""

    def text(key: str, default: str = "") -> str:
        value = record.get(key, default)
        if value is None:
            return default
        if not isinstance(value, str):
            raise LibraryError(f"{where}: field {key!r} must be a string")
        return value

    for required in ("id", "title", "paragraphs"):
        if required not in record:
            raise LibraryError(f"{where}: the record has no {required!r} field")
    paragraphs = record["paragraphs"]
    if not isinstance(paragraphs, list) or not all(isinstance(p, str) for p in paragraphs):
        raise LibraryError(f"{where}: 'paragraphs' must be a list of strings")
    keywords = record.get("keywords", [])
    if isinstance(keywords, str):
        keywords = keywords.split(",")
    if not isinstance(keywords, list) or not all(isinstance(k, str) for k in keywords):
        raise LibraryError(f"{where}: 'keywords' must be a list of strings")
    return make_document(
        where,
        source_id=text("id"),
        title=text("title"),
        paragraphs=paragraphs,
        subject=text("subject", "general"),
        grade_band=text("grade_band", ALL_GRADES),
        license=text("license", UNKNOWN_LICENSE),
        attribution=text("attribution"),
        license_url=text("license_url"),
        source_url=text("source_url"),
        keywords=keywords,
        # An OER record's chapter says what the module is about, like a starter article's topic.
        topic=text("topic") or text("chapter"),
    )
