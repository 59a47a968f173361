"""The customer's language, from their own lines (issue 17): English only when they clearly wrote it."""
from __future__ import annotations

import pytest

from language_corpus import CORPUS
from mailbot.inbound.language import detect, language, own_lines


@pytest.mark.parametrize("want,text", CORPUS, ids=[t[:40] for _, t in CORPUS])
def test_real_shaped_mail_is_answered_in_the_language_it_was_written_in(want, text):
    assert language(text) == want


def test_the_signature_and_the_contact_lines_do_not_count():
    """An Indonesian line signed by an English-named institution, and an English line signed from
    Universitas Sriwijaya, are read by their words, not by the signature below the sign-off."""
    id_text = ("Mohon dikirim invoicenya pak.\n\nSalam,\nDr. Andi\nDepartment of Economics, The University of "
               "Melbourne\nPhone: +61 3 9035 5511\nwww.unimelb.edu.au")
    en_text = ("Could you please send the invoice?\n\nBest regards,\nSiti Rahma\nFakultas Ekonomi dan Bisnis, "
               "Universitas Sriwijaya, Indralaya\nHP 0812 7788 9900")
    assert language(id_text) == "id" and language(en_text) == "en"
    assert "Melbourne" not in own_lines(id_text) and "Universitas" not in own_lines(en_text)


def test_publication_titles_do_not_make_english_mail_indonesian():
    text = "Hi, could you send me Provinsi Sumatera Selatan Dalam Angka 2025 and Statistik Daerah 2024?"
    assert detect(text).lang == "en" and detect(text).sure


def test_too_little_to_tell_is_indonesian_and_unsure():
    for text in ("OK", "KTP", "4", "Provinsi Sumatera Selatan Dalam Angka 2025", ""):
        guess = detect(text)
        assert guess.lang == "id" and not guess.sure, text
