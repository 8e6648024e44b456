"""The sandbox's control API and operations: every fault kind, usage headers and throttling,
latency, concurrency, reset, persistence with --state-file, the call log, the CLI."""

import base64
import hashlib
import hmac
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from sandbox import BISTRO_IG_ID, BISTRO_PAGE_ID, DEMO_USER_ID, SandboxServer
from tests.sandbox.test_sandbox import ROOT, SandboxApi, graph_error, running_sandbox


@pytest.fixture
def sandbox() -> Iterator[SandboxApi]:
    with running_sandbox(fetch_media=False) as api:
        yield api


def post_text(
    sandbox: SandboxApi, token: str, message: str, timeout: float | None = None
) -> httpx.Response:
    return sandbox.graph(
        "POST", f"/{BISTRO_PAGE_ID}/feed", token, data={"message": message}, timeout=timeout
    )


# --- faults: errors ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "status", "code", "subcode"),
    [
        ({"status": 500, "code": 2}, 500, 2, None),
        ({"code": 190, "subcode": 463}, 400, 190, 463),
        ({"code": 4}, 403, 4, None),
        (
            {"code": 9007, "subcode": 2207027, "message": "Media ID is not available"},
            400,
            9007,
            2207027,
        ),
        ({"code": 506, "message": "(#506) Duplicate status message"}, 400, 506, None),
    ],
)
def test_an_error_fault_answers_that_graph_error_once(
    sandbox: SandboxApi, spec: dict[str, object], status: int, code: int, subcode: int | None
) -> None:
    token = sandbox.page_token()
    sandbox.fault(kind="error", match="POST /*/feed", **spec)

    failed = post_text(sandbox, token, "first")
    ok = post_text(sandbox, token, "second")

    assert failed.status_code == status
    error = graph_error(failed)
    assert (error["code"], error.get("error_subcode")) == (code, subcode)
    assert error["message"]
    assert ok.status_code == 200
    assert [p["message"] for p in sandbox.published()["page_posts"]] == ["second"]
    if code == 2:
        assert error["is_transient"] is True


def test_an_error_fault_speaks_metas_words_unless_told_otherwise(sandbox: SandboxApi) -> None:
    token = sandbox.page_token()
    sandbox.control(
        "POST",
        "faults",
        [
            {"kind": "error", "path": "/me", "code": 190, "subcode": 463},
            {"kind": "error", "path": "/me", "code": 9007, "subcode": 2207027},
            {"kind": "error", "path": "/me", "code": 2, "message": "Custom words", "type": "X"},
        ],
    )

    expired, not_ready, custom = (graph_error(sandbox.get("/me", token)) for _ in range(3))

    assert expired["message"].startswith("Error validating access token: Session has expired")
    assert (not_ready["message"], not_ready["error_user_title"]) == (
        "Media ID is not available",
        "Media not ready for publishing",
    )
    assert (custom["message"], custom["type"], custom["is_transient"]) == (
        "Custom words",
        "X",
        True,
    )


def test_faults_match_method_and_path_and_count_down(sandbox: SandboxApi) -> None:
    token = sandbox.page_token()
    sandbox.fault(kind="error", method="POST", path="/*/photos", times=2, code=1)

    assert sandbox.get("/me", token).status_code == 200
    assert post_text(sandbox, token, "feed is not /photos").status_code == 200
    photos = [
        sandbox.post(f"/{BISTRO_PAGE_ID}/photos", token, url="https://cdn.example/a.jpg")
        for _ in range(3)
    ]

    assert [p.status_code for p in photos] == [500, 500, 200]
    assert sandbox.control("GET", "faults") == {"faults": []}


def test_unlimited_and_improbable_faults(sandbox: SandboxApi) -> None:
    token = sandbox.page_token()
    never = sandbox.fault(kind="error", path="/me", probability=1e-9, times=None, code=2)
    for _ in range(5):
        assert sandbox.get("/me", token).status_code == 200
    sandbox.control("DELETE", f"faults/{never['id']}")
    always = sandbox.fault(kind="error", path="/me", times=None, code=2, status=500)

    assert [sandbox.get("/me", token).status_code for _ in range(4)] == [500] * 4
    assert sandbox.control("GET", "faults")["faults"][0]["hits"] == 4
    sandbox.control("DELETE", f"faults/{always['id']}")
    assert sandbox.get("/me", token).status_code == 200


def test_bad_fault_descriptions_are_refused(sandbox: SandboxApi) -> None:
    for spec in (
        {"kind": "meteor"},
        {"kind": "error", "times": 0},
        {"kind": "rate_limit", "code": 99},
        {"kind": "error", "path": "feed"},
    ):
        response = sandbox.http.post("/_sandbox/faults", json=spec)
        assert response.status_code == 400, spec
        assert response.json()["error"]


def test_faults_can_be_listed_and_cleared(sandbox: SandboxApi) -> None:
    sandbox.control(
        "POST",
        "faults",
        [{"kind": "error", "code": 2}, {"kind": "malformed", "path": "/*/feed"}],
    )

    listed = sandbox.control("GET", "faults")["faults"]
    assert [(f["kind"], f["method"], f["path"], f["remaining"]) for f in listed] == [
        ("error", "*", "*", 1),
        ("malformed", "*", "/*/feed", 1),
    ]
    sandbox.control("DELETE", "faults")
    assert sandbox.control("GET", "faults") == {"faults": []}


# --- faults: rate limits and usage headers -----------------------------------------------


def test_usage_headers_on_every_authenticated_call(sandbox: SandboxApi) -> None:
    token = sandbox.page_token()

    page = sandbox.get(f"/{BISTRO_PAGE_ID}", token)
    ig = sandbox.get(f"/{BISTRO_IG_ID}", token)
    anonymous = sandbox.get("/me")

    app = json.loads(page.headers["x-app-usage"])
    assert set(app) == {"call_count", "total_cputime", "total_time"}
    business = json.loads(page.headers["x-business-use-case-usage"])
    assert business[BISTRO_PAGE_ID][0] == {
        "type": "pages",
        "call_count": 1,
        "total_cputime": 0,
        "total_time": 0,
        "estimated_time_to_regain_access": 0,
    }
    ig_usage = json.loads(ig.headers["x-business-use-case-usage"])
    assert ig_usage[BISTRO_IG_ID][0]["type"] == "instagram"
    assert "x-app-usage" not in anonymous.headers


def test_usage_counts_real_calls_in_a_rolling_window(sandbox: SandboxApi) -> None:
    sandbox.configure(page_call_budget=10)
    token = sandbox.page_token()

    counts = [
        json.loads(sandbox.get(f"/{BISTRO_PAGE_ID}", token).headers["x-business-use-case-usage"])[
            BISTRO_PAGE_ID
        ][0]["call_count"]
        for _ in range(4)
    ]

    assert counts == [10, 20, 30, 40]


@pytest.mark.parametrize("code", [32, 80001])
def test_a_page_rate_limit_fault(sandbox: SandboxApi, code: int) -> None:
    token = sandbox.page_token()
    sandbox.fault(kind="rate_limit", code=code, minutes=7, path=f"/{BISTRO_PAGE_ID}/*")

    response = sandbox.get(f"/{BISTRO_PAGE_ID}/posts", token)

    error = graph_error(response)
    assert error["code"] == code
    assert error["is_transient"] is True
    usage = json.loads(response.headers["x-business-use-case-usage"])[BISTRO_PAGE_ID][0]
    assert usage["call_count"] >= 100
    assert usage["estimated_time_to_regain_access"] == 7


@pytest.mark.parametrize("code", [4, 17, 613])
def test_an_app_rate_limit_fault(sandbox: SandboxApi, code: int) -> None:
    token = sandbox.token()
    sandbox.fault(kind="rate_limit", code=code)

    response = sandbox.get("/me", token)

    assert graph_error(response)["code"] == code
    assert json.loads(response.headers["x-app-usage"])["call_count"] >= 100


def test_the_call_budget_is_enforced(sandbox: SandboxApi) -> None:
    sandbox.configure(app_call_budget=3)
    token = sandbox.token()

    statuses = [sandbox.get("/me", token).status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 403]
    sandbox.configure(app_call_budget=1000)
    assert sandbox.get("/me", token).status_code == 200


# --- faults: timeouts, malformed answers, containers, revocation -------------------------


def test_timeout_after_effect_publishes_then_hangs_up(sandbox: SandboxApi) -> None:
    token = sandbox.page_token()
    sandbox.fault(kind="timeout_after_effect", match="POST /*/feed")

    with pytest.raises(httpx.RemoteProtocolError):
        post_text(sandbox, token, "did it go out?")

    # The product must reconcile: the post is there.
    listed = sandbox.get(f"/{BISTRO_PAGE_ID}/feed", token).json()["data"]
    assert [p["message"] for p in listed] == ["did it go out?"]
    call = sandbox.control("GET", "calls")["calls"][0]
    assert (call["fault"], call["dropped"], call["status"]) == ("timeout_after_effect", True, 200)


def test_timeout_after_effect_can_hold_past_the_clients_timeout(sandbox: SandboxApi) -> None:
    token = sandbox.page_token()
    sandbox.fault(kind="timeout_after_effect", match="POST /*/feed", seconds=2, respond=True)

    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        post_text(sandbox, token, "slow", timeout=0.3)

    assert time.monotonic() - started < 1.5
    assert len(sandbox.published()["page_posts"]) == 1


def test_timeout_before_effect_does_nothing(sandbox: SandboxApi) -> None:
    token = sandbox.page_token()
    sandbox.fault(kind="timeout_before_effect", match="POST /*/feed", seconds=0.2)

    with pytest.raises(httpx.RemoteProtocolError):
        post_text(sandbox, token, "lost")

    assert sandbox.published()["page_posts"] == []


@pytest.mark.parametrize("variant", ["html", "truncated", "wrong_shape", "empty"])
def test_malformed_answers_after_the_effect(sandbox: SandboxApi, variant: str) -> None:
    token = sandbox.page_token()
    sandbox.fault(kind="malformed", match="POST /*/feed", variant=variant)

    response = post_text(sandbox, token, "garbled")

    assert response.status_code == 200
    if variant == "wrong_shape":
        assert response.json() == []
    else:
        with pytest.raises(json.JSONDecodeError):
            response.json()
    assert len(sandbox.published()["page_posts"]) == 1


def test_a_malformed_answer_can_come_without_effect(sandbox: SandboxApi) -> None:
    token = sandbox.page_token()
    sandbox.fault(kind="malformed", match="POST /*/feed", effect=False, body={"id": None})

    response = post_text(sandbox, token, "never stored")

    assert response.json() == {"id": None}
    assert sandbox.published()["page_posts"] == []


@pytest.mark.parametrize(
    ("kind", "status", "subcode"),
    [("container_error", "ERROR", 2207032), ("container_expired", "EXPIRED", 2207020)],
)
def test_container_faults(sandbox: SandboxApi, kind: str, status: str, subcode: int) -> None:
    token = sandbox.page_token()
    sandbox.fault(kind=kind, message="The sandbox was told to fail this one")
    image = {"image_url": "https://cdn.example/a.jpg"}

    doomed = sandbox.post(f"/{BISTRO_IG_ID}/media", token, **image).json()["id"]
    fine = sandbox.post(f"/{BISTRO_IG_ID}/media", token, **image).json()["id"]

    state = sandbox.get(f"/{doomed}", token, fields="status_code,status").json()
    assert state["status_code"] == status
    assert "told to fail" in state["status"]
    error = graph_error(sandbox.post(f"/{BISTRO_IG_ID}/media_publish", token, creation_id=doomed))
    assert error["error_subcode"] == subcode
    assert (
        sandbox.post(f"/{BISTRO_IG_ID}/media_publish", token, creation_id=fine).status_code == 200
    )


@pytest.mark.parametrize(("subcode", "scope"), [(460, "user"), (458, "token")])
def test_a_revoke_token_fault(sandbox: SandboxApi, subcode: int, scope: str) -> None:
    user = sandbox.token()
    page = sandbox.page_token()
    sandbox.fault(kind="revoke_token", path="/me", subcode=subcode, scope=scope)

    first = graph_error(sandbox.get("/me", page))
    later = graph_error(sandbox.get(f"/{BISTRO_PAGE_ID}", page))

    assert (first["code"], first["error_subcode"]) == (190, subcode)
    assert later["error_subcode"] == subcode
    user_alive = sandbox.get("/me", user).status_code == 200
    assert user_alive is (scope == "token")


# --- latency and concurrency ------------------------------------------------------------------


def test_latency_globally_and_per_path(sandbox: SandboxApi) -> None:
    token = sandbox.page_token()
    sandbox.control("POST", "latency", {"ms": 0, "paths": {"/*/posts": 250}})

    started = time.monotonic()
    sandbox.get(f"/{BISTRO_PAGE_ID}/posts", token)
    slow = time.monotonic() - started
    started = time.monotonic()
    sandbox.get("/me", token)
    fast = time.monotonic() - started

    assert slow >= 0.25
    assert fast < slow
    assert sandbox.control("GET", "latency") == {"ms": 0, "paths": {"/*/posts": 250}}


def test_latency_per_method_and_path(sandbox: SandboxApi) -> None:
    token = sandbox.page_token()
    sandbox.control("POST", "latency", {"paths": {"POST /*/feed": 250}})

    started = time.monotonic()
    sandbox.get(f"/{BISTRO_PAGE_ID}/feed", token)
    reading = time.monotonic() - started
    started = time.monotonic()
    post_text(sandbox, token, "slow")
    writing = time.monotonic() - started

    assert writing >= 0.25
    assert reading < writing


def test_fifty_calls_with_latency_are_served_concurrently(sandbox: SandboxApi) -> None:
    sandbox.control("POST", "latency", {"ms": 100})
    token = sandbox.page_token()
    sandbox.control("DELETE", "stats")

    client = httpx.Client(
        base_url=sandbox.base_url, timeout=10, limits=httpx.Limits(max_connections=50)
    )

    def call(_: int) -> int:
        response = client.get(
            f"/v25.0/{BISTRO_PAGE_ID}",
            headers={"Authorization": f"OAuth {token}"},
            params={"appsecret_proof": _proof(token)},
        )
        return response.status_code

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=50) as pool:
        statuses = list(pool.map(call, range(50)))
    elapsed = time.monotonic() - started
    client.close()

    assert statuses == [200] * 50
    stats = sandbox.control("GET", "stats")
    assert stats["max_in_flight"] > 1
    assert stats["in_flight"] == 0
    # Served one after another this would take 5 s.
    assert elapsed < 50 * 0.1


def _proof(token: str) -> str:
    return hmac.new(b"sandbox-secret", token.encode(), hashlib.sha256).hexdigest()


def test_stop_releases_requests_held_by_latency() -> None:
    with running_sandbox(latency_ms=30_000) as sandbox:
        token = sandbox.token()
        errors: list[BaseException] = []

        def slow_call() -> None:
            try:
                sandbox.get("/me", token)
            except httpx.HTTPError as exc:
                errors.append(exc)

        thread = threading.Thread(target=slow_call)
        thread.start()
        time.sleep(0.2)
        started = time.monotonic()
        sandbox.server.stop()
        thread.join(timeout=5)

    assert time.monotonic() - started < 5
    assert not thread.is_alive()


# --- reset, clock, config -----------------------------------------------------------------------


def test_reset_forgets_everything_but_the_demo_data(sandbox: SandboxApi) -> None:
    token = sandbox.page_token()
    post_text(sandbox, token, "before reset")
    sandbox.control("POST", "pages", {"count": 2})
    sandbox.fault(kind="error", code=2)
    sandbox.advance(3600)
    sandbox.control("POST", "latency", {"ms": 50})
    sandbox.configure(quota_total=25)

    assert sandbox.control("POST", "reset") == {"reset": True}

    assert sandbox.control("GET", "latency") == {"ms": 0, "paths": {}}
    assert sandbox.control("GET", "config")["quota_total"] == 100
    assert sandbox.published()["summary"]["page_posts"] == 0
    assert sandbox.control("GET", "faults") == {"faults": []}
    assert sandbox.control("GET", "clock")["offset_seconds"] == 0
    names = [p["name"] for p in sandbox.get("/me/accounts", sandbox.token()).json()["data"]]
    assert names == ["Demo Bistro", "Demo Bistro Bakery"]


def test_config_changes_are_checked(sandbox: SandboxApi) -> None:
    assert sandbox.configure(quota_total=25)["quota_total"] == 25
    assert "app_secret" not in sandbox.control("GET", "config")
    for body in ({"app_secret": "x"}, {"quota_total": "many"}, {"fetch_media": 1}):
        response = sandbox.http.post("/_sandbox/config", json=body)
        assert response.status_code == 400, body
    assert sandbox.http.get("/_sandbox/nothing").status_code == 404


def test_minted_tokens_extra_pages_and_signed_requests(sandbox: SandboxApi) -> None:
    created = sandbox.control("POST", "pages", {"count": 3, "in_accounts": False})["pages"]
    page = created[0]
    token = sandbox.page_token(page["id"])

    assert sandbox.get("/me", token).json()["id"] == page["id"]
    ig = page["instagram_business_account"]["id"]
    assert (
        sandbox.post(f"/{ig}/media", token, image_url="https://cdn.example/a.jpg").status_code
        == 200
    )
    answer = sandbox.control("POST", "signed_request", {"user_id": DEMO_USER_ID})
    signature, payload = answer["signed_request"].split(".")
    expected = hmac.new(b"sandbox-secret", payload.encode(), hashlib.sha256).digest()
    assert base64.urlsafe_b64decode(signature + "==") == expected
    assert json.loads(base64.urlsafe_b64decode(payload + "=="))["user_id"] == DEMO_USER_ID


# --- the call log, pages, persistence, the CLI --------------------------------------------------


def test_the_call_log_never_shows_a_token(sandbox: SandboxApi) -> None:
    token = sandbox.page_token()
    sandbox.graph("GET", f"/{BISTRO_PAGE_ID}", token, via="query")
    post_text(sandbox, token, "logged")
    sandbox.get("/404404404", token)

    log = sandbox.control("GET", "calls")

    text = json.dumps(log)
    assert token not in text
    assert "access_token" not in text
    assert "appsecret_proof" not in text
    entries = [(c["method"], c["template"], c["status"], c["code"]) for c in log["calls"]]
    assert entries[-3:] == [
        ("GET", "/{page-id}", 200, None),
        ("POST", "/{page-id}/feed", 200, None),
        ("GET", "/404404404", 400, 100),
    ]
    assert all(c["token"] == "page" for c in log["calls"][-3:])
    assert sandbox.control("GET", "calls?since=" + str(log["last_seq"]))["calls"] == []


def test_the_home_page_and_permalinks_are_labelled_sandbox(sandbox: SandboxApi) -> None:
    post_id = post_text(sandbox, sandbox.page_token(), "Mussels & fries").json()["id"]

    home = sandbox.http.get("/")
    view = sandbox.http.get(f"/_sandbox/view/{post_id}")

    assert home.status_code == 200
    assert "SANDBOX — not Facebook" in home.text
    assert "Mussels &amp; fries" in home.text
    assert "Demo Bistro Catering" in home.text
    assert "Business portfolio only" in home.text
    assert view.status_code == 200
    assert "Mussels &amp; fries" in view.text
    assert sandbox.http.get("/_sandbox/view/123").status_code == 404


def test_a_state_file_keeps_what_was_published(tmp_path: Path) -> None:
    state_file = tmp_path / "sandbox.json"
    with running_sandbox(state_file=str(state_file), fetch_media=False) as first:
        token = first.page_token()
        post_id = post_text(first, token, "survives restarts").json()["id"]
        container = first.post(
            f"/{BISTRO_IG_ID}/media", token, image_url="https://cdn.example/a.jpg"
        ).json()["id"]
        media_id = first.post(
            f"/{BISTRO_IG_ID}/media_publish", token, creation_id=container
        ).json()["id"]
        first.graph("DELETE", "/me/permissions", first.token())
        fresh = first.exchange(first.dialog_code()).json()["access_token"]
    assert state_file.exists()

    with running_sandbox(state_file=str(state_file), fetch_media=False) as second:
        published = second.published()
        again = post_text(second, second.page_token(), "after restart").json()["id"]
        revoked = second.get("/me", token)
        alive = second.get("/me", fresh)

    assert [p["id"] for p in published["page_posts"]] == [post_id]
    assert [m["id"] for m in published["instagram_media"]] == [media_id]
    assert published["containers"][0]["status_code"] == "PUBLISHED"
    assert again != post_id
    assert graph_error(revoked)["error_subcode"] == 458
    assert alive.status_code == 200


def test_an_unreadable_state_file_fails_loudly(tmp_path: Path) -> None:
    state_file = tmp_path / "broken.json"
    state_file.write_text("{not json")

    with pytest.raises(ValueError, match="Cannot read the sandbox state file"):
        SandboxServer(port=0, state_file=str(state_file))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_command_line_serves_in_the_foreground_until_interrupted(tmp_path: Path) -> None:
    port = _free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sandbox",
            "--port",
            str(port),
            "--latency-ms",
            "5",
            "--state-file",
            str(tmp_path / "state.json"),
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the sandbox did not start"
                time.sleep(0.05)
        assert "SANDBOX — not Facebook" in response.text
        config = httpx.get(f"http://127.0.0.1:{port}/_sandbox/config").json()
        assert config["latency_ms"] == 5
    finally:
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=10)

    assert process.returncode == 0
    assert "not Facebook" in stderr
