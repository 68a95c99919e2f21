"""The starter library shipped inside the package: original CC0 articles in Markdown.

Read through ``importlib.resources`` so it works the same from a source checkout, an installed
wheel or a zipped package, with no path to the repository.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from vividly_ray.library.markdown_document import parse_markdown
from vividly_ray.library.records import LibraryDocument

STARTER_PACKAGE = "vividly_ray.library"
STARTER_FOLDER = "starter"


@cache
def starter_documents() -> tuple[LibraryDocument, ...]:
    """Every packaged starter article, in file-name order (the same order on every machine)."""
    folder = resources.files(STARTER_PACKAGE).joinpath(STARTER_FOLDER)
    if not folder.is_dir():
        return ()
    entries = sorted(
        (entry for entry in folder.iterdir() if entry.is_file() and entry.name.endswith(".md")),
        key=lambda entry: entry.name,
    )
    return tuple(
        parse_markdown(entry.read_text(encoding="utf-8"), f"starter/{entry.name}")
        for entry in entries
    )
