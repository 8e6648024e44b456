"""Instagram API with Instagram Login (graph.instagram.com, "Business Login for Instagram"): an
Instagram professional account connected without a Facebook Page. A login of its own (the
consent dialog at `/oauth/authorize`, the code exchange — api.instagram.com in production —,
`ig_exchange_token`, `ig_refresh_token`), Instagram-user tokens (`ig_short`, `ig_long`) valid
at this host only, and the account's containers, `media_publish`, `content_publishing_limit`
and media listing.

Instagram accounts are the same objects whichever login reaches them, so this network keeps
its accounts in the Instagram store (`instagram.InstagramStore`, with no Page: `page_id` ""),
and its containers and media are that store's, created and published by Instagram's
`MediaPublisher` — the same validation, processing time, publish-at-most-once, quota and
faults — with this login's permission check (`authorize`: the account's own token with
`instagram_business_basic` and `instagram_business_content_publish`). What only this login
has (the app-scoped id, who logs in as the account) is its own store's. It imports
`instagram`, never the other way round; it needs the Instagram network served by another
mount (the default mounts do).

Served by a mount of its own (`instagram_login_mount()`: prefix `/instagram`, or a port).
"""

from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from html import escape
from typing import Any, cast

from .. import errors, hostlogin
from ..context import CallContext, Viewer
from ..control import ControlError
from ..errors import GraphError
from ..graph import Graph
from ..hostlogin import HostLogin, HostLoginSpec
from ..nodes import Renderer
from ..registry import EdgeHandler, EdgeKey, Found, Mount, Network, NodeType, Resolver, RouteHandler
from ..state import DEMO_USER_ID, SandboxState, UserRecord
from ..tokens import INSTAGRAM_LONG, INSTAGRAM_SHORT, TokenClaims
from . import instagram
from .instagram import IgAccountRecord, MediaPublisher

# The demo account: a professional account of the demo user, connected without a Page.
BISTRO_IG_LOGIN_ID = "17841400000000003"
BISTRO_IG_LOGIN_APP_SCOPED_ID = "8000000000000003"
# Accounts added through the control API: their own band of ids (professional, app-scoped).
EXTRA_ID_BASE = 17_841_401_000_000_000
EXTRA_APP_SCOPED_BASE = 8_000_001_000_000_000
ACCOUNT_TYPE = "BUSINESS"
BASIC = "instagram_business_basic"
PUBLISH = "instagram_business_content_publish"
COMMENTS = "instagram_business_manage_comments"
INSIGHTS = "instagram_business_manage_insights"
SCOPES = (
    BASIC,
    PUBLISH,
    COMMENTS,
    "instagram_business_manage_messages",
    "instagram_business_manage_insights",
)
KINDS = (INSTAGRAM_SHORT, INSTAGRAM_LONG)
# The IG User fields of graph.instagram.com (besides id, user_id and account_type).
USER_FIELDS = (
    "username",
    "name",
    "biography",
    "profile_picture_url",
    "followers_count",
    "follows_count",
    "media_count",
)
LOGIN = HostLoginSpec(
    label="Instagram Login",
    short_kind=INSTAGRAM_SHORT,
    long_kind=INSTAGRAM_LONG,
    scopes=SCOPES,
    required_scope=BASIC,
    exchange_grant="ig_exchange_token",
    refresh_grant="ig_refresh_token",
)


# --- records ----------------------------------------------------------------------------------


@dataclass(slots=True)
class IgLoginRecord:
    """What Instagram Login adds to an Instagram account (`InstagramStore.accounts[id]`)."""

    id: str  # the professional account id (the IG id), the Instagram store's key
    app_scoped_id: str  # what `/me`'s `id` and the code exchange's `user_id` say
    owner_user_id: str  # the person who logs in (the sandbox's demo user)
    extra: bool = False  # added through `POST /_sandbox/instagram_login/accounts`


class InstagramLoginStore:
    """The Instagram-Login accounts: their records here, their Instagram accounts (with no Page)
    in the Instagram store, cleared before this one."""

    def __init__(self, state: SandboxState) -> None:
        if instagram.InstagramNetwork.name not in state.stores:
            raise ValueError(
                "the instagram_login network keeps its accounts in the instagram network's "
                "store: serve InstagramNetwork too, on a mount before it (default_mounts does)"
            )
        self.state = state

    @property
    def ig(self) -> instagram.InstagramStore:
        return instagram.store(self.state)

    def clear(self) -> None:
        self.accounts: dict[str, IgLoginRecord] = {}
        self.by_app_scoped: dict[str, str] = {}
        self.add(
            IgLoginRecord(BISTRO_IG_LOGIN_ID, BISTRO_IG_LOGIN_APP_SCOPED_ID, DEMO_USER_ID),
            IgAccountRecord(
                BISTRO_IG_LOGIN_ID,
                "demobistro.bar",
                "Demo Bistro Bar",
                page_id="",
                followers_count=880,
                follows_count=64,
                biography="Cocktails after dark.",
            ),
        )

    def add(self, login: IgLoginRecord, account: IgAccountRecord) -> None:
        self.accounts[login.id] = login
        self.by_app_scoped[login.app_scoped_id] = login.id
        self.ig.accounts[account.id] = account

    def snapshot(self) -> dict[str, Any]:
        return {
            "instagram_login_extra_accounts": [
                {**asdict(login), "account": asdict(self.ig.accounts[login.id])}
                for login in self.accounts.values()
                if login.extra and login.id in self.ig.accounts
            ]
        }

    def load(self, data: dict[str, Any]) -> None:
        for raw in data.get("instagram_login_extra_accounts", []):
            raw = dict(raw)
            account = IgAccountRecord(**raw.pop("account"))
            self.add(IgLoginRecord(**raw), account)

    def find(self, object_id: str) -> IgLoginRecord | None:
        """The account named by its professional id or its app-scoped id."""
        return self.accounts.get(self.by_app_scoped.get(object_id, object_id))

    def login_of(self, user_id: str) -> IgLoginRecord | None:
        """The account the person logs in as through the dialog: the first one they own (the
        ones added through the control API are reached with minted tokens)."""
        return next((a for a in self.accounts.values() if a.owner_user_id == user_id), None)

    def describe(self, login: IgLoginRecord) -> dict[str, Any]:
        account = self.ig.accounts[login.id]
        return {
            "id": login.id,
            "app_scoped_id": login.app_scoped_id,
            "username": account.username,
            "name": account.name,
            "account_type": ACCOUNT_TYPE,
            "owner_user_id": login.owner_user_id,
            "extra": login.extra,
        }


def store(state: SandboxState) -> InstagramLoginStore:
    return cast(InstagramLoginStore, state.stores[InstagramLoginNetwork.name])


# --- errors -----------------------------------------------------------------------------------


def not_this_account() -> GraphError:
    # Meta documents that the token must be the account's; the words are the sandbox's.
    return GraphError(
        "(#200) The access token does not belong to this Instagram professional account",
        code=200,
        oauth_error="insufficient_scope",
    )


def account_gone() -> GraphError:
    return GraphError(
        "Error validating access token: The session is invalid because the Instagram account "
        "no longer exists.",
        code=190,
        oauth_error="invalid_token",
    )


# --- fields and permissions -------------------------------------------------------------------


def _user_fields(r: Renderer) -> dict[str, Resolver]:
    """IG User as graph.instagram.com shows it: `id` is the app-scoped id, `user_id` the
    professional account id (the one of the Facebook-login host)."""
    base = instagram.ig_user_fields(r)
    logins = store(r.state)

    def app_scoped(account: IgAccountRecord, spec: Any) -> str:
        login = logins.accounts.get(account.id)
        return login.app_scoped_id if login else account.id

    return {
        "id": app_scoped,
        "user_id": lambda a, s: a.id,
        "account_type": lambda a, s: ACCOUNT_TYPE,
        **{name: base[name] for name in USER_FIELDS},
    }


_SHARED = tuple(t for t in instagram.NODE_TYPES if t.name != "IGUser")
NODE_TYPES = (NodeType("IGUser", "/{ig-user-id}", ("id",), _user_fields), *_SHARED)


def _require_basic(claims: TokenClaims) -> None:
    if not claims.has_scope(BASIC):
        raise errors.missing_permission(BASIC)


def may_comment(viewer: Viewer, account: IgAccountRecord) -> None:
    """Commenting with Instagram Login: the account's own token with
    instagram_business_basic and instagram_business_manage_comments."""
    claims = viewer.claims
    if claims is None or claims.kind not in KINDS:
        raise errors.missing_permission(COMMENTS)
    if claims.user_id != account.id:
        raise not_this_account()
    if not claims.has_scope(BASIC, COMMENTS):
        raise errors.missing_permission(f"{BASIC} and {COMMENTS}")


def may_read_insights(viewer: Viewer, account: IgAccountRecord) -> None:
    """Insights with Instagram Login: the account's own token with instagram_business_basic
    and instagram_business_manage_insights."""
    claims = viewer.claims
    if claims is None or claims.kind not in KINDS:
        raise errors.missing_permission(INSIGHTS)
    if claims.user_id != account.id:
        raise not_this_account()
    if not claims.has_scope(BASIC, INSIGHTS):
        raise errors.missing_permission(f"{BASIC} and {INSIGHTS}")


def authorize(viewer: Viewer, account: IgAccountRecord) -> None:
    """Publishing with Instagram Login: the account's own Instagram-user token, with
    instagram_business_basic and instagram_business_content_publish."""
    claims = viewer.claims
    if claims is None or claims.kind not in KINDS:
        raise errors.missing_permission(PUBLISH)
    if claims.user_id != account.id:
        raise not_this_account()
    if not claims.has_scope(BASIC, PUBLISH):
        raise errors.missing_permission(f"{BASIC} and {PUBLISH}")


# --- control ----------------------------------------------------------------------------------


def add_accounts(state: SandboxState, body: dict[str, Any]) -> dict[str, Any]:
    """`POST /_sandbox/instagram_login/accounts` {"count", "name_prefix"}: more professional
    accounts of the demo user without a Page (the reliability suite publishes to many). Kept in
    the state file, forgotten by reset."""
    count = body.get("count", 1)
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 1000:
        raise ControlError("count is an integer from 1 to 1000")
    prefix = str(body.get("name_prefix") or "Load Test Instagram")
    logins = store(state)
    created = []
    with state.lock:
        for _ in range(count):
            number = state.next_number()
            login = IgLoginRecord(
                id=str(EXTRA_ID_BASE + number),
                app_scoped_id=str(EXTRA_APP_SCOPED_BASE + number),
                owner_user_id=DEMO_USER_ID,
                extra=True,
            )
            account = IgAccountRecord(
                login.id, f"iglogin{number}", f"{prefix} {number}", page_id="", extra=True
            )
            logins.add(login, account)
            created.append(logins.describe(login))
        state.save()
    return {"accounts": created}


def control(state: SandboxState, method: str, parts: list[str], body: dict[str, Any]) -> Any:
    """`GET /_sandbox/instagram_login` (or `/accounts`): the accounts; `POST
    /_sandbox/instagram_login/accounts`: more accounts (`add_accounts`); `POST
    /_sandbox/instagram_login/tokens` {"kind": "long" | "short", "user_id", "expires_in",
    "age_seconds", "scopes"}: an Instagram-user token without the dialog."""
    logins = store(state)
    if method == "GET" and parts in ([], ["accounts"]):
        with state.lock:
            return {"accounts": [logins.describe(a) for a in logins.accounts.values()]}
    if method == "POST" and parts == ["accounts"]:
        return add_accounts(state, body)
    if method != "POST" or parts != ["tokens"]:
        path = "/".join(parts)
        raise ControlError(f"no control endpoint {method} /_sandbox/instagram_login/{path}")
    wanted = str(body.get("user_id") or BISTRO_IG_LOGIN_ID)
    with state.lock:
        login = logins.find(wanted)
    if login is None:
        raise ControlError(f"unknown Instagram Login account {wanted}")
    return hostlogin.mint(state, LOGIN, login.id, body, ControlError)


# --- the network --------------------------------------------------------------------------------


class InstagramLoginNetwork(Network):
    name = "instagram_login"
    label = "Instagram API with Instagram Login (sandbox)"
    scopes = SCOPES
    token_kinds = KINDS
    host_token_kinds = KINDS
    dialog_paths = ("/oauth/authorize",)

    def create_store(self, state: SandboxState) -> InstagramLoginStore:
        return InstagramLoginStore(state)

    def node_types(self) -> Iterable[NodeType]:
        return NODE_TYPES

    def me(self, state: SandboxState, claims: TokenClaims) -> Found | None:
        if claims.kind not in KINDS:
            return None
        account = instagram.store(state).accounts.get(claims.user_id)
        if account is None or claims.user_id not in store(state).accounts:
            raise account_gone()
        _require_basic(claims)
        return "IGUser", account

    def lookup(
        self, state: SandboxState, object_id: str, claims: TokenClaims | None, ctx: CallContext
    ) -> Found | None:
        """Only the token's own account and its containers and media (by professional or
        app-scoped id); anything else is not there for it (100/33)."""
        if claims is None or claims.kind not in KINDS:
            return None
        own = claims.user_id
        ig = instagram.store(state)
        found: Found | None = None
        login = store(state).find(object_id)
        if login is not None and login.id == own and own in ig.accounts:
            found = "IGUser", ig.accounts[own]
        container = ig.containers.get(object_id)
        if found is None and container is not None and container.ig_user_id == own:
            found = "ShadowIGMediaBuilder", container
        media = ig.media.get(object_id)
        if media is not None and not media.live(state.now()):
            media = None
        if found is None and media is not None and media.ig_user_id == own:
            found = "IGMedia", media
        comment = ig.comments.get(object_id)
        if found is None and comment is not None and comment.owner_id == own:
            found = "IGComment", comment
        if found is None:
            return None
        _require_basic(claims)
        ctx.touch(own, "instagram")
        return found

    def routes(self, graph: Graph) -> dict[str, RouteHandler]:
        logins = store(graph.state)

        def account_of(user_id: str) -> str | None:
            login = logins.login_of(user_id)
            return login.id if login else None

        def answer(token: str, claims: TokenClaims) -> dict[str, Any]:
            # Meta's documented shape of Business Login's code exchange.
            login = logins.accounts[claims.user_id]
            entry = {
                "access_token": token,
                "user_id": login.app_scoped_id,
                "permissions": ",".join(claims.scopes),
            }
            return {"data": [entry]}

        return HostLogin(graph, LOGIN, account_of, answer).routes()

    def edges(self, graph: Graph) -> dict[EdgeKey, EdgeHandler]:
        return instagram.account_edges(
            graph, MediaPublisher(graph.state, authorize), may_comment, may_read_insights
        )

    def dialog_note(self, state: SandboxState, user: UserRecord) -> str:
        logins = store(state)
        login = logins.login_of(user.id)
        if login is None:
            return ""
        account = logins.ig.accounts[login.id]
        return (
            "<p class='muted'>Instagram professional account "
            f"<strong>@{escape(account.username)}</strong> ({escape(account.name)}, no Facebook "
            f"Page; for apps that ask for <code>{BASIC}</code>)</p>"
        )

    def control(self) -> dict[str, Any]:
        return {"instagram_login": control}

    def published(self, state: SandboxState, base_url: str) -> tuple[dict[str, Any], dict]:
        """Its media are in Instagram's lists (`login: "instagram"`); here only its counts."""
        logins = store(state)
        media = [
            m
            for m in logins.ig.media.values()
            if m.ig_user_id in logins.accounts and not m.is_carousel_child
        ]
        summary = {
            "instagram_login_accounts": len(logins.accounts),
            "instagram_login_media": len(media),
            "instagram_login_media_by_type": dict(Counter(m.media_type for m in media)),
        }
        return {}, summary

    def index_html(self, state: SandboxState) -> str:
        logins = store(state)
        shown = list(logins.accounts.values())[:50]
        rows = "".join(
            f"<tr><td>@{escape(d['username'])}</td><td>{escape(d['name'])}</td>"
            f"<td><code>{escape(d['id'])}</code></td>"
            f"<td><code>{escape(d['app_scoped_id'])}</code></td></tr>"
            for d in (logins.describe(login) for login in shown)
        )
        more = len(logins.accounts) - len(shown)
        extra = f"<p class='muted'>… and {more} more.</p>" if more > 0 else ""
        return f"""
<h2>Instagram with Instagram Login</h2>
<p class='muted'>Professional accounts without a Facebook Page, at <code>/instagram</code>
(graph.instagram.com); their media are listed with the Instagram media.</p>
<table><tr><th>account</th><th>name</th><th>id</th><th>app-scoped id</th></tr>
{rows}</table>{extra}"""


def instagram_login_mount(*, prefix: str = "/instagram", port: int | None = None) -> Mount:
    """Instagram with Instagram Login as its own Graph host: at `prefix` on the main port, or
    on `port`."""
    return Mount(
        name="instagram_login",
        label="Instagram API with Instagram Login (graph.instagram.com)",
        networks=(InstagramLoginNetwork(),),
        prefix="" if port is not None else prefix,
        port=port,
    )
