"""Error types any layer may raise and the command line turns into one line for the user."""
from __future__ import annotations


class UserError(Exception):
    """A problem the user can fix; the command line prints it as one line and exits 1."""
