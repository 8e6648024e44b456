"""Facebook Login as the product meets it: the OAuth dialog's decisions, the code exchange, the
long-lived token exchange, app tokens, `debug_token` and `oauth/access_token_info`.

Shared by the networks that log in with Facebook (Pages, Instagram business accounts); the
Facebook network mounts its token routes, and each network says in `scope_targets` what a
permission was granted on."""

import hmac
import secrets
import urllib.parse
from typing import Any

from . import errors
from .context import Request
from .errors import GraphError
from .media import is_http_url
from .state import AuthCode, SandboxConfig, SandboxState
from .tokens import SCOPE_BITS, TokenClaims, TokenParseError

KNOWN_SCOPES = frozenset(SCOPE_BITS)
# Meta appends this fragment to every redirect out of its login dialog.
FRAGMENT = "#_=_"


def split_scopes(text: str | None) -> list[str]:
    seen: list[str] = []
    for part in (text or "").replace(" ", ",").split(","):
        part = part.strip()
        if part and part not in seen:
            seen.append(part)
    return seen


def token_problem(state: SandboxState, claims: TokenClaims) -> GraphError | None:
    """Why a well-formed token is no longer accepted (expired, revoked), or None."""
    now = state.now()
    if claims.expires_at and now >= claims.expires_at:
        return errors.token_expired(claims.expires_at, now)
    with state.lock:
        subcode = state.revocation_subcode(claims.user_id, claims.issued_at, claims.lineage)
    if subcode:
        return errors.token_revoked(subcode, state.config.app_id)
    return None


def _with_params(url: str, params: dict[str, str]) -> str:
    separator = "&" if urllib.parse.urlsplit(url).query else "?"
    if url.endswith(("?", "&")):
        separator = ""
    return f"{url}{separator}{urllib.parse.urlencode(params)}{FRAGMENT}"


class OAuth:
    def __init__(self, state: SandboxState) -> None:
        self.state = state

    @property
    def config(self) -> SandboxConfig:
        return self.state.config

    # --- the dialog ---------------------------------------------------------------------------

    def dialog_problem(self, params: dict[str, str]) -> str | None:
        """Why the dialog cannot even redirect back (shown as an HTML page), or None."""
        client_id = params.get("client_id") or params.get("app_id")
        if not client_id:
            return "The parameter app_id is required."
        if client_id != self.config.app_id:
            return "Invalid App ID: The provided app ID does not look like a valid app ID."
        redirect_uri = params.get("redirect_uri")
        if not redirect_uri:
            return "The parameter redirect_uri is required."
        if not is_http_url(redirect_uri):
            return (
                "URL Blocked: This redirect failed because the redirect URI is not whitelisted "
                "in the app's Client OAuth Settings."
            )
        if params.get("response_type", "code") != "code":
            return "The sandbox supports response_type=code only."
        invalid = [s for s in split_scopes(params.get("scope")) if s not in KNOWN_SCOPES]
        if invalid:
            return f"Invalid Scopes: {', '.join(invalid)}."
        return None

    def allow(self, params: dict[str, str], granted: list[str], user_id: str) -> str:
        """Record an authorization code and answer the redirect back to the app."""
        scopes = ["public_profile", *[s for s in granted if s != "public_profile"]]
        code = AuthCode(
            code="AQ" + secrets.token_urlsafe(48),
            client_id=params.get("client_id") or params.get("app_id") or "",
            redirect_uri=params["redirect_uri"],
            user_id=user_id,
            scopes=scopes,
            created=self.state.now(),
        )
        with self.state.lock:
            horizon = self.state.now() - 3600
            for old in [c for c in self.state.codes.values() if c.created < horizon]:
                del self.state.codes[old.code]
            self.state.codes[code.code] = code
            self.state.save()
        back = {"code": code.code}
        if params.get("state"):
            back["state"] = params["state"]
        return _with_params(params["redirect_uri"], back)

    def deny(self, params: dict[str, str]) -> str:
        back = {
            "error": "access_denied",
            "error_code": "200",
            "error_description": "Permissions error",
            "error_reason": "user_denied",
        }
        if params.get("state"):
            back["state"] = params["state"]
        return _with_params(params["redirect_uri"], back)

    # --- /oauth/access_token ------------------------------------------------------------------

    def _check_client(self, req: Request) -> None:
        client_id = req.param("client_id")
        if not client_id:
            raise GraphError("Missing client_id parameter.", code=101)
        if client_id != self.config.app_id:
            raise errors.invalid_app_id()
        secret = req.param("client_secret") or ""
        if not hmac.compare_digest(secret, self.config.app_secret):
            raise errors.invalid_client_secret()

    def access_token(self, req: Request) -> dict[str, Any]:
        grant_type = req.param("grant_type") or "authorization_code"
        self._check_client(req)
        if grant_type == "client_credentials":
            return {"access_token": self.state.signer.app_token(), "token_type": "bearer"}
        if grant_type == "fb_exchange_token":
            return self._exchange(req)
        if grant_type != "authorization_code":
            raise errors.invalid_param(f"Unsupported grant_type: {grant_type}")
        return self._redeem_code(req)

    def _redeem_code(self, req: Request) -> dict[str, Any]:
        value = req.param("code")
        if not value:
            raise errors.missing_param("code")
        now = self.state.now()
        with self.state.lock:
            code = self.state.codes.get(value)
            if code is None:
                raise errors.code_invalid()
            if code.used_at is not None:
                raise errors.code_used()
            if now - code.created > self.config.code_ttl_seconds:
                raise errors.code_expired()
            if req.param("redirect_uri") != code.redirect_uri:
                raise errors.code_redirect_mismatch()
            code.used_at = now
            self.state.save()
        claims = self.state.signer.issue_user(
            user_id=code.user_id,
            scopes=tuple(code.scopes),
            now=now,
            lifetime=self.config.short_token_seconds,
            long_lived=False,
        )
        return {
            "access_token": self.state.signer.encode(claims),
            "token_type": "bearer",
            "expires_in": self.config.short_token_seconds,
        }

    def read_token(self, token: str) -> TokenClaims:
        """A user or Page token that must be alive, or the 190 error Meta gives."""
        try:
            claims = self.state.signer.decode(token)
        except TokenParseError as exc:
            raise errors.token_unparsable() from exc
        problem = token_problem(self.state, claims)
        if problem is not None:
            raise problem
        return claims

    def _exchange(self, req: Request) -> dict[str, Any]:
        token = req.param("fb_exchange_token")
        if not token:
            raise errors.missing_param("fb_exchange_token")
        claims = self.read_token(token)
        signer = self.state.signer
        if claims.is_page:
            # A Page token exchanged is a Page token that never expires.
            derived = signer.derive_page(
                signer.issue_user(
                    user_id=claims.user_id,
                    scopes=claims.scopes,
                    now=self.state.now(),
                    lifetime=self.config.long_token_seconds,
                    long_lived=True,
                    parent=claims,
                ),
                claims.page_id or "",
            )
            return {"access_token": signer.encode(derived), "token_type": "bearer"}
        long_lived = signer.issue_user(
            user_id=claims.user_id,
            scopes=claims.scopes,
            now=self.state.now(),
            lifetime=self.config.long_token_seconds,
            long_lived=True,
            parent=claims,
        )
        return {
            "access_token": signer.encode(long_lived),
            "token_type": "bearer",
            "expires_in": self.config.long_token_seconds,
        }

    def access_token_info(self, req: Request, token: str | None) -> dict[str, Any]:
        if not token:
            raise errors.token_required()
        claims = self.read_token(token)
        info: dict[str, Any] = {"access_token": token, "token_type": "bearer"}
        expires_in = claims.expires_in(self.state.now())
        if expires_in is not None:
            info["expires_in"] = expires_in
        return info

    # --- /debug_token -------------------------------------------------------------------------

    def debug_token(self, req: Request, caller_token: str | None) -> dict[str, Any]:
        if not caller_token:
            raise errors.token_required()
        if not self.state.signer.is_app_token(caller_token):
            # A developer's own user token may inspect tokens too.
            self.read_token(caller_token)
        input_token = req.param("input_token")
        if not input_token:
            raise errors.missing_param("input_token")
        if self.state.signer.is_app_token(input_token):
            return {
                "data": {
                    "app_id": self.config.app_id,
                    "type": "APP",
                    "application": self.config.app_name,
                    "is_valid": True,
                }
            }
        try:
            claims = self.state.signer.decode(input_token)
        except TokenParseError:
            return {
                "data": {
                    "error": {
                        "code": 190,
                        "message": "Invalid OAuth access token - Cannot parse access token",
                    },
                    "is_valid": False,
                    "scopes": [],
                }
            }
        data: dict[str, Any] = {
            "app_id": claims.app_id,
            "type": "PAGE" if claims.is_page else "USER",
            "application": self.config.app_name,
            "data_access_expires_at": claims.data_access_expires_at,
            "expires_at": claims.expires_at,
            "is_valid": True,
            "issued_at": int(claims.issued_at),
        }
        if claims.is_page:
            data["profile_id"] = claims.page_id
        data["scopes"] = list(claims.scopes)
        data["granular_scopes"] = self._granular(claims)
        data["user_id"] = claims.user_id
        problem = token_problem(self.state, claims)
        if problem is not None:
            data["is_valid"] = False
            error: dict[str, Any] = {"code": problem.code, "message": problem.message}
            if problem.subcode is not None:
                error["subcode"] = problem.subcode
            data["error"] = error
        return {"data": data}

    def _granular(self, claims: TokenClaims) -> list[dict[str, Any]]:
        """Each permission with the ids it was granted on, as each network knows them."""
        targets: dict[str, list[str]] = {}
        with self.state.lock:
            for network in self.state.networks:
                targets.update(network.scope_targets(self.state, claims.user_id))
        out: list[dict[str, Any]] = []
        for scope in claims.scopes:
            if scope in targets:
                out.append({"scope": scope, "target_ids": targets[scope]})
            elif scope != "public_profile":
                out.append({"scope": scope})
        return out
