"""The paging contract of every list: `?skip=0&limit=50` in, `{items, total, skip, limit}` out."""

from dataclasses import dataclass

from django.utils.translation import gettext
from rest_framework.exceptions import ValidationError

DEFAULT_LIMIT = 50
MAX_LIMIT = 100


@dataclass(frozen=True, slots=True)
class PageRequest:
    skip: int
    limit: int


# Larger skips are refused rather than handed to the database, where an OFFSET beyond a 64-bit
# integer is an out-of-range error (a 500), and no clinic has a billion rows to skip anyway.
MAX_SKIP = 10**9

# The largest id of a 64-bit primary key: a larger one is refused at the door, not by PostgreSQL.
MAX_ID = 2**63 - 1


def ascii_integer(raw) -> int | None:
    """The integer a string writes in ASCII digits (an optional leading minus), at most 18 of them
    (so it fits a 64-bit column), or None.

    Python's int() also takes other scripts' digits ("١٢", full-width "12"), underscores, a plus, spaces and
    any length, and str.isdigit() admits "²", which int() then refuses (a 500); a number from a
    client gets none of that: "12" or nothing.
    """
    digits = raw[1:] if isinstance(raw, str) and raw.startswith("-") else raw
    if not (isinstance(digits, str) and 0 < len(digits) <= 18 and digits.isascii() and digits.isdigit()):
        return None
    return int(raw)


def parse_query_integer(raw: str, name: str, errors: dict) -> int | None:
    """`ascii_integer(raw)`, or None with the problem in `errors[name]`; the caller checks the range."""
    value = ascii_integer(raw)
    if value is None:
        errors[name] = [gettext("%(name)s must be an integer.") % {"name": name}]
    return value


def query_integer(query_params, name: str, *, minimum: int = 1, maximum: int = MAX_ID) -> int | None:
    """An optional integer query parameter within [minimum, maximum]: None when absent or empty,
    else the number; anything else is a 400 naming the parameter."""
    raw = query_params.get(name)
    if raw in (None, ""):
        return None
    errors: dict[str, list[str]] = {}
    value = parse_query_integer(raw, name, errors)
    if value is not None and not minimum <= value <= maximum:
        errors[name] = [
            gettext("%(name)s must be between %(minimum)s and %(maximum)s.")
            % {"name": name, "minimum": minimum, "maximum": maximum}
        ]
    if errors:
        raise ValidationError(errors)
    return value


def parse_page_request(query_params, *, default_limit: int = DEFAULT_LIMIT) -> PageRequest:
    errors: dict[str, list[str]] = {}
    skip = parse_query_integer(query_params.get("skip", "0"), "skip", errors)
    limit = parse_query_integer(query_params.get("limit", str(default_limit)), "limit", errors)
    if skip is not None and skip < 0:
        errors["skip"] = [gettext("skip must be 0 or more.")]
    elif skip is not None and skip > MAX_SKIP:
        errors["skip"] = [gettext("skip must be at most %(maximum)s.") % {"maximum": MAX_SKIP}]
    if limit is not None and not 1 <= limit <= MAX_LIMIT:
        errors["limit"] = [gettext("limit must be between 1 and %(maximum)s.") % {"maximum": MAX_LIMIT}]
    if errors or skip is None or limit is None:  # None only with its error recorded
        raise ValidationError(errors)
    return PageRequest(skip=skip, limit=limit)


def page_response(items: list, *, total: int, page: PageRequest) -> dict:
    return {"items": items, "total": total, "skip": page.skip, "limit": page.limit}
