"""The sandbox Graph API over real HTTP: the OAuth dialog, tokens, discovery, fields, errors.

Each test starts its own `SandboxServer(port=0)` in a thread; no database is involved. The helpers
here (`SandboxApi`, `running_sandbox`) are shared by the other test_sandbox_*.py files.
"""

import contextlib
import io
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from sandbox import (
    BAKERY_PAGE_ID,
    BISTRO_IG_ID,
    BISTRO_PAGE_ID,
    CATERING_IG_ID,
    CATERING_PAGE_ID,
    DEMO_BUSINESS_ID,
    DEMO_USER_ID,
    SandboxServer,
    appsecret_proof,
)

ROOT = Path(__file__).resolve().parents[2]
SECRET = "sandbox-secret"
REDIRECT = "http://app.example/accounts/facebook/login/callback/"
PUBLISH_SCOPES = (
    "pages_show_list",
    "pages_read_engagement",
    "pages_manage_posts",
    "instagram_basic",
    "instagram_content_publish",
    "business_management",
)


class SandboxApi:
    """A thin httpx client for one running sandbox."""

    def __init__(self, server: SandboxServer) -> None:
        self.server = server
        self.base_url = server.base_url
        self.http = httpx.Client(base_url=server.base_url, timeout=10)

    def graph(
        self,
        method: str,
        path: str,
        token: str | None = None,
        *,
        params: dict[str, Any] | None = None,
        data: dict[str, Any] | None = None,
        files: dict[str, Any] | None = None,
        proof: bool = True,
        via: str = "header",
        timeout: float | None = None,
    ) -> httpx.Response:
        params = dict(params or {})
        headers = {}
        if token is not None:
            if via == "header":
                headers["Authorization"] = f"OAuth {token}"
            elif via == "bearer":
                headers["Authorization"] = f"Bearer {token}"
            elif method == "GET" or data is None:
                params["access_token"] = token
            else:
                data = {**data, "access_token": token}
            if proof:
                target = data if data is not None and method != "GET" else params
                target["appsecret_proof"] = appsecret_proof(token, SECRET)
        return self.http.request(
            method,
            f"/v25.0{path}",
            params=params,
            data=data,
            files=files,
            headers=headers,
            timeout=timeout if timeout is not None else 10,
        )

    def get(self, path: str, token: str | None = None, **params: Any) -> httpx.Response:
        return self.graph("GET", path, token, params=params)

    def post(
        self, path: str, token: str | None, files: dict[str, Any] | None = None, **data: Any
    ) -> httpx.Response:
        return self.graph("POST", path, token, data=data, files=files)

    def control(self, method: str, path: str, body: Any = None) -> Any:
        response = self.http.request(method, f"/_sandbox/{path}", json=body)
        assert response.status_code < 300, response.text
        return response.json()

    def configure(self, **values: Any) -> Any:
        return self.control("POST", "config", values)

    def advance(self, seconds: float) -> None:
        self.control("POST", "clock", {"advance_seconds": seconds})

    def fault(self, **spec: Any) -> dict[str, Any]:
        created: dict[str, Any] = self.control("POST", "faults", spec)["faults"][0]
        return created

    def published(self) -> dict[str, Any]:
        answer: dict[str, Any] = self.control("GET", "published")
        return answer

    def token(self, kind: str = "long", **extra: Any) -> str:
        token: str = self.control("POST", "tokens", {"kind": kind, **extra})["access_token"]
        return token

    def page_token(self, page_id: str = BISTRO_PAGE_ID, **extra: Any) -> str:
        return self.token("page", page_id=page_id, **extra)

    def dialog_code(
        self, scopes: tuple[str, ...] = PUBLISH_SCOPES, redirect_uri: str = REDIRECT
    ) -> str:
        response = self.http.post(
            "/v25.0/dialog/oauth",
            data={
                "client_id": "sandbox-app",
                "redirect_uri": redirect_uri,
                "scope": ",".join(scopes),
                "state": "st4te",
                "decision": "allow",
            },
        )
        assert response.status_code == 302, response.text
        return query_of(response.headers["location"])["code"]

    def exchange(self, code: str, redirect_uri: str = REDIRECT, **extra: str) -> httpx.Response:
        params = {
            "client_id": "sandbox-app",
            "client_secret": SECRET,
            "redirect_uri": redirect_uri,
            "code": code,
            **extra,
        }
        return self.http.get("/v25.0/oauth/access_token", params=params)

    def debug(self, token: str) -> dict[str, Any]:
        response = self.http.get(
            "/v25.0/debug_token",
            params={"input_token": token, "access_token": f"sandbox-app|{SECRET}"},
        )
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()["data"]
        return data


def query_of(url: str) -> dict[str, str]:
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))


def graph_error(response: httpx.Response) -> dict[str, Any]:
    error: dict[str, Any] = response.json()["error"]
    assert error["fbtrace_id"]
    return error


@contextlib.contextmanager
def running_sandbox(**options: Any) -> Iterator[SandboxApi]:
    options.setdefault("processing_seconds", 0)
    options.setdefault("fetch_timeout_seconds", 3)
    with SandboxServer(port=0, **options) as server:
        api = SandboxApi(server)
        try:
            yield api
        finally:
            api.http.close()


def image_bytes(fmt: str = "JPEG", size: tuple[int, int] = (120, 100)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 80, 40)).save(buffer, fmt)
    return buffer.getvalue()


class ImageHost:
    """A tiny local web server the sandbox fetches images from (as Meta fetches URLs)."""

    def __init__(self) -> None:
        self.routes: dict[str, tuple[int, str, bytes]] = {
            "/photo.jpg": (200, "image/jpeg", image_bytes()),
            "/square.jpg": (200, "image/jpeg", image_bytes(size=(100, 100))),
            "/photo.png": (200, "image/png", image_bytes("PNG")),
            "/panorama.jpg": (200, "image/jpeg", image_bytes(size=(400, 100))),
            "/page.html": (200, "text/html", b"<html><body>not an image</body></html>"),
        }
        self.requests: list[str] = []
        host = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                host.requests.append(self.path)
                if self.path == "/slow.jpg":
                    time.sleep(1.5)
                status, content_type, body = host.routes.get(
                    self.path, (404, "text/plain", b"not found")
                )
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def sandbox() -> Iterator[SandboxApi]:
    with running_sandbox() as api:
        yield api


@pytest.fixture
def image_host() -> Iterator[ImageHost]:
    host = ImageHost()
    yield host
    host.close()


# --- the OAuth dialog -----------------------------------------------------------------------


def dialog_params(**extra: str) -> dict[str, str]:
    return {
        "client_id": "sandbox-app",
        "redirect_uri": REDIRECT,
        "state": "st4te",
        "scope": "pages_show_list,pages_manage_posts",
        "response_type": "code",
        **extra,
    }


def test_dialog_is_a_consent_page_labelled_sandbox(sandbox: SandboxApi) -> None:
    response = sandbox.http.get("/v25.0/dialog/oauth", params=dialog_params())

    assert response.status_code == 200
    page = response.text
    assert "SANDBOX — not Facebook" in page
    assert "Social Automation (sandbox)" in page
    assert "pages_show_list" in page
    assert "pages_manage_posts" in page
    assert "Sandy Sandbox" in page
    assert "value='allow'" in page
    assert "value='deny'" in page
    assert "method='post'" in page


def test_dialog_allow_redirects_back_with_a_code_and_the_state(sandbox: SandboxApi) -> None:
    response = sandbox.http.post(
        "/v25.0/dialog/oauth", data={**dialog_params(), "decision": "allow"}
    )

    assert response.status_code == 302
    location = response.headers["location"]
    assert location.startswith(REDIRECT + "?")
    query = query_of(location)
    assert query["state"] == "st4te"
    assert query["code"].startswith("AQ")


def test_dialog_deny_redirects_back_with_metas_error(sandbox: SandboxApi) -> None:
    response = sandbox.http.post(
        "/v25.0/dialog/oauth", data={**dialog_params(), "decision": "deny"}
    )

    assert response.status_code == 302
    assert query_of(response.headers["location"]) == {
        "error": "access_denied",
        "error_code": "200",
        "error_description": "Permissions error",
        "error_reason": "user_denied",
        "state": "st4te",
    }
    assert "error_description=Permissions+error" in response.headers["location"]


@pytest.mark.parametrize(
    ("change", "text"),
    [
        ({"client_id": "someone-else"}, "Invalid App ID"),
        ({"redirect_uri": ""}, "redirect_uri is required"),
        ({"scope": "pages_show_list,read_minds"}, "Invalid Scopes: read_minds"),
    ],
)
def test_dialog_errors_are_pages_not_redirects(
    sandbox: SandboxApi, change: dict[str, str], text: str
) -> None:
    params = {k: v for k, v in {**dialog_params(), **change}.items() if v}

    response = sandbox.http.get("/v25.0/dialog/oauth", params=params)

    assert response.status_code == 400
    assert "location" not in response.headers
    assert text in response.text
    assert "SANDBOX — not Facebook" in response.text


def test_dialog_grants_only_the_ticked_permissions(sandbox: SandboxApi) -> None:
    form = [
        *dialog_params(scope="pages_show_list,pages_manage_posts,business_management").items(),
        ("scopes_form", "1"),
        ("granted_scopes", "pages_show_list"),
        ("granted_scopes", "business_management"),
        ("decision", "allow"),
    ]
    response = sandbox.http.post(
        "/dialog/oauth",
        content=urllib.parse.urlencode(form),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    code = query_of(response.headers["location"])["code"]

    token = sandbox.exchange(code).json()["access_token"]

    assert sandbox.debug(token)["scopes"] == [
        "public_profile",
        "pages_show_list",
        "business_management",
    ]


def test_auto_consent_answers_the_dialog_at_once(sandbox: SandboxApi) -> None:
    sandbox.configure(auto_consent="allow")

    response = sandbox.http.get("/v25.0/dialog/oauth", params=dialog_params())

    assert response.status_code == 302
    assert "code=" in response.headers["location"]


# --- the code exchange ----------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_code_exchange_gives_a_short_lived_user_token(sandbox: SandboxApi, method: str) -> None:
    code = sandbox.dialog_code()
    fields = {
        "client_id": "sandbox-app",
        "client_secret": SECRET,
        "redirect_uri": REDIRECT,
        "code": code,
        "grant_type": "authorization_code",
    }

    if method == "GET":
        response = sandbox.http.get("/v25.0/oauth/access_token", params=fields)
    else:
        response = sandbox.http.post("/v25.0/oauth/access_token", data=fields)

    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert 3600 <= body["expires_in"] <= 7200
    info = sandbox.debug(body["access_token"])
    assert info["type"] == "USER"
    assert info["is_valid"] is True
    assert info["user_id"] == DEMO_USER_ID


def test_a_code_is_single_use(sandbox: SandboxApi) -> None:
    code = sandbox.dialog_code()
    assert sandbox.exchange(code).status_code == 200

    again = sandbox.exchange(code)

    assert again.status_code == 400
    error = graph_error(again)
    assert (error["code"], error["error_subcode"]) == (100, 36009)
    assert error["message"] == "This authorization code has been used."
    assert error["type"] == "OAuthException"
    assert "invalid_code" in again.headers["www-authenticate"]


def test_the_redirect_uri_must_be_the_dialogs(sandbox: SandboxApi) -> None:
    code = sandbox.dialog_code()

    response = sandbox.exchange(code, redirect_uri=REDIRECT + "other/")

    error = graph_error(response)
    assert (error["code"], error["error_subcode"]) == (100, 36008)
    assert error["message"].startswith("Error validating verification code.")
    # The failed attempt did not use the code up.
    assert sandbox.exchange(code).status_code == 200


def test_a_code_expires_after_ten_minutes(sandbox: SandboxApi) -> None:
    code = sandbox.dialog_code()
    sandbox.advance(601)

    error = graph_error(sandbox.exchange(code))

    assert (error["code"], error["error_subcode"]) == (100, 36007)
    assert error["message"] == "This authorization code has expired."


@pytest.mark.parametrize(
    ("change", "code", "message"),
    [
        ({"client_secret": "wrong"}, 1, "Error validating client secret."),
        ({"client_id": "other-app"}, 101, "Error validating application. Invalid application ID."),
        ({"code": "AQnot-a-code"}, 100, "Invalid verification code format."),
    ],
)
def test_code_exchange_errors(
    sandbox: SandboxApi, change: dict[str, str], code: int, message: str
) -> None:
    real = sandbox.dialog_code()
    params = {
        "client_id": "sandbox-app",
        "client_secret": SECRET,
        "redirect_uri": REDIRECT,
        "code": real,
        **change,
    }

    response = sandbox.http.get("/v25.0/oauth/access_token", params=params)

    assert response.status_code == 400
    error = graph_error(response)
    assert (error["code"], error["message"], error["type"]) == (code, message, "OAuthException")


# --- long-lived tokens, page tokens, debug_token ------------------------------------------------


def test_long_lived_exchange_and_page_tokens_that_never_expire(sandbox: SandboxApi) -> None:
    short = sandbox.exchange(sandbox.dialog_code()).json()["access_token"]

    response = sandbox.http.get(
        "/oauth/access_token",
        params={
            "grant_type": "fb_exchange_token",
            "client_id": "sandbox-app",
            "client_secret": SECRET,
            "fb_exchange_token": short,
        },
    )

    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert 5_000_000 <= body["expires_in"] <= 5_184_000
    long_lived = body["access_token"]
    assert 55 * 86400 < sandbox.debug(long_lived)["expires_at"] - time.time() <= 61 * 86400
    pages = sandbox.get("/me/accounts", long_lived, fields="id,access_token").json()["data"]
    page_token = next(p["access_token"] for p in pages if p["id"] == BISTRO_PAGE_ID)
    info = sandbox.debug(page_token)
    assert info["type"] == "PAGE"
    assert info["profile_id"] == BISTRO_PAGE_ID
    assert info["expires_at"] == 0
    # Asked again, the same Page token (as Meta hands out).
    again = sandbox.get("/me/accounts", long_lived, fields="id,access_token").json()["data"]
    assert page_token in {p["access_token"] for p in again}


def test_page_tokens_of_a_short_lived_user_token_expire_with_it(sandbox: SandboxApi) -> None:
    short = sandbox.exchange(sandbox.dialog_code()).json()["access_token"]
    pages = sandbox.get("/me/accounts", short, fields="access_token").json()["data"]
    page_info = sandbox.debug(pages[0]["access_token"])

    assert page_info["expires_at"] == sandbox.debug(short)["expires_at"] > 0

    sandbox.advance(2 * 3600)
    error = graph_error(sandbox.get("/me", pages[0]["access_token"]))
    assert (error["code"], error["error_subcode"]) == (190, 463)


def test_debug_token_describes_user_and_page_tokens(sandbox: SandboxApi) -> None:
    user = sandbox.debug(sandbox.token("long"))
    page = sandbox.debug(sandbox.page_token(CATERING_PAGE_ID))

    assert user["app_id"] == "sandbox-app"
    assert user["application"] == "Social Automation (sandbox)"
    assert user["type"] == "USER"
    assert user["is_valid"] is True
    assert set(PUBLISH_SCOPES) <= set(user["scopes"])
    assert user["data_access_expires_at"] > time.time()
    assert "profile_id" not in user
    assert page["type"] == "PAGE"
    assert page["profile_id"] == CATERING_PAGE_ID
    assert page["user_id"] == DEMO_USER_ID
    granular = {g["scope"]: g.get("target_ids") for g in page["granular_scopes"]}
    assert CATERING_IG_ID in granular["instagram_content_publish"]


def test_debug_token_reports_invalid_expired_and_revoked_tokens(sandbox: SandboxApi) -> None:
    garbage = sandbox.debug("EAASnot-a-real-token")
    assert garbage["is_valid"] is False
    assert garbage["error"]["code"] == 190

    short = sandbox.token("short")
    sandbox.advance(6000)
    expired = sandbox.debug(short)
    assert expired["is_valid"] is False
    assert (expired["error"]["code"], expired["error"]["subcode"]) == (190, 463)
    assert expired["user_id"] == DEMO_USER_ID

    alive = sandbox.token("long")
    assert sandbox.graph("DELETE", "/me/permissions", alive).json() == {"success": True}
    revoked = sandbox.debug(alive)
    assert revoked["is_valid"] is False
    assert revoked["error"]["subcode"] == 458


def test_debug_token_needs_an_app_or_user_token(sandbox: SandboxApi) -> None:
    response = sandbox.http.get("/v25.0/debug_token", params={"input_token": "x"})
    assert graph_error(response)["code"] == 104

    app = sandbox.http.get(
        "/oauth/access_token",
        params={
            "client_id": "sandbox-app",
            "client_secret": SECRET,
            "grant_type": "client_credentials",
        },
    ).json()["access_token"]
    assert app.startswith("sandbox-app|")
    assert SECRET not in app
    response = sandbox.http.get(
        "/v25.0/debug_token", params={"input_token": sandbox.token(), "access_token": app}
    )
    assert response.json()["data"]["is_valid"] is True


def test_access_token_info_answers_the_remaining_lifetime(sandbox: SandboxApi) -> None:
    token = sandbox.token("short")

    response = sandbox.http.get(
        "/v25.0/oauth/access_token_info", params={"client_id": "sandbox-app", "access_token": token}
    )

    assert response.status_code == 200
    assert 5000 < response.json()["expires_in"] <= 5400


# --- what allauth's Facebook provider calls ----------------------------------------------------


def test_me_answers_allauths_fields_and_email_needs_its_permission(sandbox: SandboxApi) -> None:
    allauth_fields = (
        "id,email,name,first_name,last_name,verified,locale,timezone,link,gender,updated_time"
    )
    with_email = sandbox.exchange(sandbox.dialog_code(("email", "pages_show_list"))).json()
    without = sandbox.token("long", scopes=["public_profile", "pages_show_list"])

    me = sandbox.graph(
        "GET", "/me", with_email["access_token"], params={"fields": allauth_fields}, via="query"
    ).json()
    plain = sandbox.get("/me", without, fields=allauth_fields).json()

    assert me == {
        "id": DEMO_USER_ID,
        "email": "sandy@sandbox.example",
        "name": "Sandy Sandbox",
        "first_name": "Sandy",
        "last_name": "Sandbox",
    }
    assert "email" not in plain


# --- token checks on every call ---------------------------------------------------------------


def test_a_missing_token_is_error_104(sandbox: SandboxApi) -> None:
    response = sandbox.get("/me")

    assert response.status_code == 400
    error = graph_error(response)
    assert error["code"] == 104
    assert error["message"] == "An access token is required to request this resource."


def test_an_unparsable_token_is_error_190(sandbox: SandboxApi) -> None:
    response = sandbox.get("/me", "EAAgarbage")

    assert response.status_code == 400
    error = graph_error(response)
    assert error["code"] == 190
    assert "error_subcode" not in error
    assert error["message"] == "Invalid OAuth access token - Cannot parse access token"
    assert response.headers["www-authenticate"].startswith(
        'OAuth "Facebook Platform" "invalid_token"'
    )


def test_an_expired_token_is_190_463(sandbox: SandboxApi) -> None:
    token = sandbox.token("short")
    sandbox.advance(5401)

    error = graph_error(sandbox.get("/me", token))

    assert (error["code"], error["error_subcode"]) == (190, 463)
    assert error["message"].startswith("Error validating access token: Session has expired on ")
    assert "The current time is" in error["message"]


def test_revoked_permissions_kill_user_and_page_tokens_with_458(sandbox: SandboxApi) -> None:
    user = sandbox.token("long")
    page = sandbox.get(f"/{BISTRO_PAGE_ID}", user, fields="access_token").json()["access_token"]
    assert sandbox.get("/me", page).status_code == 200

    assert sandbox.graph("DELETE", "/me/permissions", user).json() == {"success": True}

    for token in (user, page):
        error = graph_error(sandbox.get("/me", token))
        assert (error["code"], error["error_subcode"]) == (190, 458)
        assert "has not authorized application sandbox-app" in error["message"]
    # Consenting again gives working tokens.
    fresh = sandbox.exchange(sandbox.dialog_code()).json()["access_token"]
    assert sandbox.get("/me", fresh).status_code == 200


@pytest.mark.parametrize("via", ["query", "header", "bearer"])
def test_the_token_may_come_as_parameter_or_authorization_header(
    sandbox: SandboxApi, via: str
) -> None:
    response = sandbox.graph("GET", "/me", sandbox.token(), via=via)

    assert response.status_code == 200
    assert response.json() == {"name": "Sandy Sandbox", "id": DEMO_USER_ID}


def test_tokens_survive_a_restart_but_not_another_secret() -> None:
    with running_sandbox() as first:
        token = first.token()
    with running_sandbox() as second:
        assert second.get("/me", token).status_code == 200
    with running_sandbox(app_secret="another-secret") as other:
        response = other.graph("GET", "/me", token, proof=False)
        assert graph_error(response)["code"] == 190


# --- appsecret_proof --------------------------------------------------------------------------


def test_appsecret_proof_is_required_by_default(sandbox: SandboxApi) -> None:
    response = sandbox.graph("GET", "/me", sandbox.token(), proof=False)

    assert response.status_code == 400
    error = graph_error(response)
    assert error == {
        **error,
        "code": 100,
        "type": "GraphMethodException",
        "message": "API calls from the server require an appsecret_proof argument",
    }


def test_a_wrong_appsecret_proof_is_refused_even_when_optional(sandbox: SandboxApi) -> None:
    sandbox.configure(appsecret_proof_required=False)
    token = sandbox.token()

    assert sandbox.graph("GET", "/me", token, proof=False).status_code == 200
    response = sandbox.graph("GET", "/me", token, params={"appsecret_proof": "0" * 64}, proof=False)
    error = graph_error(response)
    assert (error["code"], error["type"]) == (100, "GraphMethodException")
    assert error["message"] == "Invalid appsecret_proof provided in the API argument"


# --- discovery: /me/accounts, paging, Business portfolios -----------------------------------------


def test_me_accounts_lists_pages_with_page_tokens(sandbox: SandboxApi) -> None:
    token = sandbox.token()

    body = sandbox.get("/me/accounts", token).json()

    entries = {entry["id"]: entry for entry in body["data"]}
    assert set(entries) == {BISTRO_PAGE_ID, BAKERY_PAGE_ID}  # Catering hides in the portfolio
    bistro = entries[BISTRO_PAGE_ID]
    assert set(bistro) == {"access_token", "category", "category_list", "name", "id", "tasks"}
    assert bistro["name"] == "Demo Bistro"
    assert "CREATE_CONTENT" in bistro["tasks"]
    assert sandbox.debug(bistro["access_token"])["type"] == "PAGE"


def test_me_accounts_pages_with_cursors_until_next_is_absent(sandbox: SandboxApi) -> None:
    sandbox.control("POST", "pages", {"count": 5, "instagram": False})
    token = sandbox.token()

    first = sandbox.get("/me/accounts", token, fields="id,name", limit=3).json()
    assert len(first["data"]) == 3
    assert set(first["paging"]["cursors"]) == {"before", "after"}
    seen = [p["id"] for p in first["data"]]
    url = first["paging"]["next"]
    assert url.startswith(sandbox.base_url + "/v25.0/me/accounts?")
    assert query_of(url)["limit"] == "3"
    assert query_of(url)["fields"] == "id,name"
    while url:
        # Meta's `next` links carry the call's parameters, the access token included.
        assert "access_token=" in url
        body = sandbox.http.get(url).json()
        seen += [p["id"] for p in body["data"]]
        url = body.get("paging", {}).get("next")

    assert len(seen) == len(set(seen)) == 7


def test_the_empty_page_quirk_answers_no_data_but_a_next_link(sandbox: SandboxApi) -> None:
    sandbox.configure(empty_page_quirk=True)
    token = sandbox.token()

    first = sandbox.get("/me/accounts", token, fields="id").json()
    assert first["data"] == []
    assert "next" in first["paging"]
    second = sandbox.http.get(first["paging"]["next"]).json()

    assert {p["id"] for p in second["data"]} == {BISTRO_PAGE_ID, BAKERY_PAGE_ID}
    assert "next" not in second["paging"]


def test_a_page_reachable_only_through_the_business_portfolio(sandbox: SandboxApi) -> None:
    token = sandbox.token()

    businesses = sandbox.get("/me/businesses", token).json()["data"]
    owned = sandbox.get(
        f"/{DEMO_BUSINESS_ID}/owned_pages",
        token,
        fields="id,name,access_token,instagram_business_account{id,username}",
    ).json()["data"]
    clients = sandbox.get(f"/{DEMO_BUSINESS_ID}/client_pages", token).json()

    assert businesses == [{"id": DEMO_BUSINESS_ID, "name": "Demo Bistro Group"}]
    catering = next(p for p in owned if p["id"] == CATERING_PAGE_ID)
    assert catering["instagram_business_account"] == {
        "id": CATERING_IG_ID,
        "username": "bistrocatering",
    }
    assert sandbox.debug(catering["access_token"])["profile_id"] == CATERING_PAGE_ID
    assert clients == {"data": []}
    # Without business_management the portfolio stays invisible.
    narrow = sandbox.token(scopes=["public_profile", "pages_show_list"])
    assert sandbox.get("/me/businesses", narrow).json() == {"data": []}


def test_field_expansion_answers_exactly_the_fields_asked_for(sandbox: SandboxApi) -> None:
    token = sandbox.token()

    page = sandbox.get(
        f"/{BISTRO_PAGE_ID}",
        token,
        fields="instagram_business_account{id,username,profile_picture_url},name,picture{url}",
    ).json()
    bare = sandbox.get(f"/{BAKERY_PAGE_ID}", token, fields="instagram_business_account").json()
    ig = sandbox.get(f"/{BISTRO_IG_ID}", token, fields="username,profile_picture_url,name").json()

    assert set(page) == {"instagram_business_account", "name", "picture", "id"}
    account = page["instagram_business_account"]
    assert set(account) == {"id", "username", "profile_picture_url"}
    assert account["username"] == "demobistro"
    assert set(page["picture"]["data"]) == {"url"}
    assert bare == {"id": BAKERY_PAGE_ID}  # no Instagram: the field is left out
    assert set(ig) == {"username", "profile_picture_url", "name", "id"}
    picture = sandbox.http.get(ig["profile_picture_url"])
    assert picture.headers["content-type"] == "image/png"
    assert picture.content.startswith(b"\x89PNG")


def test_nested_expansions_modifiers_and_several_ids(sandbox: SandboxApi) -> None:
    token = sandbox.token()

    page = sandbox.get(f"/{BISTRO_PAGE_ID}", token, fields="picture.type(large){data{url}}").json()
    both = sandbox.get("/", token, ids=f"{BISTRO_PAGE_ID},{BAKERY_PAGE_ID}", fields="name").json()
    missing = sandbox.get("/", token, ids=f"{BISTRO_PAGE_ID},31337")

    assert list(page["picture"]["data"]) == ["url"]
    assert both == {
        BISTRO_PAGE_ID: {"name": "Demo Bistro", "id": BISTRO_PAGE_ID},
        BAKERY_PAGE_ID: {"name": "Demo Bistro Bakery", "id": BAKERY_PAGE_ID},
    }
    assert graph_error(missing)["code"] == 803


def test_the_json_escapes_slashes_like_meta(sandbox: SandboxApi) -> None:
    response = sandbox.get(f"/{BISTRO_IG_ID}", sandbox.token(), fields="profile_picture_url")

    assert "http:\\/\\/" in response.text
    assert response.json()["profile_picture_url"].startswith("http://")


@pytest.mark.parametrize(
    ("fields", "code", "message"),
    [
        ("name,favourite_dish", 100, "Tried accessing nonexisting field (favourite_dish)"),
        ("name,instagram_business_account{id", 2500, "Syntax error"),
        ("name}", 2500, "Syntax error"),
    ],
)
def test_bad_fields(sandbox: SandboxApi, fields: str, code: int, message: str) -> None:
    response = sandbox.get(f"/{BISTRO_PAGE_ID}", sandbox.token(), fields=fields)

    assert response.status_code == 400
    error = graph_error(response)
    assert error["code"] == code
    assert message in error["message"]


def test_an_unknown_object_is_100_33(sandbox: SandboxApi) -> None:
    response = sandbox.get("/999999999", sandbox.token())

    assert response.status_code == 400
    error = graph_error(response)
    assert (error["code"], error["error_subcode"], error["type"]) == (
        100,
        33,
        "GraphMethodException",
    )
    assert error["message"].startswith(
        "Unsupported get request. Object with ID '999999999' does not exist, cannot be loaded "
        "due to missing permissions, or does not support this operation."
    )


def test_a_page_token_sees_its_page_only(sandbox: SandboxApi) -> None:
    token = sandbox.page_token(BAKERY_PAGE_ID)

    assert sandbox.get("/me", token).json() == {"name": "Demo Bistro Bakery", "id": BAKERY_PAGE_ID}
    assert graph_error(sandbox.get(f"/{BISTRO_PAGE_ID}", token))["error_subcode"] == 33
    assert (
        "nonexisting field (accounts)" in graph_error(sandbox.get("/me/accounts", token))["message"]
    )


def test_me_permissions_lists_the_granted_scopes(sandbox: SandboxApi) -> None:
    data = sandbox.get("/me/permissions", sandbox.token()).json()["data"]

    assert {"permission": "pages_manage_posts", "status": "granted"} in data


def test_the_package_never_imports_django() -> None:
    code = (
        "import sys, sandbox, sandbox.__main__;"
        "sys.exit(any(m == 'django' or m.startswith('django.') for m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], check=False, timeout=30, cwd=ROOT)

    assert result.returncode == 0
