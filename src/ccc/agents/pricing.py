"""Per-model token prices, for a running cost estimate while an agent works (the CLI reports the exact total)."""

from __future__ import annotations

from dataclasses import dataclass

from ccc.agents.usage import TokenUsage

# Prompt-cache writes cost 1.25 x the input price, cache reads 0.1 x (Anthropic's published multipliers).
CACHE_WRITE_FACTOR = 1.25
CACHE_READ_FACTOR = 0.1


@dataclass(frozen=True)
class Price:
    """US dollars per million tokens."""

    input_per_mtok: float
    output_per_mtok: float

    def cost_usd(self, usage: TokenUsage) -> float:
        input_cost = self.input_per_mtok * (
            usage.input + usage.cache_creation * CACHE_WRITE_FACTOR + usage.cache_read * CACHE_READ_FACTOR
        )
        return (input_cost + self.output_per_mtok * usage.output) / 1_000_000


# First match wins, so more specific model-name fragments come first. An unknown model is priced like
# the most expensive one: overestimating stops a run early, underestimating would overspend.
MOST_EXPENSIVE = Price(15.0, 75.0)
PRICES: tuple[tuple[str, Price], ...] = (
    ("opus-4-1", MOST_EXPENSIVE),
    ("opus-4-0", MOST_EXPENSIVE),
    ("opus-4-2025", MOST_EXPENSIVE),  # Opus 4, dated ids: claude-opus-4-20250514
    ("3-opus", MOST_EXPENSIVE),
    ("opus", Price(5.0, 25.0)),
    ("sonnet", Price(3.0, 15.0)),
    ("3-5-haiku", Price(0.8, 4.0)),
    ("3-haiku", Price(0.25, 1.25)),
    ("haiku", Price(1.0, 5.0)),
)


def price_for(model: str) -> Price:
    """The price of `model` (a full id like claude-sonnet-4-5-20250929 or an alias like sonnet)."""
    name = model.lower()
    return next((price for fragment, price in PRICES if fragment in name), MOST_EXPENSIVE)
