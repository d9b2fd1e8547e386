from celery import shared_task

from appointments import reminders


@shared_task(name="appointments.send_appointment_reminders")
def send_appointment_reminders() -> None:
    """Run by Celery beat (schedule created by migration, editable in the admin), on the
    default queue (medium priority: see CELERY_TASK_ROUTES). Serves every clinic: it selects
    what is due with scopes disabled, then sends each clinic's reminders in its scope."""
    reminders.send_due_reminders()
