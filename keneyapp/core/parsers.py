import orjson
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser


class StrictJSONParser(BaseParser):
    """Parses `application/json` bodies with orjson; anything that is not a JSON object is a 400.

    Other content types are refused by DRF's negotiation with 415 before this runs.
    """

    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        raw = stream.read() if stream is not None else b""
        if not raw:
            return {}
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise ParseError(f"Malformed JSON: {exc}") from None
        if not isinstance(data, dict):
            raise ParseError("The request body must be a JSON object.")
        return data
