"""The API's JSON parser: a body is refused before it can hurt the process.

DRF's parser hands the body to the standard library, which recurses once per
nesting level: a deeply nested array is a `RecursionError`, a 500. Here orjson
parses (its own depth limit is an error, not a crash) and nesting deeper than
`MAX_JSON_DEPTH` is a 400 before any serializer walks it. The body's size is
Django's `DATA_UPLOAD_MAX_MEMORY_SIZE`, checked when DRF reads `request.body`;
`config.api.problems` answers it with `RequestTooLarge` (413).
"""

from __future__ import annotations

from typing import Any

import orjson
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, parsers, status

# No request of this API nests deeper than about 6 levels (MLA details);
# 32 leaves room for partners' metadata and stays far from any recursion limit.
MAX_JSON_DEPTH = 32


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "request_too_large"
    default_detail = _("The request body is larger than this server accepts.")


def refusal(value: Any, limit: int) -> str:
    """Why a parsed body is refused ("" when it is not): nesting deeper than
    `limit`, or a NUL character, which PostgreSQL cannot store in text or
    JSON (a stored idempotent response echoing it would be a 500).
    Walked without recursion."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return "nul"
            continue
        if isinstance(item, dict):
            stack.extend((key, depth) for key in item)
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return "depth"
        stack.extend((child, depth + 1) for child in children)
    return ""


class JSONParser(parsers.JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            data = orjson.loads(stream.read())
        except orjson.JSONDecodeError as exc:
            if "depth limit" in str(exc) or "recursion" in str(exc).lower():
                raise self._too_deep() from exc
            raise exceptions.ParseError(_("JSON parse error: %(error)s") % {"error": exc}) from exc
        problem = refusal(data, MAX_JSON_DEPTH)
        if problem == "depth":
            raise self._too_deep()
        if problem == "nul":
            raise exceptions.ParseError(_("The JSON body contains a NUL character (\\u0000)."))
        return data

    @staticmethod
    def _too_deep() -> exceptions.ParseError:
        return exceptions.ParseError(
            _("The JSON body is nested deeper than %(limit)d levels.") % {"limit": MAX_JSON_DEPTH}
        )
