"""System checks of the project's own settings (Django's and DRF's have theirs)."""

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security, deploy=True)
def check_field_encryption_keys(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """`check --deploy` (and deploy/release.sh) refuse production with clinical text stored under
    the development key, a key SECRET_KEY would give away, a malformed key, or encryption off."""
    from keneyapp.core.secret_key import MAKE_FIELD_KEY, field_keys_problem

    problem = field_keys_problem(
        list(settings.FIELD_ENCRYPTION_KEYS), settings.SECRET_KEY, encryption_on=settings.FIELD_ENCRYPTION
    )
    if problem is None:
        return []
    return [
        checks.Error(
            problem,
            hint=(
                "Set FIELD_ENCRYPTION_KEYS to a key of its own (newest first, comma-separated), made with "
                f"{MAKE_FIELD_KEY}; keep FIELD_ENCRYPTION on. See deploy/README.md."
            ),
            id="keneyapp.E001",
        )
    ]
