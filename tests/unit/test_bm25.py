"""The tokenizer, the stemmer and BM25 scoring."""

from __future__ import annotations

import math

import pytest

from vividly_ray.library.bm25 import Bm25Index, Field
from vividly_ray.library.text import stem, tokenize


def index_of(*texts: str) -> Bm25Index:
    return Bm25Index.build([(Field.of(tokenize(text)),) for text in texts])


def test_tokenize_lowercases_strips_punctuation_and_stopwords() -> None:
    assert tokenize("The Sun's heat -- and the OCEAN, too!") == ["sun", "heat", "ocean"]


def test_tokenize_treats_curly_apostrophes_like_straight_ones() -> None:
    assert tokenize("Earth\u2019s orbit") == tokenize("Earth's orbit") == ["earth", "orbit"]


@pytest.mark.parametrize(
    "family",
    [
        ("magnet", "magnets", "magnetic", "magnetism", "magnetize"),
        ("evaporate", "evaporates", "evaporated", "evaporating", "evaporation"),
        ("condense", "condenses", "condensed", "condensation"),
        ("star", "stars"),
        ("gas", "gases"),
        ("body", "bodies"),
        ("cycle", "cycles"),
    ],
)
def test_stemmer_joins_word_families(family: tuple[str, ...]) -> None:
    assert len({stem(word) for word in family}) == 1


def test_stemmer_keeps_unrelated_short_words_apart() -> None:
    assert len({stem(w) for w in ("heat", "he", "tree", "treat", "water", "was")}) == 6
    assert stem("photosynthesis") == "photosynthesis"


def test_more_matching_terms_rank_higher() -> None:
    index = index_of(
        "clouds form from water vapor",
        "water vapor condenses into clouds and rain falls from the clouds",
        "rocks erode slowly",
    )
    ranked = index.top(tokenize("rain clouds"), limit=3)
    assert [number for number, _ in ranked] == [1, 0]


def test_rare_terms_weigh_more_than_common_ones() -> None:
    index = index_of("water water", "water parallax", "water", "water")
    assert index.idf("parallax") > index.idf("water") > 0
    scores = index.scores(tokenize("water parallax"))
    assert max(scores, key=lambda n: scores[n]) == 1


def test_shorter_item_wins_for_the_same_term_count() -> None:
    index = index_of("glacier ice", "glacier ice rivers mountains snowpack valleys oceans lakes")
    scores = index.scores(["glacier"])
    assert scores[0] > scores[1]


def test_term_frequency_saturates() -> None:
    index = index_of("moon " * 20, "moon", "sun", "sun")
    scores = index.scores(["moon"])
    # Twenty mentions in a document twenty times longer is not worth twenty single mentions.
    assert scores[0] < 2 * scores[1]


def test_field_weight_boosts_a_title_match() -> None:
    body = Field.of(tokenize("plants need light and water"))
    plain = (body, Field.of(tokenize("Garden tips"), 2.0))
    titled = (body, Field.of(tokenize("Water for plants"), 2.0))
    index = Bm25Index.build([plain, titled])
    scores = index.scores(["water"])
    assert scores[1] > scores[0]


def test_query_weights_scale_single_terms() -> None:
    index = index_of("distance to stars", "stars", "planets")
    full = index.scores(["distanc"])
    half = index.scores(["distanc"], {"distanc": 0.5})
    assert half[0] == pytest.approx(full[0] / 2)


def test_okapi_formula_for_one_term() -> None:
    # N = 2 items, the term is in 1, twice, in an item of length 3; average length 2.
    index = index_of("bee bee ant", "cat")
    idf = math.log((2 - 1 + 0.5) / (1 + 0.5) + 1)
    norm = 1 - 0.75 + 0.75 * 3 / 2
    expected = idf * 2 * 2.2 / (2 + 1.2 * norm)
    assert index.scores(["bee"])[0] == pytest.approx(expected)


def test_empty_index_and_unknown_terms_score_nothing() -> None:
    assert Bm25Index.build([]).scores(["anything"]) == {}
    assert index_of("sun").scores(["moon"]) == {}


def test_ties_go_to_the_earlier_item_and_repeated_query_terms_count_once() -> None:
    index = index_of("moon", "moon")
    assert index.top(["moon", "moon"], limit=2)[0][0] == 0
    assert index.scores(["moon", "moon"]) == index.scores(["moon"])


def test_weathering_is_its_own_word_not_a_form_of_weather() -> None:
    from vividly_ray.library.text import stem

    assert stem("weathering") != stem("weather")
    assert stem("raining") == stem("rain")
