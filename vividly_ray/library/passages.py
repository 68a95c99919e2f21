"""Cutting documents into retrievable passages.

A passage is one paragraph, or two consecutive short ones: a two-sentence paragraph rarely says
enough on its own to be worth ranking. Passage ids carry the document id and the position of the
first paragraph, so a script writer can put passages back into the document's own order.
"""

from __future__ import annotations

from vividly_ray.domain.models import Passage
from vividly_ray.library.records import LibraryDocument

SHORT_PARAGRAPH_WORDS = 40  # a paragraph this short is joined with the next one
MAX_JOINED_WORDS = 100  # ... unless the pair would be longer than this
_SEPARATOR = "#p"


def passage_id(source_id: str, paragraph_index: int) -> str:
    return f"{source_id}{_SEPARATOR}{paragraph_index}"


def passage_position(passage_id: str) -> int | None:
    """The paragraph position encoded in a passage id from this module; None for other ids."""
    _, separator, position = passage_id.rpartition(_SEPARATOR)
    return int(position) if separator and position.isdigit() else None


def document_passages(document: LibraryDocument) -> list[Passage]:
    """The passages of one document, in document order."""
    paragraphs = document.paragraphs
    found: list[Passage] = []
    index = 0
    while index < len(paragraphs):
        text = paragraphs[index]
        count = len(text.split())
        following = paragraphs[index + 1] if index + 1 < len(paragraphs) else None
        joined = following is not None and (
            count < SHORT_PARAGRAPH_WORDS and count + len(following.split()) <= MAX_JOINED_WORDS
        )
        if following is not None and joined:
            text = f"{text}\n\n{following}"
        found.append(
            Passage(
                passage_id=passage_id(document.source_id, index),
                source_id=document.source_id,
                title=document.source.title,
                text=text,
            )
        )
        index += 2 if joined else 1
    return found
