"""The paging contract of every list: `?skip=0&limit=50` in, `{items, total, skip, limit}` out."""

from dataclasses import dataclass

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


def parse_query_integer(raw: str, name: str, errors: dict) -> int | None:
    """An integer written in ASCII digits (an optional leading minus), or None with the problem in
    `errors[name]`; the caller checks the range.

    Python's int() also takes other scripts' digits ("١٢"), underscores, a plus and spaces, and
    any length; a query string gets none of that: "12" or an error naming the parameter.
    """
    digits = raw[1:] if isinstance(raw, str) and raw.startswith("-") else raw
    if not (isinstance(digits, str) and 0 < len(digits) <= 18 and digits.isascii() and digits.isdigit()):
        errors[name] = [f"{name} must be an integer."]
        return None
    return int(raw)


def parse_page_request(query_params, *, default_limit: int = DEFAULT_LIMIT) -> PageRequest:
    errors: dict[str, list[str]] = {}
    skip = parse_query_integer(query_params.get("skip", "0"), "skip", errors)
    limit = parse_query_integer(query_params.get("limit", str(default_limit)), "limit", errors)
    if skip is not None and skip < 0:
        errors["skip"] = ["skip must be 0 or more."]
    elif skip is not None and skip > MAX_SKIP:
        errors["skip"] = [f"skip must be at most {MAX_SKIP}."]
    if limit is not None and not 1 <= limit <= MAX_LIMIT:
        errors["limit"] = [f"limit must be between 1 and {MAX_LIMIT}."]
    if errors or skip is None or limit is None:  # None only with its error recorded
        raise ValidationError(errors)
    return PageRequest(skip=skip, limit=limit)


def page_response(items: list, *, total: int, page: PageRequest) -> dict:
    return {"items": items, "total": total, "skip": page.skip, "limit": page.limit}
