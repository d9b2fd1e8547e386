"""The paging contract of every list: `?skip=0&limit=50` in, `{items, total, skip, limit}` out."""

from dataclasses import dataclass

from rest_framework.exceptions import ValidationError

DEFAULT_LIMIT = 50
MAX_LIMIT = 100


@dataclass(frozen=True, slots=True)
class PageRequest:
    skip: int
    limit: int


def _non_negative_int(raw: str, name: str, errors: dict) -> int | None:
    try:
        value = int(raw)
    except (TypeError, ValueError):
        errors[name] = [f"{name} must be an integer."]
        return None
    return value


def parse_page_request(query_params, *, default_limit: int = DEFAULT_LIMIT) -> PageRequest:
    errors: dict[str, list[str]] = {}
    skip = _non_negative_int(query_params.get("skip", "0"), "skip", errors)
    limit = _non_negative_int(query_params.get("limit", str(default_limit)), "limit", errors)
    if skip is not None and skip < 0:
        errors["skip"] = ["skip must be 0 or more."]
    if limit is not None and not 1 <= limit <= MAX_LIMIT:
        errors["limit"] = [f"limit must be between 1 and {MAX_LIMIT}."]
    if errors or skip is None or limit is None:  # None only with its error recorded
        raise ValidationError(errors)
    return PageRequest(skip=skip, limit=limit)


def page_response(items: list, *, total: int, page: PageRequest) -> dict:
    return {"items": items, "total": total, "skip": page.skip, "limit": page.limit}
