"""Rescheduling an appointment (a new date or duration) makes its reminder due again, through the
API and the admin alike (both call appointments.services.appointment_update); other edits keep it."""

from datetime import timedelta

import pytest

from appointments.models import Appointment
from appointments.reminders import send_due_reminders
from keneyapp.core.scoping import scopes_disabled
from tests.appointments_admin.conftest import change_url
from tests.appointments_admin.test_form import as_post

from .conftest import NOW, recipients

pytestmark = pytest.mark.django_db


@pytest.fixture
def reminded(clinic, book, mailoutbox):
    """An appointment an hour from NOW whose reminder went out."""
    appointment = book(clinic, NOW + timedelta(hours=1))
    assert send_due_reminders(now=NOW).sent == 1
    with scopes_disabled():
        appointment.refresh_from_db()
    assert appointment.reminder_sent_at == NOW
    return appointment


def _reminder_sent_at(appointment):
    with scopes_disabled():
        return Appointment.objects.get(pk=appointment.pk).reminder_sent_at


@pytest.mark.parametrize(
    "change",
    [{"appointment_date": "2030-01-14T11:00:00"}, {"duration_minutes": 45}],
    ids=["new-date", "new-duration"],
)
def test_a_reschedule_through_the_api_makes_the_reminder_due_again(api, doctor, reminded, mailoutbox, change):
    response = api(doctor).patch(f"/api/v1/appointments/{reminded.pk}", change, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["reminder_sent_at"] is None
    assert _reminder_sent_at(reminded) is None
    later = NOW + timedelta(minutes=5)
    assert send_due_reminders(now=later).sent == 1
    assert recipients(mailoutbox) == [reminded.patient.email] * 2
    assert _reminder_sent_at(reminded) == later


def test_a_reschedule_through_the_admin_makes_the_reminder_due_again(browser, doctor, reminded):
    form = as_post(reminded, appointment_date_1="10:30:00")

    response = browser(doctor).post(change_url(reminded), form)

    assert response.status_code == 302, response.content
    assert _reminder_sent_at(reminded) is None
    assert send_due_reminders(now=NOW + timedelta(minutes=5)).sent == 1


def test_an_edit_that_keeps_the_time_keeps_the_reminder_sent(api, doctor, reminded, mailoutbox):
    response = api(doctor).patch(f"/api/v1/appointments/{reminded.pk}", {"notes": "Fasting"}, format="json")

    assert response.status_code == 200, response.content
    assert _reminder_sent_at(reminded) == NOW
    assert send_due_reminders(now=NOW + timedelta(minutes=5)).sent == 0
    assert len(mailoutbox) == 1


def test_a_reschedule_while_the_old_times_reminder_is_being_sent_leaves_the_new_time_due(
    api, doctor, clinic, book, mailoutbox, monkeypatch
):
    from django.core.mail import EmailMessage

    appointment = book(clinic, NOW + timedelta(hours=1))
    original_send = EmailMessage.send
    answers = []

    def rescheduled_during_the_send(self, fail_silently=False):
        # The visit is moved while the reminder of its old time is in the SMTP server's hands.
        answers.append(
            api(doctor).patch(
                f"/api/v1/appointments/{appointment.pk}",
                {"appointment_date": "2030-01-14T12:00:00"},
                format="json",
            )
        )
        return original_send(self, fail_silently=fail_silently)

    monkeypatch.setattr(EmailMessage, "send", rescheduled_during_the_send)
    assert send_due_reminders(now=NOW).sent == 1
    assert answers[0].status_code == 200, answers[0].content
    monkeypatch.setattr(EmailMessage, "send", original_send)

    # The reschedule took the claim away: the old time's email did not mark the new time reminded.
    assert _reminder_sent_at(appointment) is None
    assert send_due_reminders(now=NOW).sent == 1
    assert recipients(mailoutbox) == [appointment.patient.email] * 2
