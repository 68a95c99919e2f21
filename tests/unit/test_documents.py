"""Reading library files: Markdown, plain text, HTML and JSON Lines, and refusing bad ones."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vividly_ray.domain.errors import LibraryError
from vividly_ray.library.documents import load_documents
from vividly_ray.library.records import document_from_record, document_to_record

ARTICLE = """---
id: science-rainbows
title: Rainbows
subject: science
topic: light
grade_band: 3-5
keywords: rainbow, refraction, "light, color"
license: CC0-1.0
attribution: "Rainbows, test library, CC0 1.0 Universal"
---
# Rainbows

A **rainbow** appears when sunlight shines through
drops of rain.

- Red is on the outside of the bow.
- Violet is on the inside.

![a rainbow](rainbow.png)

## Why it happens

Light bends when it enters a [raindrop](https://example.org/drop), and each color bends by a
different amount.

```
code blocks are not prose
```
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_markdown_front_matter_fills_every_field(tmp_path: Path) -> None:
    (document,) = load_documents(write(tmp_path, "rainbows.md", ARTICLE))
    source = document.source
    assert source.source_id == "science-rainbows"
    assert source.title == "Rainbows"
    assert (source.subject, source.grade_band, document.topic) == ("science", "3-5", "light")
    assert source.license == "CC0-1.0"
    assert source.attribution == "Rainbows, test library, CC0 1.0 Universal"
    assert document.keywords == ("rainbow", "refraction", "light, color")
    assert document.paragraphs == (
        "A rainbow appears when sunlight shines through drops of rain.",
        "Red is on the outside of the bow.",
        "Violet is on the inside.",
        "Light bends when it enters a raindrop, and each color bends by a different amount.",
    )


def test_markdown_without_front_matter_uses_heading_and_file_name(tmp_path: Path) -> None:
    path = write(tmp_path, "My Notes On Tides.md", "# Ocean Tides\n\nThe moon pulls the sea.\n")
    (document,) = load_documents(path)
    assert document.source.title == "Ocean Tides"
    assert document.source.source_id == "my-notes-on-tides"
    assert document.source.subject == "general"
    assert document.source.license == "unknown"
    assert document.source.grade_band == "K-12"
    assert document.source.attribution == "Ocean Tides"
    assert document.paragraphs == ("The moon pulls the sea.",)


def test_front_matter_lists_may_be_yaml_items(tmp_path: Path) -> None:
    text = "---\ntitle: Bees\nkeywords:\n  - pollen\n  - hive\n---\nBees carry pollen.\n"
    (document,) = load_documents(write(tmp_path, "bees.md", text))
    assert document.keywords == ("pollen", "hive")


def test_plain_text_title_is_the_first_line(tmp_path: Path) -> None:
    text = (
        "\n  Volcanoes  \n\nA volcano is an opening in the crust.\n"
        "Magma rises through it.\n\n\nLava cools into rock.\n"
    )
    (document,) = load_documents(write(tmp_path, "volcanoes.txt", text))
    assert document.source.title == "Volcanoes"
    assert document.source.source_id == "volcanoes"
    assert document.paragraphs == (
        "A volcano is an opening in the crust. Magma rises through it.",
        "Lava cools into rock.",
    )


def test_html_keeps_prose_and_drops_page_chrome(tmp_path: Path) -> None:
    page = """<!doctype html><html><head><title>Clouds &amp; Weather</title>
    <meta name="keywords" content="clouds, weather">
    <meta name="license" content="CC BY 4.0">
    <meta name="grade_band" content="6-8">
    <style>p { color: red }</style><script>var p = "<p>not text</p>";</script></head>
    <body><nav><p>Home | About</p></nav>
    <h1>Clouds</h1>
    <p>Clouds are made of tiny <b>water</b> droplets.</p>
    <ul><li>Cumulus clouds are puffy.</li><li><p>Cirrus clouds are thin.</p></li></ul>
    <footer><p>Copyright notice</p></footer></body></html>"""
    (document,) = load_documents(write(tmp_path, "clouds.html", page))
    assert document.source.title == "Clouds & Weather"
    assert document.source.license == "CC BY 4.0"
    assert document.source.grade_band == "6-8"
    assert document.keywords == ("clouds", "weather")
    assert document.paragraphs == (
        "Clouds are made of tiny water droplets.",
        "Cumulus clouds are puffy.",
        "Cirrus clouds are thin.",
    )


def test_html_title_falls_back_to_first_h1(tmp_path: Path) -> None:
    page = "<html><body><h1>Soil</h1><p>Soil holds water.</p><h1>Other</h1></body></html>"
    (document,) = load_documents(write(tmp_path, "soil.htm", page))
    assert document.source.title == "Soil"


def test_jsonl_gives_one_document_per_record(tmp_path: Path) -> None:
    records = [
        {
            "id": "book-m1",
            "book": "Book",
            "chapter": "Motion",
            "title": "Speed",
            "license": "Creative Commons Attribution License",
            "license_url": "http://creativecommons.org/licenses/by/4.0/",
            "source_url": "https://example.org/book",
            "attribution": "Book, Example (Publisher), Creative Commons Attribution License",
            "paragraphs": ["Speed is distance over time.", "Velocity has a direction."],
        },
        {"id": "book-m2", "title": "Mass", "paragraphs": ["Mass measures matter."]},
    ]
    text = "\n".join(json.dumps(r) for r in records) + "\n\n"
    first, second = load_documents(write(tmp_path, "book.jsonl", text))
    assert first.source.source_id == "book-m1"
    assert first.topic == "Motion"
    assert first.source.license_url.endswith("/by/4.0/")
    assert first.source.source_url == "https://example.org/book"
    assert first.paragraphs == ("Speed is distance over time.", "Velocity has a direction.")
    assert second.source.license == "unknown"


def test_record_round_trip_keeps_everything(tmp_path: Path) -> None:
    (document,) = load_documents(write(tmp_path, "rainbows.md", ARTICLE))
    assert document_from_record(document_to_record(document), "memory") == document


@pytest.mark.parametrize(
    ("name", "text", "where"),
    [
        ("bad.jsonl", '{"id": "a", "title": "A", "paragraphs": ["x"]}\n{"id": \n', "bad.jsonl:2"),
        ("list.jsonl", "[1, 2]\n", "list.jsonl:1"),
        ("missing.jsonl", '{"id": "a", "paragraphs": ["x"]}\n', "missing.jsonl:1"),
        ("types.jsonl", '{"id": "a", "title": "A", "paragraphs": "x"}\n', "types.jsonl:1"),
        ("open.md", "---\ntitle: A\nsubject: science\n", "open.md:1"),
        ("line.md", "---\ntitle: A\nthis line has no colon\n---\nText.\n", "line.md:3"),
        ("band.md", "---\ntitle: A\n\ngrade_band: 13-14\n---\nText.\n", "band.md:4"),
        ("empty.md", "---\ntitle: A\n---\n# A\n", "empty.md"),
        ("notitle.md", "Just a paragraph.\n", "notitle.md"),
        ("blank.txt", "\n\n", "blank.txt:1"),
        ("page.html", "<html><body><p>No title here.</p></body></html>", "page.html"),
        ("bad-id.jsonl", '{"id": "a b#c", "title": "A", "paragraphs": ["x"]}\n', "bad-id.jsonl:1"),
        ("notes.pdf", "%PDF-1.7", "notes.pdf"),
    ],
)
def test_malformed_files_raise_library_error_naming_the_place(
    tmp_path: Path, name: str, text: str, where: str
) -> None:
    with pytest.raises(LibraryError) as raised:
        load_documents(write(tmp_path, name, text))
    assert where in str(raised.value)


def test_non_utf8_file_is_a_library_error(tmp_path: Path) -> None:
    path = tmp_path / "latin.txt"
    path.write_bytes("Caf\xe9\n\nText.".encode("latin-1"))
    with pytest.raises(LibraryError, match="latin.txt"):
        load_documents(path)


def test_missing_file_is_a_library_error(tmp_path: Path) -> None:
    with pytest.raises(LibraryError, match="cannot be read"):
        load_documents(tmp_path / "nowhere.md")
