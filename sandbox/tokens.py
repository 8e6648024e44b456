"""Stateless, signed access tokens, so that tokens survive a restart of the sandbox.

A token is `EAAS<payload>.<signature>`: the payload (base64url) says what kind of token it
is (short-lived user, long-lived user, page, and the user tokens of the hosts with a login of
their own: Threads, Instagram with Instagram Login), whose it is, when it expires, its scopes
and a random nonce; the signature is an HMAC-SHA256 keyed with a key derived from the app secret.
Only revocations are state (see `state.Revocations`).

`lineage` lists the nonces of the token and of the tokens it was derived from (short-lived user
→ long-lived user → page), so that revoking one token also revokes everything derived from it.
"""

import base64
import binascii
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field, replace

SHORT = "short"
LONG = "long"
PAGE = "page"
# Threads user tokens (graph.threads.net): short-lived (an hour) and long-lived (60 days).
THREADS_SHORT = "th_short"
THREADS_LONG = "th_long"
# Instagram-user tokens of Instagram with Instagram Login (graph.instagram.com): short-lived (an
# hour) and long-lived (60 days).
INSTAGRAM_SHORT = "ig_short"
INSTAGRAM_LONG = "ig_long"
KINDS = (SHORT, LONG, PAGE, THREADS_SHORT, THREADS_LONG, INSTAGRAM_SHORT, INSTAGRAM_LONG)
PREFIX = "EAAS"
# The permissions a token can carry, as bits of its payload (append only: order is the format).
SCOPE_BITS = (
    "public_profile",
    "email",
    "pages_show_list",
    "pages_read_engagement",
    "pages_read_user_content",
    "pages_manage_posts",
    "pages_manage_metadata",
    "pages_manage_engagement",
    "pages_messaging",
    "read_insights",
    "publish_video",
    "instagram_basic",
    "instagram_content_publish",
    "instagram_manage_comments",
    "instagram_manage_insights",
    "business_management",
    "threads_basic",
    "threads_content_publish",
    "threads_manage_insights",
    "threads_read_replies",
    "threads_manage_replies",
    "instagram_business_basic",
    "instagram_business_content_publish",
    "instagram_business_manage_comments",
    "instagram_business_manage_messages",
    "instagram_business_manage_insights",
)
DATA_ACCESS_SECONDS = 90 * 86400


class TokenParseError(ValueError):
    """The text is not a token this sandbox issued (or it was signed with another secret)."""


@dataclass(frozen=True, slots=True)
class TokenClaims:
    kind: str
    app_id: str
    user_id: str
    issued_at: float
    # Unix time; 0 means never (page tokens derived from a long-lived user token).
    expires_at: int
    scopes: tuple[str, ...]
    nonce: str
    lineage: tuple[str, ...] = ()
    page_id: str | None = None
    data_access_expires_at: int = 0

    @property
    def is_user(self) -> bool:
        return self.kind in (SHORT, LONG)

    @property
    def is_page(self) -> bool:
        return self.kind == PAGE

    def has_scope(self, *scopes: str) -> bool:
        return all(scope in self.scopes for scope in scopes)

    def expires_in(self, now: float) -> int | None:
        return None if not self.expires_at else max(int(self.expires_at - now), 0)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def appsecret_proof(token: str, app_secret: str) -> str:
    """Meta's `appsecret_proof`: hex HMAC-SHA256 of the access token keyed with the app secret."""
    return hmac.new(app_secret.encode(), token.encode(), hashlib.sha256).hexdigest()


@dataclass(slots=True)
class TokenSigner:
    """Issues and reads the tokens of one app."""

    app_id: str
    app_secret: str = field(repr=False)
    _key: bytes = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._key = hmac.new(
            self.app_secret.encode(), b"sandbox-token-signing-v1", hashlib.sha256
        ).digest()

    def _sign(self, payload: str) -> str:
        return _b64(hmac.new(self._key, payload.encode(), hashlib.sha256).digest()[:24])

    def encode(self, claims: TokenClaims) -> str:
        mask = 0
        for scope in claims.scopes:
            if scope in SCOPE_BITS:
                mask |= 1 << SCOPE_BITS.index(scope)
        fields = [
            claims.kind,
            claims.app_id,
            claims.user_id,
            str(round(claims.issued_at * 1000)),
            str(claims.expires_at),
            format(mask, "x"),
            ",".join(claims.lineage or (claims.nonce,)),
            claims.page_id or "",
            str(claims.data_access_expires_at),
        ]
        payload = _b64("|".join(fields).encode())
        return f"{PREFIX}{payload}.{self._sign(payload)}"

    def decode(self, token: str) -> TokenClaims:
        if not token.startswith(PREFIX) or "." not in token:
            raise TokenParseError("not a sandbox token")
        payload, _, signature = token[len(PREFIX) :].partition(".")
        if not hmac.compare_digest(signature, self._sign(payload)):
            raise TokenParseError("bad signature")
        try:
            fields = _unb64(payload).decode().split("|")
            kind, app_id, user_id, issued, expires, mask_hex, lineage, page_id, data_access = fields
            mask = int(mask_hex, 16)
            nonces = tuple(lineage.split(","))
            claims = TokenClaims(
                kind=kind,
                app_id=app_id,
                user_id=user_id,
                issued_at=int(issued) / 1000,
                expires_at=int(expires),
                scopes=tuple(s for i, s in enumerate(SCOPE_BITS) if mask >> i & 1),
                nonce=nonces[-1],
                lineage=nonces,
                page_id=page_id or None,
                data_access_expires_at=int(data_access),
            )
        except (ValueError, UnicodeDecodeError, binascii.Error) as exc:
            raise TokenParseError("unreadable payload") from exc
        if claims.kind not in KINDS or claims.app_id != self.app_id:
            raise TokenParseError("not a token of this app")
        return claims

    # --- issuing ------------------------------------------------------------------------------

    def issue_user(
        self,
        *,
        user_id: str,
        scopes: tuple[str, ...],
        now: float,
        lifetime: int,
        long_lived: bool,
        parent: TokenClaims | None = None,
    ) -> TokenClaims:
        nonce = secrets.token_urlsafe(9)
        lineage = (*(parent.lineage if parent else ()), nonce)
        return TokenClaims(
            kind=LONG if long_lived else SHORT,
            app_id=self.app_id,
            user_id=user_id,
            issued_at=now,
            expires_at=int(now + lifetime),
            scopes=scopes,
            nonce=nonce,
            lineage=lineage,
            data_access_expires_at=int(now + DATA_ACCESS_SECONDS),
        )

    def derive_page(self, parent: TokenClaims, page_id: str) -> TokenClaims:
        """The Page token a user token gets for one of its Pages: the same string every time
        (as with Meta), never expiring when the user token is long-lived."""
        nonce = _b64(
            hmac.new(self._key, f"{parent.nonce}:{page_id}".encode(), hashlib.sha256).digest()[:9]
        )
        return replace(
            parent,
            kind=PAGE,
            page_id=page_id,
            expires_at=0 if parent.kind == LONG else parent.expires_at,
            nonce=nonce,
            lineage=(*parent.lineage, nonce),
        )

    # --- app tokens -----------------------------------------------------------------------------

    def app_token(self) -> str:
        digest = hmac.new(self._key, b"app-access-token", hashlib.sha256).digest()
        return f"{self.app_id}|{_b64(digest)[:27]}"

    def is_app_token(self, token: str) -> bool:
        """`app_id|app_secret`, or the app token `grant_type=client_credentials` hands out."""
        return hmac.compare_digest(token, f"{self.app_id}|{self.app_secret}") or (
            hmac.compare_digest(token, self.app_token())
        )
