"""The per-model price table behind the running cost estimate."""

from __future__ import annotations

import pytest

from ccc.agents.pricing import MOST_EXPENSIVE, price_for
from ccc.agents.usage import TokenUsage


@pytest.mark.parametrize(
    ("model", "input_price", "output_price"),
    [
        ("claude-sonnet-4-5-20250929", 3.0, 15.0),
        ("sonnet", 3.0, 15.0),
        ("claude-opus-4-1-20250805", 15.0, 75.0),
        ("claude-opus-4-5", 5.0, 25.0),
        ("claude-haiku-4-5", 1.0, 5.0),
        ("claude-opus-4-20250514", 15.0, 75.0),
        ("claude-3-opus-20240229", 15.0, 75.0),
        ("claude-3-5-haiku-20241022", 0.8, 4.0),
        ("claude-3-haiku-20240307", 0.25, 1.25),
    ],
)
def test_known_models_have_their_prices(model: str, input_price: float, output_price: float) -> None:
    price = price_for(model)

    assert (price.input_per_mtok, price.output_per_mtok) == (input_price, output_price)


def test_unknown_model_is_priced_like_the_most_expensive_so_a_cap_stops_early() -> None:
    assert price_for("some-future-model") == MOST_EXPENSIVE


def test_cache_reads_cost_a_tenth_and_cache_writes_a_quarter_more() -> None:
    usage = TokenUsage(input=1_000_000, output=1_000_000, cache_read=1_000_000, cache_creation=1_000_000)

    assert price_for("sonnet").cost_usd(usage) == pytest.approx(3.0 + 15.0 + 0.3 + 3.75)
