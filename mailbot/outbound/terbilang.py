"""Amounts of rupiah in Indonesian words (terbilang), e.g. 125500 → "seratus dua puluh lima ribu lima ratus rupiah"."""

from num2words import num2words

MAX_AMOUNT = 999_999_999_999
_SCALES = ("", "ribu", "juta", "miliar")


def _words(n: int) -> str:
    """Words for a non-negative integer below one trillion, without currency."""
    if n == 0:
        return "nol"
    parts = []
    for power in range(len(_SCALES) - 1, -1, -1):
        group, n = divmod(n, 1000**power)
        if not group:
            continue
        if power == 1 and group == 1:
            # num2words says "satu ribu" inside larger numbers (1.001.000); Indonesian says "seribu".
            parts.append("seribu")
        else:
            parts.append(num2words(group, lang="id"))
            if _SCALES[power]:
                parts.append(_SCALES[power])
    return " ".join(parts)


def terbilang(amount: int) -> str:
    """``amount`` rupiah in words, lower case, ending in " rupiah"; 0 … 999.999.999.999."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise TypeError(f"amount must be an int of rupiah, not {type(amount).__name__}")
    if not 0 <= amount <= MAX_AMOUNT:
        raise ValueError(f"amount {amount} outside 0 … {MAX_AMOUNT}")
    return f"{_words(amount)} rupiah"
