"""The login of a Graph host that has one of its own (Threads at graph.threads.net, Instagram
with Instagram Login at graph.instagram.com), as Meta runs both: the consent dialog (the
sandbox's generic one, served at the host's `dialog_paths`) gives a code; `POST
/oauth/access_token` turns it into a short-lived token (an hour); `GET /access_token?grant_type=
<exchange grant>` turns that into a long-lived one (`long_token_seconds`, 60 days); `GET
/refresh_access_token?grant_type=<refresh grant>` gives a long-lived token at least a day old
another 60 days.

`HostLoginSpec` says what differs between the hosts (token kinds, permissions, grant types, the
answer to the code exchange); `HostLogin` serves the three routes; `mint` is the control API's
way to a token without the dialog. The code and token errors are Facebook Login's.
"""

import hmac
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from . import errors
from .context import CallContext, Request
from .errors import GraphError
from .graph import Graph
from .state import SandboxState
from .tokens import TokenClaims

SHORT_SECONDS = 3600  # a short-lived token: one hour
REFRESH_MIN_AGE = 86_400  # a long-lived token can be refreshed once it is a day old

# (the account a code's user logs in as, or None) and (the access token, its claims) → answer.
AccountOf = Callable[[str], str | None]
CodeAnswer = Callable[[str, TokenClaims], dict[str, Any]]


@dataclass(frozen=True, slots=True)
class HostLoginSpec:
    # What the control API's messages call it ("Threads").
    label: str
    short_kind: str
    long_kind: str
    # The permissions its tokens carry (the rest of a code's scopes are dropped).
    scopes: tuple[str, ...]
    # A code without it (a Facebook Login code) is not this host's: invalid here.
    required_scope: str
    exchange_grant: str  # th_exchange_token / ig_exchange_token
    refresh_grant: str  # th_refresh_token / ig_refresh_token


def refresh_too_early() -> GraphError:
    return GraphError(
        "(#100) The access token cannot be refreshed: a long-lived token can be refreshed once "
        "it is at least 24 hours old.",
        code=100,
    )


def issue(
    state: SandboxState,
    kind: str,
    user_id: str,
    scopes: tuple[str, ...],
    lifetime: int,
    *,
    now: float | None = None,
    parent: TokenClaims | None = None,
) -> TokenClaims:
    """A token of this host's `kind` for `user_id` (the host's own account id)."""
    claims = state.signer.issue_user(
        user_id=user_id,
        scopes=scopes,
        now=state.now() if now is None else now,
        lifetime=lifetime,
        long_lived=True,
        parent=parent,
    )
    return replace(claims, kind=kind)


class HostLogin:
    """The code exchange and the long-lived token's exchange and refresh of one host."""

    def __init__(
        self, graph: Graph, spec: HostLoginSpec, account_of: AccountOf, answer: CodeAnswer
    ) -> None:
        self.graph = graph
        self.state = graph.state
        self.spec = spec
        self.account_of = account_of
        self.answer = answer

    def routes(self) -> dict[str, Any]:
        return {
            "/oauth/access_token": self.code,
            "/access_token": self.exchange,
            "/refresh_access_token": self.refresh,
        }

    def _check_secret(self, req: Request, *, client_id_required: bool) -> None:
        client_id = req.param("client_id")
        if client_id_required and not client_id:
            raise GraphError("Missing client_id parameter.", code=101)
        if client_id and client_id != self.state.config.app_id:
            raise errors.invalid_app_id()
        secret = req.param("client_secret") or ""
        if not hmac.compare_digest(secret, self.state.config.app_secret):
            raise errors.invalid_client_secret()

    def code(self, req: Request, ctx: CallContext) -> Any:
        """`POST /oauth/access_token` (authorization_code) → a short-lived token."""
        self._check_secret(req, client_id_required=True)
        grant_type = req.param("grant_type") or "authorization_code"
        if grant_type != "authorization_code":
            raise errors.invalid_param(f"Unsupported grant_type: {grant_type}")
        value = req.param("code")
        if not value:
            raise errors.missing_param("code")
        now = self.state.now()
        with self.state.lock:
            code = self.state.codes.get(value)
            if code is None or self.spec.required_scope not in code.scopes:
                raise errors.code_invalid()
            if code.used_at is not None:
                raise errors.code_used()
            if now - code.created > self.state.config.code_ttl_seconds:
                raise errors.code_expired()
            if req.param("redirect_uri") != code.redirect_uri:
                raise errors.code_redirect_mismatch()
            account_id = self.account_of(code.user_id)
            if account_id is None:
                raise errors.code_invalid()
            code.used_at = now
            self.state.save()
        scopes = tuple(s for s in code.scopes if s in self.spec.scopes)
        claims = issue(self.state, self.spec.short_kind, account_id, scopes, SHORT_SECONDS)
        return self.answer(self.state.signer.encode(claims), claims)

    def _token(self, req: Request, ctx: CallContext) -> TokenClaims:
        token = req.param("access_token")
        if not token:
            raise errors.token_required()
        claims = self.graph.oauth.read_token(token)
        if claims.kind not in (self.spec.short_kind, self.spec.long_kind):
            raise errors.token_unparsable()
        ctx.token_kind = claims.kind
        return claims

    def exchange(self, req: Request, ctx: CallContext) -> Any:
        """`GET /access_token?grant_type=<exchange grant>&client_secret&access_token`: a
        short-lived token becomes a long-lived one."""
        grant = self.spec.exchange_grant
        if req.param("grant_type") != grant:
            raise errors.invalid_param(f"(#100) grant_type must be {grant}")
        self._check_secret(req, client_id_required=False)
        claims = self._token(req, ctx)
        if claims.kind != self.spec.short_kind:
            raise errors.invalid_param("(#100) Only a short-lived token can be exchanged")
        return self._long(claims)

    def refresh(self, req: Request, ctx: CallContext) -> Any:
        """`GET /refresh_access_token?grant_type=<refresh grant>&access_token`: a long-lived
        token at least a day old and not expired gets another 60 days."""
        grant = self.spec.refresh_grant
        if req.param("grant_type") != grant:
            raise errors.invalid_param(f"(#100) grant_type must be {grant}")
        claims = self._token(req, ctx)
        if claims.kind != self.spec.long_kind:
            raise errors.invalid_param("(#100) Only a long-lived token can be refreshed")
        if self.state.now() - claims.issued_at < REFRESH_MIN_AGE:
            raise refresh_too_early()
        return self._long(claims)

    def _long(self, parent: TokenClaims) -> dict[str, Any]:
        lifetime = self.state.config.long_token_seconds
        claims = issue(
            self.state, self.spec.long_kind, parent.user_id, parent.scopes, lifetime, parent=parent
        )
        return {
            "access_token": self.state.signer.encode(claims),
            "token_type": "bearer",
            "expires_in": lifetime,
        }


def mint(
    state: SandboxState,
    spec: HostLoginSpec,
    account_id: str,
    body: dict[str, Any],
    error: Callable[[str], Exception],
) -> dict[str, Any]:
    """A token of the host for `account_id` without the dialog: `body` {"kind": "long" |
    "short", "expires_in", "age_seconds" (issued that long ago), "scopes"} (the control API's;
    `error` makes its refusals)."""
    kind = body.get("kind", "long")
    if kind not in ("short", "long"):
        raise error("kind is short or long")
    scopes = body.get("scopes") or list(spec.scopes)
    if not isinstance(scopes, list) or any(s not in spec.scopes for s in scopes):
        raise error(f"scopes is a list of {spec.label} permissions")
    lifetime = SHORT_SECONDS if kind == "short" else state.config.long_token_seconds
    if body.get("expires_in") is not None:
        lifetime = int(body["expires_in"])
    age = float(body.get("age_seconds") or 0)
    token_kind = spec.short_kind if kind == "short" else spec.long_kind
    claims = issue(state, token_kind, account_id, tuple(scopes), lifetime, now=state.now() - age)
    return {
        "access_token": state.signer.encode(claims),
        "kind": kind,
        "user_id": account_id,
        "expires_in": int(claims.expires_at - state.now()),
    }
