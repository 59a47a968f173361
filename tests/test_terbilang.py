"""terbilang: rupiah amounts in Indonesian words."""

import pytest

from mailbot.outbound.terbilang import terbilang

CASES = [
    (0, "nol rupiah"),
    (1, "satu rupiah"),
    (10, "sepuluh rupiah"),
    (11, "sebelas rupiah"),
    (15, "lima belas rupiah"),
    (20, "dua puluh rupiah"),
    (100, "seratus rupiah"),
    (101, "seratus satu rupiah"),
    (150, "seratus lima puluh rupiah"),
    (999, "sembilan ratus sembilan puluh sembilan rupiah"),
    (1000, "seribu rupiah"),
    (1001, "seribu satu rupiah"),
    (1500, "seribu lima ratus rupiah"),
    (2000, "dua ribu rupiah"),
    (11000, "sebelas ribu rupiah"),
    (101000, "seratus satu ribu rupiah"),
    (125500, "seratus dua puluh lima ribu lima ratus rupiah"),
    (128700, "seratus dua puluh delapan ribu tujuh ratus rupiah"),
    (1_000_000, "satu juta rupiah"),
    (1_001_000, "satu juta seribu rupiah"),  # num2words alone says "satu juta satu ribu"
    (1_101_000, "satu juta seratus satu ribu rupiah"),
    (2_500_000, "dua juta lima ratus ribu rupiah"),
    (11_000_000, "sebelas juta rupiah"),
    (1_000_000_000, "satu miliar rupiah"),
    (1_000_001_000, "satu miliar seribu rupiah"),
    (
        999_999_999_999,
        "sembilan ratus sembilan puluh sembilan miliar sembilan ratus sembilan puluh sembilan juta "
        "sembilan ratus sembilan puluh sembilan ribu sembilan ratus sembilan puluh sembilan rupiah",
    ),
]


@pytest.mark.parametrize("amount,words", CASES)
def test_terbilang(amount, words):
    assert terbilang(amount) == words


@pytest.mark.parametrize("amount", [-1, 1_000_000_000_000, 10**15])
def test_out_of_range(amount):
    with pytest.raises(ValueError):
        terbilang(amount)


@pytest.mark.parametrize("amount", [1.5, "1000", True])
def test_not_an_int(amount):
    with pytest.raises(TypeError):
        terbilang(amount)
