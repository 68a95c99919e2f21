"""Documents a user added, kept as one JSON Lines file, and the index that combines them.

``root/documents.jsonl`` holds one record per document (the OER record format plus subject, grade
band, topic and keywords). Writes go to a temporary file that then replaces the old one, so a crash
never leaves a half-written library.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from vividly_ray.library.documents import load_documents, parse_jsonl
from vividly_ray.library.index import LibraryIndex
from vividly_ray.library.records import LibraryDocument, document_to_record
from vividly_ray.library.starter import starter_documents

DOCUMENTS_FILE = "documents.jsonl"


class LocalLibrary:
    """The user's own documents under ``root``; adding a document with a known id replaces it."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    @property
    def path(self) -> Path:
        return self.root / DOCUMENTS_FILE

    def documents(self) -> tuple[LibraryDocument, ...]:
        if not self.path.exists():
            return ()
        text = self.path.read_text(encoding="utf-8")
        return parse_jsonl(text, str(self.path)) if text.strip() else ()

    def add(self, documents: Iterable[LibraryDocument]) -> tuple[LibraryDocument, ...]:
        """Store documents (replacing same ids, keeping the first position) and return them."""
        added = tuple(documents)
        merged = {document.source_id: document for document in self.documents()}
        for document in added:
            merged[document.source_id] = document
        self._write(merged.values())
        return added

    def add_file(self, path: Path) -> tuple[LibraryDocument, ...]:
        """Read a Markdown, text, HTML or JSON Lines file and store its documents."""
        return self.add(load_documents(Path(path)))

    def remove(self, source_id: str) -> bool:
        """Forget one document; False when there was none with that id."""
        kept = [d for d in self.documents() if d.source_id != source_id]
        if len(kept) == len(self.documents()):
            return False
        self._write(kept)
        return True

    def _write(self, documents: Iterable[LibraryDocument]) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        lines = [json.dumps(document_to_record(d), ensure_ascii=False) for d in documents]
        fd, name = tempfile.mkstemp(prefix=".documents-", suffix=".jsonl", dir=self.root)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write("".join(f"{line}\n" for line in lines))
            os.replace(name, self.path)
        finally:
            Path(name).unlink(missing_ok=True)


def load_index(root: Path | None, include_starter: bool = True) -> LibraryIndex:
    """The packaged starter articles plus the documents stored under ``root``.

    A stored document with a starter article's id replaces that article.
    """
    documents: list[LibraryDocument] = list(starter_documents()) if include_starter else []
    if root is not None:
        documents.extend(LocalLibrary(root).documents())
    return LibraryIndex(documents)
