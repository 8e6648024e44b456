"""Meta's cursor paging and `since` / `until` windows, shared by every list edge of every
network (see docs/sandbox.md, "Paging" and "Time windows")."""

import base64
import binascii
import urllib.parse
from collections.abc import Callable
from typing import Any

from . import errors
from .context import Request, bearer_token
from .state import SandboxState
from .timeparams import parse_time_param

DEFAULT_LIMIT = 25
MAX_LIMIT = 100
START_CURSOR = ""  # the cursor of "before the first item" (the empty-page quirk's `next`)


def _cursor(item_id: str) -> str:
    """An opaque cursor naming the item it stands on, so that it stays put when newer items
    are added in front of it (Meta's cursors are stable in the same way)."""
    return base64.urlsafe_b64encode(f"sbx:{item_id}".encode()).decode().rstrip("=")


def _uncursor(text: str, name: str) -> str:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
    except (ValueError, UnicodeDecodeError, binascii.Error) as exc:
        raise errors.invalid_cursor(name) from exc
    prefix, sep, item_id = raw.partition(":")
    if prefix != "sbx" or not sep:
        raise errors.invalid_cursor(name)
    return item_id


def _parse_limit(text: str | None, *, strict_max: bool) -> int:
    """`limit` as Meta takes it: default 25, 0 asks for no items, at most 100 (Page post edges
    refuse more; the other edges give 100)."""
    if text is None or text.strip() == "":
        return DEFAULT_LIMIT
    value = text.strip()
    if not value.isdigit():
        raise errors.invalid_param(
            f"(#100) The parameter limit must be a non-negative integer, not '{value[:40]}'"
        )
    limit = int(value)
    if limit > MAX_LIMIT:
        if strict_max:
            # Meta's answer on the Page post edges (seen in the wild; not documented).
            raise errors.invalid_param(
                f"(#100) The 'limit' parameter should not exceed {MAX_LIMIT}"
            )
        limit = MAX_LIMIT
    return limit


def _id_order(item_id: str) -> tuple[int, str]:
    """Ids are numbers (`{page}_{post}` for Page posts): later ids are newer."""
    tail = item_id.rpartition("_")[2]
    return (int(tail) if tail.isdigit() else 0, item_id)


class Pager:
    """Paging of one sandbox's lists (its clock, its configuration, its lock)."""

    def __init__(self, state: SandboxState) -> None:
        self.state = state

    def page_url(self, req: Request, **cursor: str) -> str:
        query = {k: v for k, v in req.query.items() if k not in ("after", "before")}
        token, from_header = bearer_token(req)
        if token and from_header and "access_token" not in query:
            # Meta's paging links carry the access token, wherever the call had it.
            query["access_token"] = token
        query.update(cursor)
        version = req.version or self.state.config.default_version
        return f"{req.base_url}{req.prefix}/{version}{req.path}?{urllib.parse.urlencode(query)}"

    def paginate(
        self,
        req: Request,
        items: list[Any],
        render: Callable[[Any], dict[str, Any]],
        *,
        quirk: bool = False,
        strict_limit: bool = False,
    ) -> dict[str, Any]:
        """Meta's cursor paging over `items` (already in the edge's order): `data`,
        `paging.cursors`, `paging.previous` after the first page, `paging.next` unless on the
        last page. The links carry the call's other parameters (`since`, `until`, `limit`,
        `fields`, the token), so a time window is kept while paging."""
        limit = _parse_limit(req.param("limit"), strict_max=strict_limit)
        after, before = req.param("after"), req.param("before")
        if quirk and self.state.config.empty_page_quirk and after is None and before is None:
            # Meta sometimes answers a page with no data that still links to more.
            next_url = self.page_url(req, after=_cursor(START_CURSOR))
            return {"data": [], "paging": {"next": next_url}}
        positions = {item.id: index for index, item in enumerate(items)}
        if after is not None:
            item_id = _uncursor(after, "after")
            if item_id == START_CURSOR:
                start = 0
            elif item_id in positions:
                start = positions[item_id] + 1
            else:
                raise errors.invalid_cursor("after")
            end = min(len(items), start + limit)
        elif before is not None:
            item_id = _uncursor(before, "before")
            if item_id not in positions:
                raise errors.invalid_cursor("before")
            end = positions[item_id]
            start = max(end - limit, 0)
        else:
            start, end = 0, min(len(items), limit)
        chunk = items[start:end]
        with self.state.lock:
            body: dict[str, Any] = {"data": [render(item) for item in chunk]}
        if chunk:
            paging: dict[str, Any] = {
                "cursors": {"before": _cursor(chunk[0].id), "after": _cursor(chunk[-1].id)}
            }
            if start > 0:
                paging["previous"] = self.page_url(req, before=_cursor(chunk[0].id))
            if end < len(items):
                paging["next"] = self.page_url(req, after=_cursor(chunk[-1].id))
            body["paging"] = paging
        return body

    def time_window(self, req: Request) -> tuple[int | None, int | None]:
        """`since` / `until` (Unix seconds or a strtotime()-like text), or the (#100) error."""
        now = self.state.now()
        return (
            parse_time_param(req.param("since"), "since", now),
            parse_time_param(req.param("until"), "until", now),
        )

    def in_window(
        self, records: list[Any], stamp: Callable[[Any], float], req: Request
    ) -> list[Any]:
        """Newest first, within `since` ≤ created ≤ `until` (both bounds inclusive, to the
        second as the API shows times)."""
        since, until = self.time_window(req)
        kept = [
            r
            for r in records
            if (since is None or int(stamp(r)) >= since)
            and (until is None or int(stamp(r)) <= until)
        ]
        # The same moment can hold several items: the newer one (higher id) first.
        kept.sort(key=lambda r: (stamp(r), _id_order(r.id)), reverse=True)
        return kept
