"""Caption cues: splitting long sentences, timing, and the WebVTT / SRT text formats."""

from __future__ import annotations

import pytest

from vividly_ray.domain.models import SceneAudio, SentenceTiming
from vividly_ray.media.captions import (
    MAX_CPS,
    MAX_LINE_CHARS,
    MAX_LINGER_SECONDS,
    MAX_SECONDS,
    MIN_SECONDS,
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


def audio(
    *sentences: tuple[str, float, float], duration: float = 10.0, scene: int = 0
) -> SceneAudio:
    timings = tuple(SentenceTiming(text, start, end) for text, start, end in sentences)
    return SceneAudio(scene, "unused.wav", duration, timings, "key")


def spoken(*texts: str, words_per_second: float = 3.3, gap: float = 0.3) -> SceneAudio:
    """A scene's audio with sentences spoken back to back at an even pace."""
    timed, cursor = [], 0.4
    for text in texts:
        end = cursor + len(text.split()) / words_per_second
        timed.append((text, cursor, end))
        cursor = end + gap
    return audio(*timed, duration=cursor - gap + 0.6)


def cps(cue: Cue) -> float:
    return len(cue.text.replace("\n", " ")) / (cue.end - cue.start)


def in_sync(cues: list[Cue], scene: SceneAudio, offset: float = 0.0) -> None:
    """Every sentence's words are on screen from the moment it starts until it ends, and no cue
    overlaps the next or outlives its scene."""
    shown = [(word, cue) for cue in cues for word in cue.text.split()]
    assert [word for word, _ in shown] == [w for s in scene.sentences for w in s.text.split()]
    at = 0
    for sentence in scene.sentences:
        count = len(sentence.text.split())
        first, last = shown[at][1], shown[at + count - 1][1]
        assert first.start <= offset + sentence.start + 1e-9
        assert last.end >= offset + sentence.end - 1e-9
        at += count
    for a, b in zip(cues, cues[1:], strict=False):
        assert a.end <= b.start + 1e-9 and a.start < a.end
    assert cues[-1].end <= offset + scene.duration + 1e-9
    # A cue appears when its first word is spoken, never before.
    starts = {round(offset + s.start, 6) for s in scene.sentences}
    assert round(cues[0].start, 6) in starts


def test_timestamps_use_each_format_separator() -> None:
    assert vtt_timestamp(1.5) == "00:00:01.500"
    assert srt_timestamp(1.5) == "00:00:01,500"
    assert vtt_timestamp(3723.004) == "01:02:03.004"
    assert srt_timestamp(0) == "00:00:00,000"


def test_timestamps_round_to_the_nearest_millisecond_across_units() -> None:
    assert vtt_timestamp(59.9996) == "00:01:00.000"
    assert srt_timestamp(3599.9999) == "01:00:00,000"


def test_short_sentence_is_one_cue_from_its_first_word_into_the_silence_after_it() -> None:
    cues = build_cues([(12.0, audio(("Plants need light.", 0.4, 1.9), duration=2.5))])
    assert cues == [Cue(12.4, 14.5, "Plants need light.")]


def test_a_cue_lingers_at_most_a_moment_in_a_long_silence() -> None:
    cues = build_cues([(0.0, audio(("Plants need light.", 0.4, 1.9), duration=10.0))])
    assert cues[0].start == 0.4
    assert cues[0].end == pytest.approx(1.9 + MAX_LINGER_SECONDS)


def test_long_sentence_splits_into_cues_of_at_most_two_short_lines() -> None:
    cues = split_sentence(LONG, 2.0, 12.0)
    assert len(cues) == 2
    for cue in cues:
        lines = cue.text.split("\n")
        assert 1 <= len(lines) <= 2
        assert all(len(line) <= MAX_LINE_CHARS for line in lines)
    # Nothing lost or reordered, and words are never cut.
    assert " ".join(c.text.replace("\n", " ") for c in cues) == LONG


def test_a_long_sentence_is_split_at_a_clause_boundary() -> None:
    cues = split_sentence(LONG, 2.0, 12.0)
    assert cues[0].text.replace("\n", " ").endswith(",")


def test_split_cues_are_chained_and_share_the_sentence_time_by_characters() -> None:
    cues = split_sentence(LONG, 2.0, 12.0)
    assert cues[0].start == 2.0
    assert cues[-1].end == 12.0
    assert all(a.end == pytest.approx(b.start) for a, b in zip(cues, cues[1:], strict=False))
    # Each cue's words and the space after them take their share of the sentence's time.
    first = len(cues[0].text) + 1
    assert cues[0].end - cues[0].start == pytest.approx(10.0 * first / (len(LONG) + 1))


def test_split_cues_are_evenly_filled_not_a_leftover_scrap() -> None:
    text = (
        "This is sentence number one of the scene, and it is long enough to need splitting in two."
    )
    cues = split_sentence(text, 0.0, 4.0)
    lengths = [len(c.text) for c in cues]
    assert len(cues) == 2
    assert min(lengths) > max(lengths) / 2


def test_a_line_never_ends_on_an_article_or_a_preposition() -> None:
    text = "The warm vapour rises high into the sky, where it cools and condenses into drops."
    for cue in split_sentence(text, 0.0, 6.0):
        for line in cue.text.split("\n"):
            assert line.split()[-1].lower() not in {"the", "a", "into", "of", "and", "where"}


def test_an_overlong_word_keeps_a_line_to_itself() -> None:
    word = "pneumonoultramicroscopicsilicovolcanoconiosis-and-more"
    cues = split_sentence(f"The word {word} is long.", 0.0, 3.0)
    assert any(word in c.text.split("\n") for c in cues)


def test_empty_and_zero_length_sentences_make_no_cue() -> None:
    cues = build_cues(
        [(0.0, audio(("   ", 0.0, 1.0), ("Said in no time.", 2.0, 2.0), ("Kept.", 3.0, 4.0)))]
    )
    assert [c.text for c in cues] == ["Kept."]


def test_a_too_short_cue_shares_the_screen_with_its_neighbour() -> None:
    scene = spoken("What is magnetism?", "It is a push or pull.", gap=0.05)
    cues = build_cues([(0.0, scene)])
    assert [c.text for c in cues] == ["What is magnetism? It is a push or pull."]
    in_sync(cues, scene)
    assert all(c.end - c.start >= MIN_SECONDS for c in cues)


def test_fast_speech_borrows_the_silence_after_it_to_read_at_a_fair_speed() -> None:
    text = "Green leaves capture sunlight."  # long words, said quickly
    scene = spoken(text, "Plants grow in sunlight and make food from it every day.")
    assert len(text) / (scene.sentences[0].end - scene.sentences[0].start) > MAX_CPS
    cues = build_cues([(0.0, scene)])
    assert all(cps(c) <= MAX_CPS for c in cues)
    in_sync(cues, scene)


def test_cues_of_a_realistic_scene_keep_the_line_rules_and_stay_in_sync() -> None:
    scene = spoken(
        "Let's explore photosynthesis.",
        "The process plants use to turn light energy into food is called photosynthesis.",
        "Each chloroplast contains a green pigment called chlorophyll.",
        LONG,
        "Glucose is the fuel.",
    )
    cues = build_cues([(5.0, scene)])
    in_sync(cues, scene, offset=5.0)
    for cue in cues:
        lines = cue.text.split("\n")
        assert len(lines) <= 2 and all(len(line) <= MAX_LINE_CHARS for line in lines)
        assert MIN_SECONDS <= cue.end - cue.start <= MAX_SECONDS
    assert sum(cps(c) > MAX_CPS for c in cues) <= 1


def test_cues_never_cross_into_the_next_scene() -> None:
    first = audio(("One.", 0.4, 1.0), ("Two.", 1.2, 2.0), duration=2.5, scene=0)
    second = audio(("Three.", 0.4, 1.0), scene=1)
    cues = build_cues([(0.0, first), (2.5, second)])
    assert [(c.text, c.start) for c in cues] == [("One. Two.", 0.4), ("Three.", 2.9)]
    assert cues[0].end == 2.5


def test_parts_of_one_scene_are_captioned_as_one_scene() -> None:
    first = audio(("Plants need light.", 0.4, 1.0), duration=1.0, scene=3)
    rest = audio(("And water.", 0.3, 0.9), duration=1.5, scene=3)
    cues = build_cues([(0.0, first), (1.0, rest)])
    assert [c.text for c in cues] == ["Plants need light. And water."]
    assert (cues[0].start, cues[0].end) == (0.4, 2.5)


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
