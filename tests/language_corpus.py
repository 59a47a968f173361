"""Real-shaped customer mail bodies (what a customer types above the quote), each with the language
an office clerk would answer in. Shared by tests/test_language.py and tools/language_trial.py."""
from __future__ import annotations

CORPUS: tuple[tuple[str, str], ...] = (
    # --- English: foreign researchers, students abroad, consultancies
    ("en", "Hello, I need the Sumsel in Figures 2024 PDF"),
    ("en", "Dear BPS,\n\nI would like to buy the publication Provinsi Sumatera Selatan Dalam Angka 2025 "
           "in PDF.\n\nBest regards,\nJohn Smith\nUniversity of Melbourne"),
    ("en", "Hi, could you send me the price for Statistik Daerah Provinsi Sumatera Selatan 2025? Thanks"),
    ("en", "I agree"),
    ("en", "Yes, I agree to the terms."),
    ("en", "Please find my passport attached.\n\nKind regards,\nMaria Gonzalez"),
    ("en", "I have paid the invoice, the transfer receipt is attached."),
    ("en", "The file cannot be opened, it seems corrupted."),
    ("en", "Page 12 of the PDF is blank."),
    ("en", "Please cancel my order, I no longer need it."),
    ("en", "Very satisfied, thank you!"),
    ("en", "Good afternoon,\nI'm a PhD student working on regional poverty in South Sumatra. Could I order "
           "the Indikator Kesejahteraan Rakyat 2024 as a softcopy?\nSent from my iPhone"),
    ("en", "I want to file a complaint: nobody has answered my request for two weeks."),
    ("en", "Hi team, is the Palembang in Figures 2025 available? Cheers, Tom"),
    ("en", "Thanks for the quick reply. Also, could you add the PDRB by expenditure 2020-2024?"),
    ("en", "ok I agree, my ID is attached"),
    ("en", "Dear Sir or Madam, we are a consultancy in Singapore and need the latest labour force "
           "publication (Keadaan Angkatan Kerja Agustus 2024). What is the cost?"),
    ("en", "Got it, will pay tomorrow."),
    # --- Indonesian: formal, chat style, slang, typos
    ("id", "Selamat siang, saya ingin membeli softcopy Provinsi Sumatera Selatan Dalam Angka 2025."),
    ("id", "sy setuju"),
    ("id", "ya, setuju"),
    ("id", "Baik, saya setuju."),
    ("id", "OK setuju pak"),
    ("id", "udh transfer ya kak, buktinya terlampir"),
    ("id", "filenya ga bisa dibuka"),
    ("id", "Halaman 12 kosong, mohon diperbaiki."),
    ("id", "Mohon maaf, permintaan saya dibatalkan saja."),
    ("id", "sangat puas, terima kasih"),
    ("id", "Saya kecewa, sudah dua minggu tidak ada balasan."),
    ("id", "Pak, mau tanya harga publikasi Statistik Daerah Sumsel 2025 berapa ya?"),
    ("id", "Berikut KTP saya.\n\nSalam,\nRina Marlina\nUniversitas Sriwijaya\n0812-7788-9900"),
    ("id", "Assalamualaikum, sy mhs unsri butuh data IPM sumsel 2024 pdf nya, bisa?"),
    ("id", "Terlampir bukti transfer pembayaran invoice tsb."),
    ("id", "Selamat pagi Bapak/Ibu, mohon dikirimkan invoice untuk pembelian publikasi tersebut."),
    ("id", "Dikirim dari iPhone saya\nSudah saya transfer tadi pagi"),
    ("id", "Tolong tambahkan juga Kota Palembang Dalam Angka 2025 ya."),
    ("id", "Data ini untuk skripsi saya, please dibantu ya pak."),
    ("id", "iya benar, batalkan saja"),
    ("id", "Apakah bisa dalam format excel?"),
    ("id", "Terima kasih banyak, file sudah saya terima dengan baik."),
    # --- too little to tell: the office's language
    ("id", "OK"),
    ("id", "4"),
    ("id", "Provinsi Sumatera Selatan Dalam Angka 2025"),
    ("id", "KTP"),
)
