"""I/O adapters: database, IMAP, SMTP, file storage."""
