"""The insights functions of the Graph client: the requests, Meta's answer shapes, error #10,
a retired metric refused, windows split. respx stands in for Meta; no network, no database."""

import hashlib
import hmac
import logging
import pickle
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import respx

from apps.social import graph
from apps.social.graph.errors import (
    GraphInvalidRequestError,
    GraphMalformedResponseError,
    GraphNotEnoughViewersError,
    GraphPermissionError,
)

GRAPH = "https://graph.test"
BASE = f"{GRAPH}/v25.0"
APP_SECRET = "app-secret-0123456789"
PAGE_TOKEN = "EAApage-token-SECRET-2222"
IG_TOKEN = "EAAig-token-SECRET-3333"
T0 = datetime(2026, 1, 1, tzinfo=UTC)
META_TIME = "%Y-%m-%dT%H:%M:%S%z"  # 2026-01-02T00:00:00+0000


def proof_of(token: str) -> str:
    return hmac.new(APP_SECRET.encode(), token.encode(), hashlib.sha256).hexdigest()


def graph_error(code: int, message: str, subcode: int | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {
        "message": message,
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": "AbCdEf123",
    }
    if subcode is not None:
        error["error_subcode"] = subcode
    return {"error": error}


def lifetime(name: str, value: Any, object_id: str = "17900") -> dict[str, Any]:
    return {
        "name": name,
        "period": "lifetime",
        "values": [{"value": value}],
        "title": name.title(),
        "description": "…",
        "id": f"{object_id}/insights/{name}/lifetime",
    }


def daily(name: str, start: datetime, counts: list[int], object_id: str = "123") -> dict[str, Any]:
    return {
        "name": name,
        "period": "day",
        "values": [
            {
                "value": n,
                "end_time": (start + timedelta(days=i + 1)).strftime("%Y-%m-%dT%H:%M:%S%z"),
            }
            for i, n in enumerate(counts)
        ],
        "title": "Daily",
        "description": "…",
        "id": f"{object_id}/insights/{name}/day",
    }


@pytest.fixture
def client() -> Iterator[graph.GraphClient]:
    config = graph.GraphConfig(
        app_id="app-1",
        app_secret=APP_SECRET,
        graph_url=GRAPH,
        dialog_url="https://www.fb.test",
        version="v25.0",
        max_retries=1,
    )
    with graph.GraphClient(config, sleep=lambda _: None, jitter=lambda: 0.0) as c:
        yield c


@pytest.fixture
def meta() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        yield router


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    return caplog


# --- requests ----------------------------------------------------------------------------------


def test_ig_media_insights_asks_for_the_metrics_with_the_token_in_the_header_only(
    client: graph.GraphClient, meta: respx.MockRouter, logs: pytest.LogCaptureFixture
) -> None:
    route = meta.get("/17900/insights").respond(
        json={"data": [lifetime("reach", 120), lifetime("views", 300)]}
    )

    insights = graph.get_ig_media_insights(
        media_id="17900", token=IG_TOKEN, metrics=["reach", "views"], client=client
    )

    request = route.calls.last.request
    assert dict(request.url.params) == {
        "metric": "reach,views",
        "appsecret_proof": proof_of(IG_TOKEN),
    }
    assert request.headers["Authorization"] == f"OAuth {IG_TOKEN}"
    assert IG_TOKEN not in str(request.url)
    assert insights == graph.Insights(
        object_id="17900",
        metrics=(
            graph.InsightMetric("reach", "lifetime", (graph.InsightPoint(120),), None, "Reach"),
            graph.InsightMetric("views", "lifetime", (graph.InsightPoint(300),), None, "Views"),
        ),
    )
    assert insights.value("views") == 300
    assert "/{id}/insights" in logs.text
    assert IG_TOKEN not in logs.text
    assert proof_of(IG_TOKEN) not in logs.text


def test_ig_account_insights_sends_period_metric_type_and_the_window(
    client: graph.GraphClient, meta: respx.MockRouter
) -> None:
    route = meta.get("/178414/insights").respond(
        json={
            "data": [
                {
                    "name": "views",
                    "period": "day",
                    "total_value": {"value": 4321},
                    "title": "Views",
                    "description": "…",
                    "id": "178414/insights/views/day",
                },
                {
                    "name": "accounts_engaged",
                    "period": "day",
                    "total_value": {"value": 87},
                    "title": "Accounts engaged",
                    "id": "178414/insights/accounts_engaged/day",
                },
            ]
        }
    )

    insights = graph.get_ig_account_insights(
        ig_user_id="178414",
        token=IG_TOKEN,
        metrics=("views", "accounts_engaged"),
        since=T0,
        until=T0 + timedelta(days=7),
        client=client,
    )

    params = dict(route.calls.last.request.url.params)
    assert params == {
        "metric": "views,accounts_engaged",
        "period": "day",
        "metric_type": "total_value",
        "since": str(int(T0.timestamp())),
        "until": str(int((T0 + timedelta(days=7)).timestamp())),
        "appsecret_proof": proof_of(IG_TOKEN),
    }
    assert insights.value("views") == 4321
    assert insights.get("accounts_engaged") == graph.InsightMetric(
        "accounts_engaged", "day", (), 87, "Accounts engaged"
    )


def test_page_post_insights_read_counts_and_objects_of_counts(
    client: graph.GraphClient, meta: respx.MockRouter
) -> None:
    route = meta.get("/123_456/insights").respond(
        json={
            "data": [
                lifetime("post_media_view", 950, "123_456"),
                lifetime("post_reactions_by_type_total", {"like": 12, "love": 3}, "123_456"),
                lifetime("post_clicks", 0, "123_456"),
            ]
        }
    )

    insights = graph.get_page_post_insights(
        post_id="123_456",
        token=PAGE_TOKEN,
        metrics=["post_media_view", "post_reactions_by_type_total", "post_clicks"],
        client=client,
    )

    assert route.calls.last.request.url.params["metric"] == (
        "post_media_view,post_reactions_by_type_total,post_clicks"
    )
    assert insights.value("post_media_view") == 950
    assert insights.value("post_reactions_by_type_total") == {"like": 12, "love": 3}
    assert insights.value("post_clicks") == 0  # a real zero is kept, not confused with "no data"
    assert insights.names == ("post_media_view", "post_reactions_by_type_total", "post_clicks")


def test_page_insights_read_a_daily_series(
    client: graph.GraphClient, meta: respx.MockRouter
) -> None:
    route = meta.get("/123/insights").respond(
        json={"data": [daily("page_media_view", T0, [10, 20, 30])], "paging": {"previous": "x"}}
    )

    insights = graph.get_page_insights(
        page_id="123",
        token=PAGE_TOKEN,
        metrics=["page_media_view"],
        since=T0,
        until=T0 + timedelta(days=3),
        client=client,
    )

    params = route.calls.last.request.url.params
    assert (params["metric"], params["period"]) == ("page_media_view", "day")
    assert "metric_type" not in params
    metric = insights.get("page_media_view", "day")
    assert metric is not None
    assert [(p.end_time, p.value) for p in metric.values] == [
        (T0 + timedelta(days=1), 10),
        (T0 + timedelta(days=2), 20),
        (T0 + timedelta(days=3), 30),
    ]
    assert metric.value == 30


def test_an_empty_answer_is_no_metrics_not_zeros(
    client: graph.GraphClient, meta: respx.MockRouter
) -> None:
    meta.get("/17900/insights").respond(json={"data": []})

    insights = graph.get_ig_media_insights(
        media_id="17900", token=IG_TOKEN, metrics=["reach"], client=client
    )

    assert insights.metrics == ()
    assert insights.value("reach") is None


@pytest.mark.parametrize(
    "body",
    [
        {"nodata": []},
        {"data": {"name": "reach"}},
        {"data": [{"period": "lifetime", "values": [{"value": 1}]}]},
        {"data": [{"name": "reach", "values": [{"end_time": "2026-01-01T08:00:00+0000"}]}]},
        {"data": [{"name": "reach", "values": [{"value": "12"}]}]},
        {"data": [{"name": "reach", "values": [{"value": True}]}]},
        {"data": [{"name": "reach", "values": [{"value": {"like": "3"}}]}]},
        {"data": [{"name": "reach", "values": [{"value": 1, "end_time": "yesterday"}]}]},
        {"data": [{"name": "views", "total_value": {"breakdowns": []}}]},
        {"data": [{"name": "views", "total_value": 12}]},
    ],
)
def test_a_malformed_answer_is_the_malformed_response_error(
    client: graph.GraphClient, meta: respx.MockRouter, body: dict[str, Any]
) -> None:
    meta.get("/17900/insights").respond(json=body)

    with pytest.raises(GraphMalformedResponseError) as caught:
        graph.get_ig_media_insights(
            media_id="17900", token=IG_TOKEN, metrics=["reach"], client=client
        )

    assert caught.value.endpoint == "/{id}/insights"


# --- errors ------------------------------------------------------------------------------------


def test_not_enough_viewers_is_its_own_error_and_keeps_meta_s_detail(
    client: graph.GraphClient, meta: respx.MockRouter
) -> None:
    meta.get("/17900/insights").respond(
        400, json=graph_error(10, "(#10) Not enough viewers for the media to show insights")
    )

    with pytest.raises(GraphNotEnoughViewersError) as caught:
        graph.get_ig_media_insights(
            media_id="17900", token=IG_TOKEN, metrics=["reach", "views"], client=client
        )

    error = caught.value
    assert isinstance(error, GraphPermissionError)  # existing handlers still catch it
    assert error.needs_reconnect is False
    assert str(error) == GraphNotEnoughViewersError.default_user_message
    assert (error.code, error.http_status, error.fbtrace_id) == (10, 400, "AbCdEf123")
    assert error.endpoint == "/{id}/insights"
    rebuilt = pickle.loads(pickle.dumps(error))  # noqa: S301 (our own object, as Celery does)
    assert isinstance(rebuilt, GraphNotEnoughViewersError)


def test_another_code_10_stays_a_permission_error(
    client: graph.GraphClient, meta: respx.MockRouter
) -> None:
    meta.get("/123/insights").respond(
        403, json=graph_error(10, "(#10) This endpoint requires the 'read_insights' permission")
    )

    with pytest.raises(GraphPermissionError) as caught:
        graph.get_page_post_insights(
            post_id="123", token=PAGE_TOKEN, metrics=["post_clicks"], client=client
        )

    assert not isinstance(caught.value, GraphNotEnoughViewersError)
    assert caught.value.needs_reconnect is True


def test_a_retired_metric_refused_by_meta_is_the_invalid_request_error(
    client: graph.GraphClient, meta: respx.MockRouter, logs: pytest.LogCaptureFixture
) -> None:
    route = meta.get("/123/insights").respond(
        400,
        json=graph_error(
            100,
            "(#100) The value must be a valid insights metric",
        ),
    )

    with pytest.raises(GraphInvalidRequestError) as caught:
        graph.get_page_insights(
            page_id="123",
            token=PAGE_TOKEN,
            metrics=["page_impressions"],
            since=T0,
            until=T0 + timedelta(days=1),
            client=client,
        )

    assert caught.value.code == 100
    assert "valid insights metric" in str(caught.value)
    assert route.call_count == 1  # not retried: asking again cannot help
    texts = [str(caught.value), repr(caught.value), *caught.value.__notes__, logs.text]
    assert all(PAGE_TOKEN not in t and proof_of(PAGE_TOKEN) not in t for t in texts)


# --- windows -----------------------------------------------------------------------------------


def test_a_page_window_longer_than_90_days_is_read_in_calls_and_joined(
    client: graph.GraphClient, meta: respx.MockRouter
) -> None:
    until = T0 + timedelta(days=100)
    cut = T0 + timedelta(days=90)
    route = meta.get("/123/insights")
    route.side_effect = [
        httpx.Response(
            200, json={"data": [daily("page_follows", cut - timedelta(days=2), [5, 6])]}
        ),
        # Meta may repeat the edge day: it is kept once.
        httpx.Response(
            200, json={"data": [daily("page_follows", cut - timedelta(days=1), [6, 7, 8])]}
        ),
    ]

    insights = graph.get_page_insights(
        page_id="123",
        token=PAGE_TOKEN,
        metrics=["page_follows"],
        since=T0,
        until=until,
        client=client,
    )

    windows = [
        (int(c.request.url.params["since"]), int(c.request.url.params["until"]))
        for c in route.calls
    ]
    stamp = lambda moment: int(moment.timestamp())  # noqa: E731
    assert windows == [(stamp(T0), stamp(cut)), (stamp(cut), stamp(until))]
    metric = insights.get("page_follows")
    assert metric is not None
    assert [p.value for p in metric.values] == [5, 6, 7, 8]
    assert [p.end_time for p in metric.values] == [
        cut - timedelta(days=1),
        cut,
        cut + timedelta(days=1),
        cut + timedelta(days=2),
    ]


def test_an_ig_time_series_over_30_days_is_split(
    client: graph.GraphClient, meta: respx.MockRouter
) -> None:
    route = meta.get("/178414/insights")
    route.side_effect = [
        httpx.Response(200, json={"data": [daily("follower_count", T0, [1])]}),
        httpx.Response(200, json={"data": [daily("follower_count", T0 + timedelta(days=30), [2])]}),
    ]

    insights = graph.get_ig_account_insights(
        ig_user_id="178414",
        token=IG_TOKEN,
        metrics=["follower_count"],
        since=T0,
        until=T0 + timedelta(days=45),
        metric_type=None,
        client=client,
    )

    assert route.call_count == 2
    assert "metric_type" not in route.calls[0].request.url.params
    metric = insights.get("follower_count")
    assert metric is not None
    assert [p.value for p in metric.values] == [1, 2]


def test_ig_totals_over_more_than_30_days_are_refused_before_any_call(
    client: graph.GraphClient, meta: respx.MockRouter
) -> None:
    route = meta.get("/178414/insights").respond(json={"data": []})

    with pytest.raises(ValueError, match="30 days"):
        graph.get_ig_account_insights(
            ig_user_id="178414",
            token=IG_TOKEN,
            metrics=["reach"],
            since=T0,
            until=T0 + timedelta(days=31),
            client=client,
        )

    assert route.call_count == 0


@pytest.mark.parametrize(
    ("metrics", "since", "until"),
    [
        ([], T0, T0 + timedelta(days=1)),
        ("reach", T0, T0 + timedelta(days=1)),
        (["reach,views"], T0, T0 + timedelta(days=1)),
        (["reach"], T0, T0),
        (["reach"], datetime(2026, 1, 1), datetime(2026, 1, 2)),  # noqa: DTZ001
    ],
)
def test_bad_arguments_are_refused_before_any_call(
    client: graph.GraphClient,
    meta: respx.MockRouter,
    metrics: Any,
    since: datetime,
    until: datetime,
) -> None:
    route = meta.get("/123/insights").respond(json={"data": []})

    with pytest.raises((ValueError, TypeError)):
        graph.get_page_insights(
            page_id="123",
            token=PAGE_TOKEN,
            metrics=metrics,
            since=since,
            until=until,
            client=client,
        )

    assert route.call_count == 0
