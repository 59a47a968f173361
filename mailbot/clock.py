"""The one place the real clock is read; everything else takes the instant as an argument."""
from __future__ import annotations

from datetime import datetime, timezone

from .errors import UserError


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def parse_instant(text: str) -> datetime:
    """An ISO instant with its UTC offset (`--at`), as UTC."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise UserError(f"--at: expected an ISO instant such as 2027-01-05T08:00+07:00, got {text!r}") from None
    if value.tzinfo is None:
        raise UserError(f"--at: give a UTC offset, e.g. {text}+07:00")
    return value.astimezone(timezone.utc)
