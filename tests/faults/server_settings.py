"""The production settings for the fault tests' server processes, but for one thing: static files
are served from the apps' folders instead of collectstatic's manifest (collecting and compressing
them takes over a minute; the admin's pages need them to render)."""

from keneyapp.settings import *  # noqa: F403
from keneyapp.settings import STORAGES

STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
