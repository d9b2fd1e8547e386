"""ASGI entry point: `make run` serves the API, the admin and (later) websockets from it."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "keneyapp.settings")

application = get_asgi_application()
