"""Reminder fixtures: a clinic whose patients have appointments coming up, and a fixed "now"."""

from datetime import UTC, datetime, timedelta

import pytest

from tests.factories import AppointmentFactory, PatientFactory

# A Monday in winter: Europe/Paris is UTC+1, Africa/Dakar UTC+0.
NOW = datetime(2030, 1, 14, 8, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _locmem_email(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.REMINDER_WINDOW_HOURS = 24


@pytest.fixture
def book():
    """book(tenant, starts_at, **fields) -> an appointment (its own patient, with an email)."""

    def make(tenant, starts_at, **fields):
        if "patient" not in fields:
            fields["patient"] = PatientFactory(tenant=tenant, **fields.pop("patient_fields", {}))
        return AppointmentFactory(tenant=tenant, appointment_date=starts_at, **fields)

    return make


@pytest.fixture
def book_due(book):
    """book_due(tenant, count, now=NOW) -> `count` unassigned appointments starting within the
    next few hours of `now`, one a minute, each with its own patient."""

    def make(tenant, count: int, *, now: datetime = NOW, first: timedelta = timedelta(minutes=5)):
        return [book(tenant, now + first + timedelta(minutes=n)) for n in range(count)]

    return make


def recipients(outbox) -> list[str]:
    return [address for message in outbox for address in message.to]
