# Load the Celery app with Django, so @shared_task binds to it and beat finds the schedule.
from keneyapp.celery import app as celery_app

__all__ = ("celery_app",)
