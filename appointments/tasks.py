from celery import shared_task

from appointments import reminders


@shared_task(name="appointments.send_appointment_reminders", queue="default", priority=5)
def send_appointment_reminders() -> None:
    """Run by Celery beat (schedule created by migration, editable in the admin)."""
    reminders.send_due_reminders()
