"""FFMETADATA chapter files."""

from __future__ import annotations

from vividly_ray.media.chapters import escape_value, ffmetadata


def test_chapters_are_written_in_milliseconds_with_titles() -> None:
    text = ffmetadata([("Intro", 0.0, 4.2), ("Evaporation", 4.2, 10.0005)])
    assert text == (
        ";FFMETADATA1\n"
        "[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=4200\ntitle=Intro\n"
        "[CHAPTER]\nTIMEBASE=1/1000\nSTART=4200\nEND=10000\ntitle=Evaporation\n"
    )


def test_special_characters_in_titles_are_escaped() -> None:
    assert escape_value("a=b;c#d\\e\nf") == "a\\=b\\;c\\#d\\\\e\\\nf"


def test_backslash_is_escaped_before_the_others_so_nothing_is_escaped_twice() -> None:
    assert escape_value("=") == "\\="
    assert escape_value("\\=") == "\\\\\\="


def test_escaped_title_stays_on_its_line() -> None:
    text = ffmetadata([("Why? #1; x=y", 0.0, 1.0)])
    assert "title=Why? \\#1\\; x\\=y\n" in text


def test_no_chapters_is_just_the_header() -> None:
    assert ffmetadata([]) == ";FFMETADATA1\n"
