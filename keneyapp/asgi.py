"""ASGI entry point: `make run` serves the API, the admin and the websockets (/ws/) from it;
in production (deploy/) the ASGI workers serve /ws/ and gunicorn the rest.

Websockets authenticate with the access token in the subprotocol (messaging/consumers.py), not
with cookies, so a page of another origin cannot ride on a browser's session: no origin check is
needed for them.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "keneyapp.settings")

django_application = get_asgi_application()  # first: it sets Django up before the imports below

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from keneyapp.core.secret_key import refuse_insecure_secret_key  # noqa: E402
from messaging.routing import websocket_urlpatterns  # noqa: E402

refuse_insecure_secret_key("the ASGI application (uvicorn)")

application = ProtocolTypeRouter(
    {
        "http": django_application,
        "websocket": URLRouter(websocket_urlpatterns),
    }
)
