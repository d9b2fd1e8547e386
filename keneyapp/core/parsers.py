import orjson
from django.conf import settings
from django.utils.translation import gettext
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import BaseParser


class RequestBodyTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "request_too_large"

    def __init__(self, max_bytes: int):
        super().__init__(
            gettext("The request body is larger than the limit of %(max_bytes)s bytes.")
            % {"max_bytes": max_bytes},
            self.default_code,
        )


class StrictJSONParser(BaseParser):
    """Parses `application/json` bodies with orjson; anything that is not a JSON object is a 400.

    A body over API_MAX_BODY_BYTES is a 413 before it is read whole: refused from its declared
    length, or after reading one byte past the limit when no length is declared (a chunked body),
    so a client cannot make a worker hold an arbitrarily large body in memory. Other content types
    are refused by DRF's negotiation with 415 before this runs.
    """

    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.API_MAX_BODY_BYTES
        request = (parser_context or {}).get("request")
        declared = request.META.get("CONTENT_LENGTH") if request is not None else None
        if declared and declared.isascii() and declared.isdigit() and int(declared) > limit:
            raise RequestBodyTooLarge(limit)
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise RequestBodyTooLarge(limit)
        if not raw:
            return {}
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise ParseError(gettext("Malformed JSON: %(error)s") % {"error": exc}) from None
        if not isinstance(data, dict):
            raise ParseError(gettext("The request body must be a JSON object."))
        return data
