from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo and benchmark data (`manage.py seed_demo`). Knows every domain; nothing depends on it."""

    name = "demo"
    label = "demo"
