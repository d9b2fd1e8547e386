"""WSGI entry point: production's gunicorn workers serve the HTTP API and the admin from it."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "keneyapp.settings")

application = get_wsgi_application()

from keneyapp.core.secret_key import refuse_insecure_secret_key  # noqa: E402 (after setup)

refuse_insecure_secret_key("the WSGI application (gunicorn)")
