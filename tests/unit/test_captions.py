"""Caption cues: splitting long sentences, timing, and the WebVTT / SRT text formats."""

from __future__ import annotations

import pytest

from vividly_ray.domain.models import SceneAudio, SentenceTiming
from vividly_ray.media.captions import (
    MAX_LINE_CHARS,
    Cue,
    build_cues,
    split_sentence,
    srt_timestamp,
    to_srt,
    to_webvtt,
    vtt_timestamp,
)

LONG = (
    "Water evaporates from oceans and lakes, rises as vapour, cools high in the sky, "
    "condenses into clouds and finally falls back to the ground as rain or snow."
)


def audio(*sentences: tuple[str, float, float], duration: float = 10.0) -> SceneAudio:
    timings = tuple(SentenceTiming(text, start, end) for text, start, end in sentences)
    return SceneAudio(0, "unused.wav", duration, timings, "key")


def test_timestamps_use_each_format_separator() -> None:
    assert vtt_timestamp(1.5) == "00:00:01.500"
    assert srt_timestamp(1.5) == "00:00:01,500"
    assert vtt_timestamp(3723.004) == "01:02:03.004"
    assert srt_timestamp(0) == "00:00:00,000"


def test_timestamps_round_to_the_nearest_millisecond_across_units() -> None:
    assert vtt_timestamp(59.9996) == "00:01:00.000"
    assert srt_timestamp(3599.9999) == "01:00:00,000"


def test_short_sentence_is_one_single_line_cue_at_the_scene_offset() -> None:
    cues = build_cues([(12.0, audio(("Plants need light.", 0.4, 1.9)))])
    assert cues == [Cue(12.4, 13.9, "Plants need light.")]


def test_long_sentence_splits_into_cues_of_at_most_two_short_lines() -> None:
    cues = split_sentence(LONG, 2.0, 12.0)
    assert len(cues) == 2
    for cue in cues:
        lines = cue.text.split("\n")
        assert 1 <= len(lines) <= 2
        assert all(len(line) <= MAX_LINE_CHARS for line in lines)
    # Nothing lost or reordered, and words are never cut.
    assert " ".join(c.text.replace("\n", " ") for c in cues) == LONG


def test_split_cues_share_the_sentence_time_in_proportion_to_characters() -> None:
    cues = split_sentence(LONG, 2.0, 12.0)
    assert cues[0].start == 2.0
    assert cues[-1].end == 12.0
    assert all(a.end == pytest.approx(b.start) for a, b in zip(cues, cues[1:], strict=False))
    chars = [len(c.text.replace("\n", " ")) for c in cues]
    for cue, n in zip(cues, chars, strict=True):
        assert cue.end - cue.start == pytest.approx(10.0 * n / sum(chars))


def test_split_cues_are_evenly_filled_not_a_leftover_scrap() -> None:
    text = (
        "This is sentence number one of the scene, and it is long enough to need splitting in two."
    )
    cues = split_sentence(text, 0.0, 4.0)
    lengths = [len(c.text) for c in cues]
    assert len(cues) == 2
    assert min(lengths) > max(lengths) / 2


def test_an_overlong_word_keeps_a_line_to_itself() -> None:
    word = "pneumonoultramicroscopicsilicovolcanoconiosis-and-more"
    cues = split_sentence(f"The word {word} is long.", 0.0, 3.0)
    assert any(word in c.text.split("\n") for c in cues)


def test_empty_and_zero_length_sentences_make_no_cue() -> None:
    cues = build_cues(
        [(0.0, audio(("   ", 0.0, 1.0), ("Said in no time.", 2.0, 2.0), ("Kept.", 3.0, 4.0)))]
    )
    assert [c.text for c in cues] == ["Kept."]


def test_cues_from_several_scenes_come_out_in_time_order() -> None:
    first = audio(("One.", 0.4, 1.0), ("Two.", 1.2, 2.0), duration=2.5)
    second = audio(("Three.", 0.4, 1.0))
    cues = build_cues([(0.0, first), (2.5, second)])
    assert [(c.text, c.start) for c in cues] == [("One.", 0.4), ("Two.", 1.2), ("Three.", 2.9)]


def test_srt_numbers_cues_from_one_with_comma_timestamps() -> None:
    text = to_srt([Cue(0.4, 1.9, "First line\nsecond line"), Cue(2.0, 3.25, "Next")])
    assert text == (
        "1\n00:00:00,400 --> 00:00:01,900\nFirst line\nsecond line\n\n"
        "2\n00:00:02,000 --> 00:00:03,250\nNext\n"
    )


def test_webvtt_has_its_header_dot_timestamps_and_escapes_markup() -> None:
    text = to_webvtt([Cue(0.4, 1.9, "Heat < 100 & rising"), Cue(61.0, 62.5, "Next")])
    assert text == (
        "WEBVTT\n\n"
        "00:00:00.400 --> 00:00:01.900\nHeat &lt; 100 &amp; rising\n\n"
        "00:01:01.000 --> 00:01:02.500\nNext\n"
    )


def test_no_cues_still_make_valid_files() -> None:
    assert to_webvtt([]) == "WEBVTT\n"
    assert to_srt([]) == ""
