"""Validation of answers: a missing key or a wrong type is a GraphMalformedResponseError with a
clear message, never a KeyError or TypeError deep in a caller."""

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import structlog

from apps.core.logging import SECRET_KEYS

from .client import GraphClient, GraphResponse
from .errors import GraphListingIncomplete, GraphMalformedResponseError

logger = structlog.get_logger(__name__)

JSONObject = dict[str, Any]


class Shape:
    """Typed reads from one Graph answer; every failure names the endpoint and the key."""

    def __init__(self, response: GraphResponse, *, outcome_unknown: bool = False) -> None:
        self.response = response
        # For the answer to a non-idempotent POST that Meta accepted: unreadable means unknown.
        self.outcome_unknown = outcome_unknown

    def fail(self, problem: str) -> GraphMalformedResponseError:
        return GraphMalformedResponseError(
            problem,
            http_status=self.response.status_code,
            usage=self.response.usage,
            method=self.response.method,
            endpoint=self.response.endpoint,
            outcome_unknown=self.outcome_unknown,
        )

    def root(self) -> JSONObject:
        return self.as_object(self.response.body, "the answer")

    def as_object(self, value: Any, what: str) -> JSONObject:
        if not isinstance(value, dict):
            raise self.fail(f"{what} should be a JSON object, got {_kind(value)}")
        return value

    def child(self, obj: JSONObject, key: str) -> JSONObject:
        return self.as_object(self._required(obj, key), f"'{key}'")

    def opt_child(self, obj: JSONObject, key: str) -> JSONObject | None:
        value = obj.get(key)
        return None if value is None else self.as_object(value, f"'{key}'")

    def items(self, obj: JSONObject, key: str) -> list[Any]:
        value = self._required(obj, key)
        if not isinstance(value, list):
            raise self.fail(f"'{key}' should be a list, got {_kind(value)}")
        return value

    def opt_items(self, obj: JSONObject, key: str) -> list[Any]:
        return [] if obj.get(key) is None else self.items(obj, key)

    def string(self, obj: JSONObject, key: str) -> str:
        value = self._required(obj, key)
        if not isinstance(value, str) or not value:
            raise self.fail(f"'{key}' should be a non-empty string, got {_kind(value)}")
        return value

    def opt_string(self, obj: JSONObject, key: str) -> str | None:
        value = obj.get(key)
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            raise self.fail(f"'{key}' should be a string, got {_kind(value)}")
        return value

    def object_id(self, obj: JSONObject, key: str = "id") -> str:
        """Graph ids are numeric strings; tolerate a bare integer, reject anything else."""
        value = self._required(obj, key)
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        return self.string(obj, key)

    def opt_object_id(self, obj: JSONObject, key: str) -> str | None:
        return None if obj.get(key) in (None, "") else self.object_id(obj, key)

    def integer(self, obj: JSONObject, key: str) -> int:
        value = self._required(obj, key)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(f"'{key}' should be an integer, got {_kind(value)}")
        return value

    def opt_integer(self, obj: JSONObject, key: str) -> int | None:
        return None if obj.get(key) is None else self.integer(obj, key)

    def boolean(self, obj: JSONObject, key: str) -> bool:
        value = self._required(obj, key)
        if not isinstance(value, bool):
            raise self.fail(f"'{key}' should be true or false, got {_kind(value)}")
        return value

    def strings(self, obj: JSONObject, key: str) -> tuple[str, ...]:
        values = self.opt_items(obj, key)
        if not all(isinstance(v, str) for v in values):
            raise self.fail(f"'{key}' should be a list of strings")
        return tuple(values)

    def opt_timestamp(self, obj: JSONObject, key: str) -> datetime | None:
        """Meta's ISO 8601 times ("2026-01-31T10:00:00+0000")."""
        text = self.opt_string(obj, key)
        if text is None:
            return None
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise self.fail(f"'{key}' should be an ISO 8601 time, got {text!r}") from None
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

    def opt_epoch(self, obj: JSONObject, key: str) -> datetime | None:
        """Unix seconds, where 0 (Meta's "never") becomes None."""
        seconds = self.opt_integer(obj, key)
        if not seconds:
            return None
        return datetime.fromtimestamp(seconds, tz=UTC)

    def _required(self, obj: JSONObject, key: str) -> Any:
        if key not in obj or obj[key] is None:
            raise self.fail(f"'{key}' is missing")
        return obj[key]


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return type(value).__name__


def _link_key(url: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """A `paging.next` link without its secrets, to recognise a link seen before."""
    parsed = httpx.URL(url)
    params = sorted((k, v) for k, v in parsed.params.multi_items() if k.lower() not in SECRET_KEYS)
    return parsed.path, tuple(params)


def paginate(
    client: GraphClient,
    endpoint: str,
    *,
    ids: tuple[str, ...] = (),
    token: str,
    params: dict[str, str],
    complete: bool = False,
) -> Iterator[tuple[Shape, JSONObject]]:
    """Every item of a listing, following `paging.next` until it is absent.

    A page may be empty and still have `next`, so only the absence of `next` ends the listing.
    A link seen before (a loop) or more than `config.max_pages` pages stop it with a warning;
    with `complete=True` (a caller that must see everything, like reconciliation) they raise
    GraphListingIncomplete instead.
    """
    response = client.request("GET", endpoint, ids=ids, token=token, params=params)
    seen: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
    pages = 1
    while True:
        shape = Shape(response)
        root = shape.root()
        for item in shape.items(root, "data"):
            yield shape, shape.as_object(item, "an item of 'data'")
        paging = shape.opt_child(root, "paging")
        next_url = shape.opt_string(paging, "next") if paging else None
        if next_url is None:
            return
        key = _link_key(next_url)
        reason = None
        if key in seen:
            reason = "loop"
        elif pages >= client.config.max_pages:
            reason = "max_pages"
        if reason:
            logger.warning("graph_paging_stopped", endpoint=endpoint, reason=reason, pages=pages)
            if complete:
                raise GraphListingIncomplete(
                    f"the listing stopped after {pages} pages ({reason})",
                    method="GET",
                    endpoint=endpoint,
                )
            return
        seen.add(key)
        pages += 1
        response = client.request("GET", endpoint, token=token, next_url=next_url)


def paginate_since(
    client: GraphClient,
    endpoint: str,
    *,
    ids: tuple[str, ...],
    token: str,
    fields: str,
    since: datetime,
) -> Iterator[tuple[Shape, JSONObject]]:
    """Every item of a listing created from `since` on (Graph's time-based paging), read to its
    end: a listing that cannot be read whole raises GraphListingIncomplete (reconciliation must
    see everything)."""
    params = {
        "fields": fields,
        "limit": str(client.config.page_size),
        "since": str(int(since.timestamp())),
    }
    return paginate(client, endpoint, ids=ids, token=token, params=params, complete=True)
