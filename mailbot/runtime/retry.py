"""The one retry rule of the loops: a delay doubling from `first` to `maximum`, times a jitter of 0.5-1.5."""
from __future__ import annotations

import random


def backoff_seconds(attempts: int, first: float, maximum: float, rng: random.Random) -> float:
    """Seconds before attempt `attempts + 1` (the first retry waits about `first`)."""
    return min(first * 2 ** max(attempts - 1, 0), maximum) * rng.uniform(0.5, 1.5)
