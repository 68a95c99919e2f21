"""The price table and the manifest's cost estimate."""

from __future__ import annotations

import pytest

from vividly_ray.domain.costs import PriceTable, estimate
from vividly_ray.domain.errors import ConfigurationError


def test_the_estimate_prices_each_part_from_the_table() -> None:
    table = PriceTable(
        llm_input_per_million_tokens=1.0,
        llm_output_per_million_tokens=4.0,
        cpu_per_hour=0.36,
        tts_per_million_characters={"chirp": 30.0, "piper": 0.0, "standard": 4.0},
    )
    cost = estimate(
        table,
        tokens_in=2_000_000,
        tokens_out=500_000,
        tts_characters={"google:en-US-Chirp3-HD-Charon": 100_000, "piper:en_US-joe-medium": 9},
        cpu_seconds=100.0,
    )
    usd = cost["estimated_usd"]
    assert usd["llm"] == pytest.approx(2.0 + 2.0)
    assert usd["speech"] == pytest.approx(3.0)
    assert usd["compute"] == pytest.approx(0.01)
    assert usd["total"] == pytest.approx(7.01)
    assert cost["tts_characters"] == 100_009


def test_prices_can_be_overridden_by_json_keeping_the_other_defaults() -> None:
    table = PriceTable.from_json(
        '{"cpu_per_hour": 0.1, "tts_per_million_characters": {"chirp": 1}}'
    )
    assert table.cpu_per_hour == 0.1
    assert table.tts_rate("google:en-US-Chirp3-HD-Kore") == 1
    assert table.tts_rate("google:en-US-Neural2-F") == PriceTable().tts_rate("neural2")
    assert PriceTable.from_json("") == PriceTable()


@pytest.mark.parametrize("text", ["{not json", '{"gpu_per_hour": 1}', "[1]"])
def test_a_bad_price_table_is_a_configuration_error(text: str) -> None:
    with pytest.raises(ConfigurationError, match="VIVIDLY_PRICES"):
        PriceTable.from_json(text)
