"""`?fields=` (which keys an answer holds) and `?ordering=` (how a list is sorted), each from an
allow-list, so a client can never name a column the API does not expose."""

from collections.abc import Mapping, Sequence

from django.utils.translation import gettext
from rest_framework.exceptions import ValidationError


def parse_fields(query_params, *, allowed: Sequence[str]) -> tuple[str, ...]:
    raw = query_params.get("fields")
    if raw is None or raw.strip() == "":
        return tuple(allowed)
    requested = [name.strip() for name in raw.split(",") if name.strip()]
    unknown = [name for name in requested if name not in allowed]
    if unknown:
        raise ValidationError(
            {
                "fields": [
                    gettext("Unknown field(s): %(unknown)s. Allowed: %(allowed)s.")
                    % {"unknown": ", ".join(unknown), "allowed": ", ".join(allowed)}
                ]
            }
        )
    # Keep the allow-list's order and drop duplicates: the answer's shape is stable.
    return tuple(name for name in allowed if name in requested)


def parse_ordering(query_params, *, allowed: Mapping[str, tuple[str, ...]], default: str) -> tuple[str, ...]:
    """Map the public `ordering` value to ORM order_by() terms (always ending on a unique key)."""
    raw = query_params.get("ordering") or default
    if raw not in allowed:
        raise ValidationError(
            {
                "ordering": [
                    gettext("Unknown ordering %(value)r. Allowed: %(allowed)s.")
                    % {"value": raw, "allowed": ", ".join(allowed)}
                ]
            }
        )
    return allowed[raw]
