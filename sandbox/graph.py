"""The Graph API endpoints: authentication of each call, object lookup, nodes and edges.

`Graph.handle(request, context)` answers one Graph call with a JSON-able body or raises a
`GraphError`. Latency, faults, usage headers and the call log are the server's business.
"""

import base64
import binascii
import hmac
import urllib.parse
from collections.abc import Callable
from typing import Any

from . import errors
from .context import CallContext, Request, Viewer
from .errors import GraphError
from .fields import FieldSpec, parse_fields
from .nodes import Renderer
from .oauth import OAuth, token_problem
from .publishing import QUOTA_DURATION, Publisher
from .state import PageRecord, SandboxState
from .timeparams import parse_time_param
from .tokens import TokenClaims, TokenParseError, appsecret_proof

DEFAULT_LIMIT = 25
# Kinds of presented tokens besides the TokenClaims kinds (for the log and the usage headers).
APP_TOKEN = "app"  # noqa: S105 - a label, not a secret
INVALID_TOKEN = "invalid"  # noqa: S105 - a label, not a secret
MAX_LIMIT = 100

TEMPLATES = {
    "User": "/{user-id}",
    "Page": "/{page-id}",
    "IGUser": "/{ig-user-id}",
    "Business": "/{business-id}",
    "PagePost": "/{post-id}",
    "Photo": "/{photo-id}",
    "ShadowIGMediaBuilder": "/{container-id}",
    "IGMedia": "/{ig-media-id}",
}


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


def bearer_token(req: Request) -> tuple[str | None, bool]:
    """The access token of a call and whether it came in the Authorization header."""
    token = req.param("access_token")
    if token:
        return token, False
    header = req.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() in ("bearer", "oauth") and value.strip():
        return value.strip(), True
    return None, False


class Graph:
    def __init__(self, state: SandboxState) -> None:
        self.state = state
        self.oauth = OAuth(state)
        self.publisher = Publisher(state)

    # --- entry point ----------------------------------------------------------------------------

    def handle(self, req: Request, ctx: CallContext) -> Any:
        segments = [s for s in req.path.split("/") if s]
        if not segments:
            ctx.template = "/"
            if req.method == "GET" and req.param("ids"):
                return self._ids(req, ctx, self.authenticate(req, ctx))
            raise errors.invalid_param("(#100) The sandbox does not emulate batch requests")
        head = segments[0]
        if head == "oauth" and len(segments) == 2 and segments[1] == "access_token":
            ctx.template = "/oauth/access_token"
            return self.oauth.access_token(req)
        if head == "oauth" and len(segments) == 2 and segments[1] == "access_token_info":
            ctx.template = "/oauth/access_token_info"
            return self.oauth.access_token_info(req, self.peek(req, ctx))
        if head == "debug_token" and len(segments) == 1:
            ctx.template = "/debug_token"
            return self.oauth.debug_token(req, self.peek(req, ctx))
        viewer = self.authenticate(req, ctx)
        node_type, record = self.lookup(head, viewer, req.method, ctx)
        ctx.template = "/me" if head == "me" else TEMPLATES[node_type]
        if len(segments) == 1:
            return self._node(req, ctx, node_type, record)
        if len(segments) > 2:
            raise errors.unknown_path("/" + "/".join(segments[2:]))
        edge = segments[1]
        ctx.template += f"/{edge}"
        return self._edge(req, ctx, viewer, node_type, record, edge)

    # --- authentication -------------------------------------------------------------------------

    def peek(self, req: Request, ctx: CallContext) -> str | None:
        """The token, noting its kind for the usage headers, without validating it."""
        token, from_header = bearer_token(req)
        if token is None:
            return None
        if self.state.signer.is_app_token(token):
            ctx.token_kind = APP_TOKEN
            ctx.viewer = Viewer(token, None, from_header)
            return token
        try:
            claims = self.state.signer.decode(token)
        except TokenParseError:
            ctx.token_kind = INVALID_TOKEN
            return token
        ctx.token_kind = claims.kind
        ctx.viewer = Viewer(token, claims, from_header)
        if claims.is_page and claims.page_id:
            ctx.touch(claims.page_id, "pages")
        return token

    def authenticate(self, req: Request, ctx: CallContext) -> Viewer:
        """The caller of a Graph call, or the error Meta gives for its token."""
        token = self.peek(req, ctx)
        if token is None:
            raise errors.token_required()
        viewer = ctx.viewer
        if viewer is None:
            raise errors.token_unparsable()
        if viewer.claims is not None:
            problem = token_problem(self.state, viewer.claims)
            if problem is not None:
                raise problem
            proof = req.param("appsecret_proof")
            if proof is not None:
                expected = appsecret_proof(token, self.state.config.app_secret)
                if not hmac.compare_digest(proof.lower(), expected):
                    raise errors.proof_invalid()
            elif self.state.config.appsecret_proof_required:
                raise errors.proof_required()
        return viewer

    # --- objects --------------------------------------------------------------------------------

    def _can_page(self, claims: TokenClaims | None, page: PageRecord) -> bool:
        if claims is None:
            return False
        if claims.is_page:
            return claims.page_id == page.id
        return claims.user_id in page.manager_ids

    def lookup(
        self, object_id: str, viewer: Viewer, method: str, ctx: CallContext
    ) -> tuple[str, Any]:
        claims = viewer.claims
        state = self.state
        with state.lock:
            if object_id == "me":
                if claims is None:
                    raise GraphError(
                        "An active access token must be used to query information about the "
                        "current user.",
                        code=2500,
                    )
                if claims.is_page and claims.page_id in state.pages:
                    return "Page", state.pages[claims.page_id]
                return "User", state.users[claims.user_id]
            is_own_user = claims is not None and claims.is_user and claims.user_id == object_id
            if object_id in state.users and is_own_user:
                return "User", state.users[object_id]
            page = state.pages.get(object_id)
            if page and self._can_page(claims, page):
                ctx.touch(page.id, "pages")
                return "Page", page
            account = state.ig_accounts.get(object_id)
            if account and self._can_page(claims, state.pages[account.page_id]):
                ctx.touch(account.id, "instagram")
                return "IGUser", account
            business = state.businesses.get(object_id)
            if (
                business
                and claims
                and claims.is_user
                and claims.user_id in business.member_ids
                and claims.has_scope("business_management")
            ):
                return "Business", business
            post = state.posts.get(object_id)
            if post and self._can_page(claims, state.pages[post.page_id]):
                ctx.touch(post.page_id, "pages")
                return "PagePost", post
            photo = state.photos.get(object_id)
            if photo and self._can_page(claims, state.pages[photo.page_id]):
                ctx.touch(photo.page_id, "pages")
                return "Photo", photo
            container = state.containers.get(object_id)
            owner = state.ig_accounts.get(container.ig_user_id) if container else None
            if container and owner and self._can_page(claims, state.pages[owner.page_id]):
                ctx.touch(owner.id, "instagram")
                return "ShadowIGMediaBuilder", container
            media = state.ig_media.get(object_id)
            owner = state.ig_accounts.get(media.ig_user_id) if media else None
            if media and owner and self._can_page(claims, state.pages[owner.page_id]):
                ctx.touch(owner.id, "instagram")
                return "IGMedia", media
        raise errors.unsupported(method, object_id)

    def _renderer(self, req: Request, viewer: Viewer | None) -> Renderer:
        return Renderer(self.state, viewer, req.base_url)

    def _node(self, req: Request, ctx: CallContext, node_type: str, record: Any) -> Any:
        if req.method != "GET":
            raise errors.unsupported(req.method, record.id)
        specs = parse_fields(req.param("fields"))
        with self.state.lock:
            return self._renderer(req, ctx.viewer).render(node_type, record, specs)

    def _ids(self, req: Request, ctx: CallContext, viewer: Viewer) -> Any:
        specs = parse_fields(req.param("fields"))
        out: dict[str, Any] = {}
        missing = []
        for object_id in (req.param("ids") or "").split(","):
            object_id = object_id.strip()
            if not object_id:
                continue
            try:
                node_type, record = self.lookup(object_id, viewer, "GET", ctx)
            except GraphError:
                missing.append(object_id)
                continue
            with self.state.lock:
                out[object_id] = self._renderer(req, viewer).render(node_type, record, specs)
        if missing:
            raise GraphError(
                f"(#803) Some of the aliases you requested do not exist: {','.join(missing)}",
                code=803,
            )
        return out

    # --- edges ----------------------------------------------------------------------------------

    def _edge(
        self,
        req: Request,
        ctx: CallContext,
        viewer: Viewer,
        node_type: str,
        record: Any,
        edge: str,
    ) -> Any:
        method = req.method
        handler = self._edges().get((node_type, edge, method))
        if handler is None:
            known = {(n, e) for (n, e, _) in self._edges()}
            if (node_type, edge) in known or method != "GET":
                raise errors.unsupported(method, record.id)
            raise errors.nonexisting_field(edge, node_type)
        return handler(req, ctx, viewer, record)

    def _edges(
        self,
    ) -> dict[tuple[str, str, str], Callable[[Request, CallContext, Viewer, Any], Any]]:
        publisher = self.publisher
        return {
            ("User", "accounts", "GET"): self._accounts,
            ("User", "businesses", "GET"): self._businesses,
            ("User", "permissions", "GET"): self._permissions,
            ("User", "permissions", "DELETE"): self._revoke_permissions,
            ("Business", "owned_pages", "GET"): self._owned_pages,
            ("Business", "client_pages", "GET"): self._client_pages,
            ("Page", "feed", "GET"): self._page_posts,
            ("Page", "posts", "GET"): self._page_posts,
            ("Page", "published_posts", "GET"): self._page_posts,
            ("Page", "feed", "POST"): lambda r, c, v, p: publisher.page_feed(r, c, p, v),
            ("Page", "photos", "GET"): self._page_photos,
            ("Page", "photos", "POST"): lambda r, c, v, p: publisher.page_photo(r, c, p, v),
            ("IGUser", "media", "GET"): self._ig_media_list,
            ("IGUser", "media", "POST"): lambda r, c, v, a: publisher.ig_create(r, c, a, v),
            ("IGUser", "media_publish", "POST"): lambda r, c, v, a: publisher.ig_publish(
                r, c, a, v
            ),
            ("IGUser", "content_publishing_limit", "GET"): self._publishing_limit,
            ("PagePost", "likes", "GET"): self._engagement_edge("likes"),
            ("PagePost", "comments", "GET"): self._engagement_edge("comments"),
            ("PagePost", "reactions", "GET"): self._engagement_edge("reactions"),
            ("Photo", "likes", "GET"): self._engagement_edge("likes"),
            ("Photo", "comments", "GET"): self._engagement_edge("comments"),
            ("Photo", "reactions", "GET"): self._engagement_edge("reactions"),
        }

    # --- listings -------------------------------------------------------------------------------

    def _page_url(self, req: Request, **cursor: str) -> str:
        query = {k: v for k, v in req.query.items() if k not in ("after", "before")}
        token, from_header = bearer_token(req)
        if token and from_header and "access_token" not in query:
            # Meta's paging links carry the access token, wherever the call had it.
            query["access_token"] = token
        query.update(cursor)
        version = req.version or self.state.config.default_version
        return f"{req.base_url}/{version}{req.path}?{urllib.parse.urlencode(query)}"

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
            next_url = self._page_url(req, after=_cursor(START_CURSOR))
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
                paging["previous"] = self._page_url(req, before=_cursor(chunk[0].id))
            if end < len(items):
                paging["next"] = self._page_url(req, after=_cursor(chunk[-1].id))
            body["paging"] = paging
        return body

    def _time_window(self, req: Request) -> tuple[int | None, int | None]:
        """`since` / `until` (Unix seconds or a strtotime()-like text), or the (#100) error."""
        now = self.state.now()
        return (
            parse_time_param(req.param("since"), "since", now),
            parse_time_param(req.param("until"), "until", now),
        )

    def _in_window(
        self, records: list[Any], stamp: Callable[[Any], float], req: Request
    ) -> list[Any]:
        """Newest first, within `since` ≤ created ≤ `until` (both bounds inclusive, to the
        second as the API shows times)."""
        since, until = self._time_window(req)
        kept = [
            r
            for r in records
            if (since is None or int(stamp(r)) >= since)
            and (until is None or int(stamp(r)) <= until)
        ]
        # The same moment can hold several items: the newer one (higher id) first.
        kept.sort(key=lambda r: (stamp(r), _id_order(r.id)), reverse=True)
        return kept

    def _render_each(
        self, req: Request, viewer: Viewer, node_type: str
    ) -> Callable[[Any], dict[str, Any]]:
        specs = parse_fields(req.param("fields"))
        renderer = self._renderer(req, viewer)
        return lambda record: renderer.render(node_type, record, specs)

    def _accounts(self, req: Request, ctx: CallContext, viewer: Viewer, user: Any) -> Any:
        claims = viewer.claims
        with self.state.lock:
            pages = [p for p in self.state.pages_of(user.id) if p.in_accounts]
        if claims is None or not claims.has_scope("pages_show_list"):
            pages = []
        return self.paginate(
            req, pages, self._render_each(req, viewer, "AccountsEntry"), quirk=True
        )

    def _businesses(self, req: Request, ctx: CallContext, viewer: Viewer, user: Any) -> Any:
        claims = viewer.claims
        with self.state.lock:
            items = [b for b in self.state.businesses.values() if user.id in b.member_ids]
        if claims is None or not claims.has_scope("business_management"):
            items = []
        return self.paginate(req, items, self._render_each(req, viewer, "Business"), quirk=True)

    def _business_pages(self, req: Request, viewer: Viewer, ids: list[str]) -> Any:
        with self.state.lock:
            pages = [self.state.pages[i] for i in ids if i in self.state.pages]
        return self.paginate(req, pages, self._render_each(req, viewer, "Page"), quirk=True)

    def _owned_pages(self, req: Request, ctx: CallContext, viewer: Viewer, business: Any) -> Any:
        return self._business_pages(req, viewer, business.owned_page_ids)

    def _client_pages(self, req: Request, ctx: CallContext, viewer: Viewer, business: Any) -> Any:
        return self._business_pages(req, viewer, business.client_page_ids)

    def _permissions(self, req: Request, ctx: CallContext, viewer: Viewer, user: Any) -> Any:
        claims = viewer.claims
        scopes = claims.scopes if claims else ()
        return {"data": [{"permission": s, "status": "granted"} for s in scopes]}

    def _revoke_permissions(self, req: Request, ctx: CallContext, viewer: Viewer, user: Any) -> Any:
        with self.state.lock:
            self.state.revoked_users[user.id] = {"at": self.state.now(), "subcode": 458}
            self.state.save()
        return {"success": True}

    def _page_posts(self, req: Request, ctx: CallContext, viewer: Viewer, page: Any) -> Any:
        render = self._render_each(req, viewer, "PagePost")
        with self.state.lock:
            posts = [p for p in self.state.posts.values() if p.page_id == page.id and p.published]
        posts = self._in_window(posts, lambda p: p.created_time, req)
        return self.paginate(req, posts, render, strict_limit=True)

    def _page_photos(self, req: Request, ctx: CallContext, viewer: Viewer, page: Any) -> Any:
        render = self._render_each(req, viewer, "Photo")
        with self.state.lock:
            photos = [p for p in self.state.photos.values() if p.page_id == page.id and p.published]
        photos = self._in_window(photos, lambda p: p.created_time, req)
        return self.paginate(req, photos, render)

    def _ig_media_list(self, req: Request, ctx: CallContext, viewer: Viewer, account: Any) -> Any:
        render = self._render_each(req, viewer, "IGMedia")
        with self.state.lock:
            media = [
                m
                for m in self.state.ig_media.values()
                if m.ig_user_id == account.id and not m.is_carousel_child
            ]
        media = self._in_window(media, lambda m: m.timestamp, req)
        return self.paginate(req, media, render)

    def _publishing_limit(
        self, req: Request, ctx: CallContext, viewer: Viewer, account: Any
    ) -> Any:
        specs = parse_fields(req.param("fields")) or [FieldSpec("quota_usage")]
        entry: dict[str, Any] = {}
        for spec in specs:
            if spec.name == "quota_usage":
                entry["quota_usage"] = self.publisher.quota_usage(account.id)
            elif spec.name == "config":
                entry["config"] = {
                    "quota_total": self.state.config.quota_total,
                    "quota_duration": QUOTA_DURATION,
                }
            else:
                raise errors.nonexisting_field(spec.name, "ContentPublishingLimitResponse")
        return {"data": [entry]}

    def _engagement_edge(self, kind: str) -> Callable[[Request, CallContext, Viewer, Any], Any]:
        def handler(req: Request, ctx: CallContext, viewer: Viewer, record: Any) -> Any:
            spec = FieldSpec(kind, {"summary": req.param("summary") or "false"})
            node_type = "PagePost" if record.id in self.state.posts else "Photo"
            with self.state.lock:
                node = self._renderer(req, viewer).render(node_type, record, [spec])
            return node[kind]

        return handler
