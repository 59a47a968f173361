"""The application layer: one mail or one tick in one transaction, wired by bootstrap."""
