"""The API's JSON parser: DRF's, with a nesting limit checked before anything is parsed."""

import io
from collections.abc import Mapping
from typing import IO, Any

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError

from apps.core.json_depth import json_depth_exceeds


class BoundedJSONParser(parsers.JSONParser):
    """A body nesting deeper than ``settings.JSON_MAX_DEPTH`` is a 400 ``json_too_deep``; the
    body's size is bounded before this by Django's DATA_UPLOAD_MAX_MEMORY_SIZE (a 413)."""

    def parse(
        self,
        stream: IO[Any],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        raw = stream.read()
        # DRF's own choice of charset, which refuses non-text codecs (not in the stubs).
        encoding = parsers.get_encoding(parser_context or {})  # type: ignore[attr-defined]
        try:
            text = raw.decode(encoding)
        except UnicodeError as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
        limit = settings.JSON_MAX_DEPTH
        if json_depth_exceeds(text, limit=limit):
            raise ParseError(
                f"The JSON body nests arrays and objects deeper than {limit} levels.",
                code="json_too_deep",
            )
        return super().parse(io.BytesIO(raw), media_type, parser_context)
