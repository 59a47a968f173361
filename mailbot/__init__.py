"""mailbot: the mailbox-driven publication sale of BPS Provinsi Sumatera Selatan."""
