"""Case states (a contract, DESIGN §2) and the groups of them the rules need."""
from __future__ import annotations

from enum import StrEnum


class State(StrEnum):
    NEW = "new"
    PREPARING = "preparing"
    INVOICED = "invoiced"
    PAYMENT_REVIEW = "payment_review"
    DELIVERED = "delivered"
    CORRECTION = "correction"
    CLOSED = "closed"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


FINAL = frozenset({State.CLOSED, State.CANCELLED})
# Office-side states in which the 10-working-day service clock runs (DESIGN §7, README "Deadlines").
SERVICE_CLOCK_RUNS = frozenset({State.PREPARING, State.PAYMENT_REVIEW})
# States with a running deadline: the service clock's, or the correction clock's.
CLOCKED_STATES = SERVICE_CLOCK_RUNS | {State.CORRECTION}
