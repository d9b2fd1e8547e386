"""The one table of allowed status changes, and which role action each change needs."""

from appointments.models import AppointmentStatus as S

ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    S.SCHEDULED: frozenset({S.CONFIRMED, S.CHECKED_IN, S.COMPLETED, S.CANCELLED, S.NO_SHOW}),
    S.CONFIRMED: frozenset({S.SCHEDULED, S.CHECKED_IN, S.COMPLETED, S.CANCELLED, S.NO_SHOW}),
    S.CHECKED_IN: frozenset({S.COMPLETED, S.NO_SHOW}),
    # Final states: a finished, cancelled or missed visit is history; book a new appointment.
    S.COMPLETED: frozenset(),
    S.CANCELLED: frozenset(),
    S.NO_SHOW: frozenset(),
}

# The roles-table action (keneyapp.accounts.roles) needed to move an appointment INTO a status.
ACTION_FOR_STATUS: dict[str, str] = {
    S.COMPLETED: "appointments.complete",
    S.CANCELLED: "appointments.cancel",
}
DEFAULT_STATUS_ACTION = "appointments.change"


def can_transition(current: str, target: str) -> bool:
    return target in ALLOWED_TRANSITIONS[current]


def action_for_status(target: str) -> str:
    return ACTION_FOR_STATUS.get(target, DEFAULT_STATUS_ACTION)
