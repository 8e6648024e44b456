"""Every fault strikes before the call takes effect (nothing is done) or after it (the post is
live, the container published) — `effect: "before" | "after"` on every kind."""

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from sandbox import BISTRO_IG_ID, BISTRO_PAGE_ID
from tests.sandbox.test_sandbox import SandboxApi, graph_error, running_sandbox

IMAGE = "https://cdn.example/photo.jpg"


@pytest.fixture
def sandbox() -> Iterator[SandboxApi]:
    with running_sandbox(fetch_media=False) as api:
        yield api


@pytest.fixture
def token(sandbox: SandboxApi) -> str:
    return sandbox.page_token()


def publish_feed(sandbox: SandboxApi, token: str) -> httpx.Response:
    return sandbox.post(f"/{BISTRO_PAGE_ID}/feed", token, message="Is it live?")


def publish_photo(sandbox: SandboxApi, token: str) -> httpx.Response:
    return sandbox.post(f"/{BISTRO_PAGE_ID}/photos", token, url=IMAGE, caption="A photo")


def publish_media(sandbox: SandboxApi, token: str) -> httpx.Response:
    container = sandbox.post(f"/{BISTRO_IG_ID}/media", token, image_url=IMAGE).json()["id"]
    return sandbox.post(f"/{BISTRO_IG_ID}/media_publish", token, creation_id=container)


def live_count(sandbox: SandboxApi, match: str) -> int:
    summary = sandbox.published()["summary"]
    if "media_publish" in match:
        return int(summary["instagram_media"])
    return int(summary["page_posts"])


CALLS: list[tuple[str, Callable[[SandboxApi, str], httpx.Response]]] = [
    ("POST /*/feed", publish_feed),
    ("POST /*/photos", publish_photo),
    ("POST /*/media_publish", publish_media),
]


@pytest.mark.parametrize(("match", "call"), CALLS)
def test_an_error_after_the_effect_answers_500_with_the_post_live(
    sandbox: SandboxApi, token: str, match: str, call: Callable[[SandboxApi, str], httpx.Response]
) -> None:
    sandbox.fault(kind="error", match=match, status=500, code=2, effect="after")

    response = call(sandbox, token)

    assert response.status_code == 500
    error = graph_error(response)
    assert (error["code"], error["is_transient"]) == (2, True)
    assert live_count(sandbox, match) == 1
    entry = sandbox.control("GET", "calls")["calls"][-1]
    assert (entry["fault"], entry["effect"], entry["status"]) == ("error", "after", 500)
    assert entry["created"]  # the id the product never saw


@pytest.mark.parametrize(("match", "call"), CALLS)
@pytest.mark.parametrize("spec", [{}, {"effect": "before"}])
def test_an_error_before_the_effect_creates_nothing(
    sandbox: SandboxApi,
    token: str,
    match: str,
    call: Callable[[SandboxApi, str], httpx.Response],
    spec: dict[str, Any],
) -> None:
    sandbox.fault(kind="error", match=match, status=500, code=2, **spec)

    response = call(sandbox, token)

    assert response.status_code == 500
    assert live_count(sandbox, match) == 0
    if "media_publish" in match:
        (container,) = sandbox.published()["containers"]
        assert (container["status_code"], container["publish_count"]) == ("FINISHED", 0)


def test_an_after_effect_media_publish_error_leaves_the_container_published(
    sandbox: SandboxApi, token: str
) -> None:
    sandbox.fault(kind="error", match="POST /*/media_publish", code=2, status=500, effect="after")
    container = sandbox.post(f"/{BISTRO_IG_ID}/media", token, image_url=IMAGE).json()["id"]

    failed = sandbox.post(f"/{BISTRO_IG_ID}/media_publish", token, creation_id=container)
    status = sandbox.get(f"/{container}", token, fields="status_code").json()
    again = sandbox.post(f"/{BISTRO_IG_ID}/media_publish", token, creation_id=container)

    assert failed.status_code == 500
    assert status["status_code"] == "PUBLISHED"  # what the product must read before retrying
    assert again.status_code == 400
    assert sandbox.published()["summary"]["containers_published_twice"] == []


def test_a_rate_limit_after_the_effect(sandbox: SandboxApi, token: str) -> None:
    sandbox.fault(kind="rate_limit", match="POST /*/feed", code=80001, effect="after")

    response = publish_feed(sandbox, token)

    assert response.status_code == 400  # the status the sandbox gives code 80001
    assert graph_error(response)["code"] == 80001
    assert '"estimated_time_to_regain_access":5' in response.headers["x-business-use-case-usage"]
    assert live_count(sandbox, "POST /*/feed") == 1


def test_a_rate_limit_before_the_effect_is_the_default(sandbox: SandboxApi, token: str) -> None:
    sandbox.fault(kind="rate_limit", match="POST /*/feed", code=32)

    assert publish_feed(sandbox, token).status_code == 403
    assert live_count(sandbox, "POST /*/feed") == 0


@pytest.mark.parametrize(
    ("spec", "live"),
    [
        ({"kind": "timeout", "effect": "after"}, 1),
        ({"kind": "timeout", "effect": "before"}, 0),
        ({"kind": "timeout"}, 0),
        ({"kind": "timeout_after_effect"}, 1),
        ({"kind": "timeout_before_effect"}, 0),
    ],
)
def test_timeouts_with_either_effect_and_the_old_kinds(
    sandbox: SandboxApi, token: str, spec: dict[str, Any], live: int
) -> None:
    sandbox.fault(match="POST /*/feed", **spec)

    with pytest.raises(httpx.RemoteProtocolError):
        publish_feed(sandbox, token)

    assert live_count(sandbox, "POST /*/feed") == live
    entry = sandbox.control("GET", "calls")["calls"][-1]
    assert entry["dropped"] is True
    assert entry["effect"] == ("after" if live else "before")


@pytest.mark.parametrize(
    ("effect", "live"), [("after", 1), ("before", 0), (True, 1), (False, 0), (None, 1)]
)
def test_malformed_takes_the_same_effect_words(
    sandbox: SandboxApi, token: str, effect: Any, live: int
) -> None:
    spec: dict[str, Any] = {"variant": "html"}
    if effect is not None:
        spec["effect"] = effect
    sandbox.fault(kind="malformed", match="POST /*/feed", **spec)

    response = publish_feed(sandbox, token)

    assert response.headers["content-type"].startswith("text/html")
    assert live_count(sandbox, "POST /*/feed") == live


def test_a_revocation_after_the_effect_lets_this_call_through(
    sandbox: SandboxApi, token: str
) -> None:
    sandbox.fault(kind="revoke_token", match="POST /*/feed", scope="token", effect="after")

    first = publish_feed(sandbox, token)
    later = sandbox.post(f"/{BISTRO_PAGE_ID}/feed", token, message="second")

    assert first.status_code == 200
    assert graph_error(later)["error_subcode"] == 458
    assert live_count(sandbox, "POST /*/feed") == 1


def test_a_revocation_before_the_effect_fails_this_call(sandbox: SandboxApi, token: str) -> None:
    sandbox.fault(kind="revoke_token", match="POST /*/feed", scope="token")

    assert graph_error(publish_feed(sandbox, token))["error_subcode"] == 458
    assert live_count(sandbox, "POST /*/feed") == 0


def test_container_faults_act_after_the_effect(sandbox: SandboxApi, token: str) -> None:
    created = sandbox.fault(kind="container_error")
    refused = sandbox.http.post(
        "/_sandbox/faults", json={"kind": "container_error", "effect": "before"}
    )

    assert created["params"]["effect"] == "after"
    assert refused.status_code == 400


@pytest.mark.parametrize(
    "spec",
    [
        {"kind": "error", "effect": "later"},
        {"kind": "error", "effect": 1},
        {"kind": "timeout_after_effect", "effect": "before"},
        {"kind": "timeout_before_effect", "effect": "after"},
    ],
)
def test_bad_effects_are_refused(sandbox: SandboxApi, spec: dict[str, Any]) -> None:
    response = sandbox.http.post("/_sandbox/faults", json=spec)

    assert response.status_code == 400, response.text
    assert sandbox.control("GET", "faults") == {"faults": []}


def test_the_fault_list_shows_each_effect(sandbox: SandboxApi) -> None:
    sandbox.control(
        "POST",
        "faults",
        [
            {"kind": "error", "code": 2},
            {"kind": "error", "code": 2, "effect": "after"},
            {"kind": "malformed"},
            {"kind": "timeout_after_effect"},
        ],
    )

    listed = sandbox.control("GET", "faults")["faults"]

    assert [f["params"]["effect"] for f in listed] == ["before", "after", "after", "after"]
