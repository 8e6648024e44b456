"""The Graph transport: auth, appsecret_proof, error classes, retries, timeouts, usage, logging.

respx stands in for Meta; no network and no database.
"""

import hashlib
import hmac
import json
import logging
import pickle
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
import respx

from apps.social import graph
from apps.social.graph import client as client_module
from apps.social.graph.errors import (
    GraphDuplicateError,
    GraphError,
    GraphInvalidRequestError,
    GraphMalformedResponseError,
    GraphPermissionError,
    GraphRateLimitError,
    GraphTimeoutError,
    GraphTokenError,
    GraphTransientError,
)

GRAPH = "https://graph.test"
BASE = f"{GRAPH}/v25.0"
APP_ID = "app-1"
APP_SECRET = "app-secret-0123456789"
USER_TOKEN = "EAAuser-token-SECRET-1111"
PAGE_TOKEN = "EAApage-token-SECRET-2222"


def graph_error(code: int, subcode: int | None = None, message: str = "boom", **extra: Any) -> Any:
    error: dict[str, Any] = {
        "message": message,
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": "AbCdEf123",
        **extra,
    }
    if subcode is not None:
        error["error_subcode"] = subcode
    return {"error": error}


def proof_of(token: str, secret: str = APP_SECRET) -> str:
    return hmac.new(secret.encode(), token.encode(), hashlib.sha256).hexdigest()


def form_of(request: httpx.Request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(request.content.decode()).items()}


def graph_calls(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    return [
        r.msg
        for r in caplog.records
        if isinstance(r.msg, dict) and r.msg.get("event") == "graph_call"
    ]


@pytest.fixture
def config() -> graph.GraphConfig:
    return graph.GraphConfig(
        app_id=APP_ID,
        app_secret=APP_SECRET,
        graph_url=GRAPH,
        dialog_url="https://www.fb.test",
        version="v25.0",
        max_retries=3,
        max_pages=5,
    )


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def client(config: graph.GraphConfig, sleeps: list[float]) -> Iterator[graph.GraphClient]:
    # jitter=1.0 makes full jitter deterministic: each sleep is the backoff ceiling.
    with graph.GraphClient(config, sleep=sleeps.append, jitter=lambda: 1.0) as c:
        yield c


@pytest.fixture
def meta() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        yield router


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO)
    return caplog


# --- authentication -------------------------------------------------------------------------


def test_token_travels_in_the_header_with_appsecret_proof_and_never_in_the_url(
    client: graph.GraphClient, meta: respx.MockRouter
) -> None:
    route = meta.get("/me").respond(json={"id": "42", "name": "Ana"})

    user = graph.get_me(user_token=USER_TOKEN, client=client)

    assert user == graph.FacebookUser(id="42", name="Ana")
    request = route.calls.last.request
    assert request.headers["Authorization"] == f"OAuth {USER_TOKEN}"
    assert request.url.params["appsecret_proof"] == proof_of(USER_TOKEN)
    assert "access_token" not in request.url.params
    assert USER_TOKEN not in str(request.url)
    assert graph.appsecret_proof(USER_TOKEN, APP_SECRET) == proof_of(USER_TOKEN)


def test_a_post_carries_appsecret_proof_in_its_form_body(
    client: graph.GraphClient, meta: respx.MockRouter
) -> None:
    route = meta.post("/123/feed").respond(json={"id": "123_456"})

    post = graph.publish_page_post(
        page_id="123", page_token=PAGE_TOKEN, message="Soup of the day", client=client
    )

    assert post == graph.PublishedPost(id="123_456")
    request = route.calls.last.request
    assert request.headers["Authorization"] == f"OAuth {PAGE_TOKEN}"
    assert form_of(request) == {
        "message": "Soup of the day",
        "appsecret_proof": proof_of(PAGE_TOKEN),
    }
    assert PAGE_TOKEN not in str(request.url)
    assert PAGE_TOKEN not in request.content.decode()


def test_app_token_calls_use_app_id_and_secret_with_their_own_proof(
    client: graph.GraphClient, meta: respx.MockRouter
) -> None:
    route = meta.get("/debug_token").respond(
        json={"data": {"is_valid": True, "type": "USER", "scopes": [], "expires_at": 0}}
    )

    graph.debug_token(input_token=USER_TOKEN, client=client)

    request = route.calls.last.request
    app_token = f"{APP_ID}|{APP_SECRET}"
    assert request.headers["Authorization"] == f"OAuth {app_token}"
    assert request.url.params["appsecret_proof"] == proof_of(app_token)


def test_ids_are_quoted_into_the_path(client: graph.GraphClient, meta: respx.MockRouter) -> None:
    route = meta.get(url__regex=r".*").respond(json={"id": "x"})

    client.request("GET", "/{id}", ids=("a/b?c",), token=PAGE_TOKEN)

    assert route.calls.last.request.url.raw_path.startswith(b"/v25.0/a%2Fb%3Fc")


def test_an_empty_token_is_a_programming_error(client: graph.GraphClient) -> None:
    with pytest.raises(ValueError, match="empty access token"):
        graph.get_me(user_token="", client=client)


# --- error classes ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "code", "subcode", "expected"),
    [
        (400, 190, None, GraphTokenError),
        *[(400, 190, sub, GraphTokenError) for sub in (458, 459, 460, 463, 464, 467, 492)],
        (400, 102, None, GraphTokenError),
        (400, 4, None, GraphRateLimitError),
        (400, 17, None, GraphRateLimitError),
        (400, 32, None, GraphRateLimitError),
        (400, 613, None, GraphRateLimitError),
        *[(400, code, None, GraphRateLimitError) for code in range(80001, 80010)],
        (400, 9, 2207042, GraphRateLimitError),
        (500, 1, None, GraphTransientError),
        (503, 2, None, GraphTransientError),
        (400, 9007, 2207027, GraphTransientError),
        (400, -1, 2207001, GraphTransientError),
        (400, 10, None, GraphPermissionError),
        (403, 200, None, GraphPermissionError),
        (400, 299, None, GraphPermissionError),
        (400, 506, None, GraphDuplicateError),
        (400, 100, None, GraphInvalidRequestError),
        (400, 100, 33, GraphInvalidRequestError),
        (400, 368, None, GraphInvalidRequestError),
        (400, -2, 2207020, GraphInvalidRequestError),  # container expired: retrying cannot help
        (400, 9007, 2207032, GraphInvalidRequestError),
    ],
)
def test_graph_error_objects_become_exception_classes(
    client: graph.GraphClient,
    meta: respx.MockRouter,
    status: int,
    code: int,
    subcode: int | None,
    expected: type[GraphError],
) -> None:
    meta.post("/17841/media_publish").respond(status, json=graph_error(code, subcode))

    with pytest.raises(GraphError) as caught:
        graph.publish_ig_container(
            ig_user_id="17841", token=PAGE_TOKEN, creation_id="9", client=client
        )

    error = caught.value
    assert type(error) is expected
    assert (error.code, error.subcode, error.http_status) == (code, subcode, status)
    assert error.type == "OAuthException"
    assert error.fbtrace_id == "AbCdEf123"
    assert error.meta_message == "boom"
    assert error.user_message
    assert str(error) == error.user_message


def test_meta_flagging_an_unknown_code_as_transient_is_honoured(
    client: graph.GraphClient, meta: respx.MockRouter
) -> None:
    meta.post("/1/feed").respond(400, json=graph_error(12345, is_transient=True))

    with pytest.raises(GraphTransientError):
        graph.publish_page_post(page_id="1", page_token=PAGE_TOKEN, message="hi", client=client)


def test_token_errors_tell_the_owner_to_reconnect(
    client: graph.GraphClient, meta: respx.MockRouter
) -> None:
    meta.get("/me").respond(
        400, json=graph_error(190, message="Error validating access token: session invalidated")
    )

    with pytest.raises(GraphTokenError) as caught:
        graph.get_me(user_token=USER_TOKEN, client=client)

    error = caught.value
    assert str(error) == (
        "Facebook no longer accepts this connection (the password changed or access was "
        "removed). Reconnect the account."
    )
    assert error.needs_reconnect
    assert error.meta_message == "Error validating access token: session invalidated"
    assert "code 190" in error.technical_summary
    assert any("fbtrace_id=AbCdEf123" in note for note in error.__notes__)


def test_password_change_is_named_in_the_message(
    client: graph.GraphClient, meta: respx.MockRouter
) -> None:
    meta.get("/me").respond(400, json=graph_error(190, 460))

    with pytest.raises(GraphTokenError, match=r"password was changed\). Reconnect"):
        graph.get_me(user_token=USER_TOKEN, client=client)


def test_invalid_requests_carry_metas_message(
    client: graph.GraphClient, meta: respx.MockRouter
) -> None:
    meta.post("/1/feed").respond(
        400, json=graph_error(100, message="(#100) Invalid parameter", error_user_msg="Bad link")
    )

    with pytest.raises(GraphInvalidRequestError) as caught:
        graph.publish_page_post(page_id="1", page_token=PAGE_TOKEN, link="x", client=client)

    assert str(caught.value) == "Facebook refused the request: Bad link"
    assert caught.value.meta_message == "(#100) Invalid parameter"
    assert caught.value.meta_user_message == "Bad link"


def test_duplicate_posts_are_refused_with_a_clear_message(
    client: graph.GraphClient, meta: respx.MockRouter
) -> None:
    meta.post("/1/feed").respond(400, json=graph_error(506, message="Duplicate status message"))

    with pytest.raises(GraphDuplicateError, match="duplicate"):
        graph.publish_page_post(page_id="1", page_token=PAGE_TOKEN, message="hi", client=client)


def test_errors_survive_pickling_for_celery(
    client: graph.GraphClient, meta: respx.MockRouter
) -> None:
    meta.get("/me").respond(400, json=graph_error(190, 463))
    with pytest.raises(GraphTokenError) as caught:
        graph.get_me(user_token=USER_TOKEN, client=client)

    copy = pickle.loads(pickle.dumps(caught.value))  # noqa: S301 - our own object

    assert type(copy) is GraphTokenError
    assert (copy.code, copy.subcode, str(copy)) == (190, 463, str(caught.value))


# --- retries and backoff -----------------------------------------------------------------------


def test_transient_errors_on_a_get_are_retried_up_to_the_limit_with_backoff(
    client: graph.GraphClient, meta: respx.MockRouter, sleeps: list[float]
) -> None:
    route = meta.get("/me").respond(500, json=graph_error(2, message="Service unavailable"))

    with pytest.raises(GraphTransientError) as caught:
        graph.get_me(user_token=USER_TOKEN, client=client)

    assert route.call_count == 4  # 1 + GRAPH_MAX_RETRIES
    assert sleeps == [0.5, 1.0, 2.0]  # exponential ceilings (jitter pinned to 1.0)
    assert not caught.value.outcome_unknown


def test_a_get_recovers_when_a_retry_succeeds(
    client: graph.GraphClient, meta: respx.MockRouter, sleeps: list[float]
) -> None:
    route = meta.get("/me")
    route.side_effect = [
        httpx.Response(502, text="<html>Bad gateway</html>"),
        httpx.Response(500, json=graph_error(1, message="An unknown error occurred")),
        httpx.Response(200, json={"id": "42"}),
    ]

    assert graph.get_me(user_token=USER_TOKEN, client=client).id == "42"
    assert route.call_count == 3
    assert len(sleeps) == 2


def test_backoff_uses_full_jitter_and_a_cap(config: graph.GraphConfig) -> None:
    draws = iter([0.25, 0.0, 1.0, 1.0, 1.0, 1.0])
    capped = graph.GraphConfig(
        app_id=APP_ID,
        app_secret=APP_SECRET,
        graph_url=GRAPH,
        max_retries=6,
        backoff_base_seconds=1.0,
        backoff_cap_seconds=4.0,
    )
    sleeps: list[float] = []
    with (
        graph.GraphClient(capped, sleep=sleeps.append, jitter=lambda: next(draws)) as c,
        respx.mock(base_url=BASE) as router,
    ):
        router.get("/me").respond(503)
        with pytest.raises(GraphTransientError):
            graph.get_me(user_token=USER_TOKEN, client=c)

    assert sleeps == [0.25, 0.0, 4.0, 4.0, 4.0, 4.0]


@pytest.mark.parametrize(
    "failure",
    [
        httpx.Response(500, json=graph_error(2)),
        httpx.Response(503, text="unavailable"),
    ],
)
def test_a_publishing_post_is_never_retried_and_its_outcome_is_unknown(
    client: graph.GraphClient,
    meta: respx.MockRouter,
    sleeps: list[float],
    failure: httpx.Response,
) -> None:
    route = meta.post("/1/feed")
    route.side_effect = [failure, httpx.Response(200, json={"id": "1_2"})]

    with pytest.raises(GraphTransientError) as caught:
        graph.publish_page_post(page_id="1", page_token=PAGE_TOKEN, message="hi", client=client)

    assert route.call_count == 1
    assert sleeps == []
    assert caught.value.outcome_unknown


def test_media_not_ready_on_publish_is_transient_and_known_not_to_have_published(
    client: graph.GraphClient, meta: respx.MockRouter
) -> None:
    route = meta.post("/17841/media_publish").respond(
        400, json=graph_error(9007, 2207027, message="Media ID is not available")
    )

    with pytest.raises(GraphTransientError) as caught:
        graph.publish_ig_container(
            ig_user_id="17841", token=PAGE_TOKEN, creation_id="9", client=client
        )

    assert route.call_count == 1
    assert not caught.value.outcome_unknown
    assert "still processing" in str(caught.value)


def test_rate_limits_are_not_retried_and_carry_metas_estimate(
    client: graph.GraphClient, meta: respx.MockRouter, sleeps: list[float]
) -> None:
    usage = {
        "112233": [
            {
                "type": "pages",
                "call_count": 100,
                "total_cputime": 40,
                "total_time": 30,
                "estimated_time_to_regain_access": 7,
            }
        ]
    }
    route = meta.get("/me").respond(
        400,
        json=graph_error(32, message="Page request limit reached"),
        headers={"X-Business-Use-Case-Usage": json.dumps(usage)},
    )

    with pytest.raises(GraphRateLimitError) as caught:
        graph.get_me(user_token=USER_TOKEN, client=client)

    assert route.call_count == 1
    assert sleeps == []
    assert caught.value.retry_after == 7 * 60
    assert "about 7 minutes" in str(caught.value)
    assert caught.value.usage is not None
    assert caught.value.usage.max_percent == 100


def test_rate_limits_without_an_estimate_use_retry_after_or_a_default_backoff(
    client: graph.GraphClient, meta: respx.MockRouter
) -> None:
    meta.get("/me").respond(400, json=graph_error(4))
    meta.get("/1").respond(429, text="slow down", headers={"Retry-After": "90"})

    with pytest.raises(GraphRateLimitError) as default:
        graph.get_me(user_token=USER_TOKEN, client=client)
    with pytest.raises(GraphRateLimitError) as header:
        client.request("GET", "/{id}", ids=("1",), token=USER_TOKEN)

    assert default.value.retry_after == client.config.rate_limit_backoff_seconds
    assert header.value.retry_after == 90


def test_the_instagram_publishing_limit_backs_off_for_longer(
    client: graph.GraphClient, meta: respx.MockRouter
) -> None:
    meta.post("/17841/media_publish").respond(400, json=graph_error(9, 2207042))

    with pytest.raises(GraphRateLimitError) as caught:
        graph.publish_ig_container(
            ig_user_id="17841", token=PAGE_TOKEN, creation_id="9", client=client
        )

    assert caught.value.is_publishing_limit
    assert caught.value.retry_after == client.config.publishing_limit_backoff_seconds
    assert "publishing limit" in str(caught.value)


# --- timeouts and network failures -------------------------------------------------------------


def test_a_timed_out_get_is_retried_then_raises_a_timeout(
    client: graph.GraphClient, meta: respx.MockRouter, sleeps: list[float]
) -> None:
    route = meta.get("/me").mock(side_effect=httpx.ReadTimeout("slow"))

    with pytest.raises(GraphTimeoutError) as caught:
        graph.get_me(user_token=USER_TOKEN, client=client)

    assert route.call_count == 4
    assert len(sleeps) == 3
    assert not caught.value.outcome_unknown
    assert isinstance(caught.value, GraphTransientError)


def test_a_timed_out_publishing_post_has_an_unknown_outcome(
    client: graph.GraphClient, meta: respx.MockRouter, sleeps: list[float]
) -> None:
    route = meta.post("/1/feed").mock(side_effect=httpx.ReadTimeout("slow"))

    with pytest.raises(GraphTimeoutError) as caught:
        graph.publish_page_post(page_id="1", page_token=PAGE_TOKEN, message="hi", client=client)

    assert route.call_count == 1
    assert sleeps == []
    assert caught.value.outcome_unknown
    assert "check whether it went through" in str(caught.value)


def test_a_post_that_never_connected_is_known_not_to_have_acted(
    client: graph.GraphClient, meta: respx.MockRouter
) -> None:
    route = meta.post("/1/feed").mock(side_effect=httpx.ConnectError("refused"))

    with pytest.raises(GraphTransientError) as caught:
        graph.publish_page_post(page_id="1", page_token=PAGE_TOKEN, message="hi", client=client)

    assert route.call_count == 1
    assert not caught.value.outcome_unknown


def test_a_dropped_connection_after_a_post_has_an_unknown_outcome(
    client: graph.GraphClient, meta: respx.MockRouter
) -> None:
    meta.post("/1/feed").mock(side_effect=httpx.RemoteProtocolError("server hung up"))

    with pytest.raises(GraphTransientError) as caught:
        graph.publish_page_post(page_id="1", page_token=PAGE_TOKEN, message="hi", client=client)

    assert caught.value.outcome_unknown
    assert not isinstance(caught.value, GraphTimeoutError)


def test_every_call_has_a_timeout(client: graph.GraphClient, meta: respx.MockRouter) -> None:
    route = meta.get("/me").respond(json={"id": "42"})

    graph.get_me(user_token=USER_TOKEN, client=client)

    timeout = route.calls.last.request.extensions["timeout"]
    assert timeout["read"] == client.config.timeout_seconds
    assert timeout["connect"] == client.config.connect_timeout_seconds


# --- malformed answers -------------------------------------------------------------------------


def test_an_answer_that_is_not_json_is_malformed(
    client: graph.GraphClient, meta: respx.MockRouter
) -> None:
    meta.get("/me").respond(200, text="<html>hello</html>")

    with pytest.raises(GraphMalformedResponseError, match="could not understand"):
        graph.get_me(user_token=USER_TOKEN, client=client)


def test_a_client_error_without_a_graph_error_object_is_malformed(
    client: graph.GraphClient, meta: respx.MockRouter
) -> None:
    meta.get("/me").respond(404, text="not found")

    with pytest.raises(GraphMalformedResponseError) as caught:
        graph.get_me(user_token=USER_TOKEN, client=client)

    assert caught.value.http_status == 404


@pytest.mark.parametrize("body", [{}, {"id": None}, {"id": ["1"]}, [], {"id": ""}])
def test_a_publish_answer_without_an_id_is_malformed_with_an_unknown_outcome(
    client: graph.GraphClient, meta: respx.MockRouter, body: Any
) -> None:
    meta.post("/1/feed").respond(200, json=body)

    with pytest.raises(GraphMalformedResponseError) as caught:
        graph.publish_page_post(page_id="1", page_token=PAGE_TOKEN, message="hi", client=client)

    assert caught.value.outcome_unknown
    assert "POST /{id}/feed" in caught.value.technical_summary


def test_a_wrongly_typed_field_names_the_field(
    client: graph.GraphClient, meta: respx.MockRouter
) -> None:
    meta.get("/17841/content_publishing_limit").respond(
        json={"data": [{"quota_usage": "2", "config": {"quota_total": 50, "quota_duration": 1}}]}
    )

    with pytest.raises(GraphMalformedResponseError) as caught:
        graph.get_ig_publishing_limit(ig_user_id="17841", token=PAGE_TOKEN, client=client)

    assert "'quota_usage' should be an integer, got str" in caught.value.detail
    assert not caught.value.outcome_unknown


# --- usage headers -----------------------------------------------------------------------------


def test_usage_headers_are_parsed_on_every_response(
    client: graph.GraphClient, meta: respx.MockRouter
) -> None:
    headers = {
        "X-App-Usage": json.dumps({"call_count": 28, "total_cputime": 12, "total_time": 25}),
        "X-Page-Usage": json.dumps({"call_count": 5, "total_cputime": 61, "total_time": 3}),
        "X-Business-Use-Case-Usage": json.dumps(
            {
                "555": [
                    {
                        "type": "instagram",
                        "call_count": 44,
                        "total_cputime": 2,
                        "total_time": 9,
                        "estimated_time_to_regain_access": 0,
                    }
                ]
            }
        ),
    }
    meta.get("/me").respond(json={"id": "42"}, headers=headers)

    response = client.request("GET", "/me", token=USER_TOKEN)

    usage = response.usage
    assert usage.app == graph.UsageStats(call_count=28, total_cputime=12, total_time=25)
    assert usage.page is not None
    assert usage.page.total_cputime == 61
    assert usage.business == (
        graph.BusinessUseCaseUsage(
            object_id="555",
            type="instagram",
            stats=graph.UsageStats(call_count=44, total_cputime=2, total_time=9),
        ),
    )
    assert usage.max_percent == 61
    assert usage.regain_access_seconds is None
    assert client.last_usage == usage


def test_unreadable_usage_headers_are_ignored(
    client: graph.GraphClient, meta: respx.MockRouter
) -> None:
    meta.get("/me").respond(
        json={"id": "42"},
        headers={"X-App-Usage": "{not json", "X-Business-Use-Case-Usage": '{"1": "x"}'},
    )

    response = client.request("GET", "/me", token=USER_TOKEN)

    assert response.usage.is_empty


# --- logging, metrics, secrecy -----------------------------------------------------------------


def test_one_log_line_per_http_call_with_the_endpoint_template(
    client: graph.GraphClient, meta: respx.MockRouter, logs: pytest.LogCaptureFixture
) -> None:
    meta.get("/123/posts").respond(
        json={"data": []}, headers={"X-App-Usage": json.dumps({"call_count": 12})}
    )
    route = meta.get("/me")
    route.side_effect = [httpx.Response(500, json=graph_error(2)), httpx.Response(200, json={})]

    graph.list_page_posts(
        page_id="123", page_token=PAGE_TOKEN, since=datetime(2026, 1, 1, tzinfo=UTC), client=client
    )
    with pytest.raises(GraphMalformedResponseError):
        graph.get_me(user_token=USER_TOKEN, client=client)

    calls = graph_calls(logs)
    assert [(c["method"], c["endpoint"], c["status"], c["attempt"]) for c in calls] == [
        ("GET", "/{id}/posts", 200, 1),
        ("GET", "/me", 500, 1),
        ("GET", "/me", 200, 2),
    ]
    assert calls[0]["error"] is None
    assert calls[0]["usage_pct"] == 12
    assert (calls[1]["error"], calls[1]["code"], calls[1]["fbtrace_id"]) == (
        "GraphTransientError",
        2,
        "AbCdEf123",
    )
    assert calls[1]["retry_in_ms"] == 500.0
    assert all(isinstance(c["duration_ms"], float) for c in calls)


def test_the_metrics_hook_sees_every_call(
    client: graph.GraphClient, meta: respx.MockRouter
) -> None:
    seen: list[graph.GraphCallRecord] = []
    graph.reset_graph_call_counts()
    graph.add_graph_call_observer(seen.append)
    try:
        meta.get("/1/feed").respond(400, json=graph_error(100))
        meta.get("/me").respond(json={"id": "42"})
        graph.get_me(user_token=USER_TOKEN, client=client)
        with pytest.raises(GraphInvalidRequestError):
            client.request("GET", "/{id}/feed", ids=("1",), token=PAGE_TOKEN)
    finally:
        graph.remove_graph_call_observer(seen.append)

    assert [(r.endpoint, r.outcome, r.code) for r in seen] == [
        ("/me", "ok", None),
        ("/{id}/feed", "GraphInvalidRequestError", 100),
    ]
    assert graph.graph_call_counts() == {
        ("GET", "/me", "ok"): 1,
        ("GET", "/{id}/feed", "GraphInvalidRequestError"): 1,
    }


def test_a_failing_metrics_observer_never_breaks_a_call(
    client: graph.GraphClient, meta: respx.MockRouter
) -> None:
    def broken(record: graph.GraphCallRecord) -> None:
        raise RuntimeError("exporter down")

    graph.add_graph_call_observer(broken)
    try:
        meta.get("/me").respond(json={"id": "42"})
        assert graph.get_me(user_token=USER_TOKEN, client=client).id == "42"
    finally:
        graph.remove_graph_call_observer(broken)


def test_no_secret_reaches_logs_exceptions_or_results(
    client: graph.GraphClient, meta: respx.MockRouter, logs: pytest.LogCaptureFixture
) -> None:
    # Meta echoing the token back in an error message is the worst case.
    meta.get("/me/accounts").respond(
        400,
        json=graph_error(
            190, 460, message=f"Bad token {USER_TOKEN} / proof {proof_of(USER_TOKEN)}"
        ),
    )
    meta.get("/oauth/access_token").respond(
        400, json=graph_error(100, message=f"code AQxyz-code-0987 used; secret {APP_SECRET}")
    )
    meta.post("/1/feed").mock(side_effect=httpx.ReadTimeout(f"timeout for {PAGE_TOKEN}"))
    meta.get("/1").respond(json={"id": "1", "name": "Page", "access_token": PAGE_TOKEN})

    errors: list[GraphError] = []
    for call in (
        lambda: graph.list_pages(user_token=USER_TOKEN, client=client),
        lambda: graph.exchange_code(
            code="AQxyz-code-0987", redirect_uri="https://x", client=client
        ),
        lambda: graph.publish_page_post(
            page_id="1", page_token=PAGE_TOKEN, message="m", client=client
        ),
    ):
        with pytest.raises(GraphError) as caught:
            call()
        errors.append(caught.value)
    token = graph.UserToken(access_token=USER_TOKEN, token_type="bearer", expires_at=None)
    page = graph.FacebookPage(id="1", name="Page", access_token=PAGE_TOKEN)

    secrets = [USER_TOKEN, PAGE_TOKEN, APP_SECRET, proof_of(USER_TOKEN), "AQxyz-code-0987"]
    texts = [logs.text, str(token), repr(token), str(page), repr(page), repr(client)]
    for error in errors:
        texts += [str(error), repr(error), error.technical_summary, *error.__notes__]
        texts += [error.meta_message or "", error.detail]
    for secret in secrets:
        for text in texts:
            assert secret not in text
    assert "[redacted]" in errors[0].meta_message  # type: ignore[operator]


# --- the process-wide client -------------------------------------------------------------------


def test_the_shared_client_is_built_once_per_process_and_can_be_reset(settings: Any) -> None:
    graph.close_client()
    settings.FACEBOOK_GRAPH_URL = "https://first.test"
    first = graph.get_client()
    assert graph.get_client() is first
    assert first.config.graph_url == "https://first.test"

    settings.FACEBOOK_GRAPH_URL = "https://second.test"  # a settings change resets it
    second = graph.get_client()
    assert second is not first
    assert second.config.graph_url == "https://second.test"

    client_module._forget_client_after_fork()  # what a forked child runs
    assert graph.get_client() is not second
    graph.close_client()


def test_set_client_installs_a_client_for_everything(
    config: graph.GraphConfig, meta: respx.MockRouter
) -> None:
    mine = graph.GraphClient(config)
    previous = graph.set_client(mine)
    try:
        meta.get("/me").respond(json={"id": "7"})
        assert graph.get_me(user_token=USER_TOKEN).id == "7"
        assert graph.get_client() is mine
    finally:
        graph.set_client(previous)
        mine.close()


def test_config_from_settings_reads_the_facebook_settings(settings: Any) -> None:
    settings.FACEBOOK_APP_ID = "id-from-settings"
    settings.FACEBOOK_APP_SECRET = "secret-from-settings"
    settings.FACEBOOK_GRAPH_VERSION = "v99.0"
    settings.GRAPH_TIMEOUT_SECONDS = 3.0
    settings.GRAPH_MAX_RETRIES = 1

    config = graph.GraphConfig.from_settings()

    assert (config.app_id, config.version, config.timeout_seconds) == (
        "id-from-settings",
        "v99.0",
        3.0,
    )
    assert config.connect_timeout_seconds == 3.0
    assert config.max_retries == 1
    assert "secret-from-settings" not in repr(config)


def test_threads_share_one_client(settings: Any) -> None:
    graph.close_client()
    with ThreadPoolExecutor(max_workers=8) as pool:
        clients = set(pool.map(lambda _: id(graph.get_client()), range(32)))
    assert len(clients) == 1
    graph.close_client()


@pytest.mark.parametrize(
    "overrides",
    [{"app_secret": ""}, {"timeout_seconds": 0}, {"max_retries": -1}, {"max_pages": 0}],
)
def test_an_unusable_config_is_refused(overrides: dict[str, Any]) -> None:
    values: dict[str, Any] = {"app_id": APP_ID, "app_secret": APP_SECRET, **overrides}
    with pytest.raises(ValueError, match=r"Graph|app|max_"):
        graph.GraphConfig(**values)
