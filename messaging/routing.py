"""Websocket routes, mounted by keneyapp/asgi.py."""

from django.urls import re_path

from messaging import consumers

websocket_urlpatterns = [
    re_path(r"^ws/notifications/?$", consumers.NotificationConsumer.as_asgi()),
    re_path(r"", consumers.UnknownRouteConsumer.as_asgi()),
]
