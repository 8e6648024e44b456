"""Insights in the sandbox (`sandbox/insights.py`): Instagram media and account insights on both
Instagram mounts, Facebook post and Page insights — Meta's current metrics, growing with the
clock, the retired ones refusing the whole request, the windows and the permissions — over
HTTP, as the product meets them."""

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from sandbox import BISTRO_IG_ID, BISTRO_IG_LOGIN_ID, BISTRO_PAGE_ID
from tests.sandbox.test_sandbox import ImageHost, SandboxApi, graph_error, running_sandbox
from tests.sandbox.test_sandbox_video import mp4

DAY = 86_400
IMAGE = "https://cdn.example/plate.jpg"
IG_SCOPES = ["instagram_basic", "instagram_content_publish", "instagram_manage_insights"]
FB_SCOPES = ["pages_read_engagement", "pages_manage_posts", "read_insights"]
IG_LOGIN_SCOPES = [
    "instagram_business_basic",
    "instagram_business_content_publish",
    "instagram_business_manage_insights",
]
MEDIA_METRICS = "views,reach,saved,shares,total_interactions,likes,comments"


@pytest.fixture
def sandbox() -> Iterator[SandboxApi]:
    with running_sandbox() as api:
        api.configure(fetch_media=False, appsecret_proof_required=False)
        yield api


def ig_media(sandbox: SandboxApi, token: str, **data: Any) -> str:
    container = sandbox.post(f"/{BISTRO_IG_ID}/media", token, **data).json()["id"]
    answer = sandbox.post(f"/{BISTRO_IG_ID}/media_publish", token, creation_id=container).json()
    return str(answer["id"])


def values(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert "data" in body, body
    return {d["name"]: d["values"][0]["value"] for d in body["data"]}


def refused(response: httpx.Response, code: int = 100) -> str:
    assert response.status_code in (400, 403), response.text
    error = graph_error(response)
    assert (error["code"], error["type"]) == (code, "OAuthException")
    return str(error["message"])


# --- Instagram media ------------------------------------------------------------------------


def test_media_insights_answer_metas_shape_and_grow_with_the_clock(sandbox: SandboxApi) -> None:
    token = sandbox.page_token(scopes=IG_SCOPES)
    media_id = ig_media(sandbox, token, image_url=IMAGE, caption="Plates")

    fresh = sandbox.get(f"/{media_id}/insights", token, metric=MEDIA_METRICS)
    assert fresh.status_code == 200
    first = fresh.json()["data"][1]
    assert first["name"] == "reach"
    assert first["period"] == "lifetime"
    assert first["id"] == f"{media_id}/insights/reach/lifetime"
    assert first["title"]
    assert first["description"]
    assert [d["name"] for d in fresh.json()["data"]] == MEDIA_METRICS.split(",")
    assert values(fresh) == dict.fromkeys(MEDIA_METRICS.split(","), 0)

    sandbox.advance(DAY)
    day = values(sandbox.get(f"/{media_id}/insights", token, metric=MEDIA_METRICS))
    again = values(sandbox.get(f"/{media_id}/insights", token, metric=MEDIA_METRICS))
    sandbox.advance(6 * DAY)
    week = values(sandbox.get(f"/{media_id}/insights", token, metric=MEDIA_METRICS))

    assert day == again
    assert day["views"] >= day["reach"] > 0
    assert all(week[name] >= day[name] for name in day)
    assert week["reach"] > day["reach"]
    counts = sandbox.get(f"/{media_id}", token, fields="like_count,comments_count").json()
    assert (week["likes"], week["comments"]) == (counts["like_count"], counts["comments_count"])
    assert week["total_interactions"] == sum(
        week[n] for n in ("likes", "comments", "shares", "saved")
    )


@pytest.mark.parametrize("retired", ["impressions", "plays", "video_views", "engagement"])
def test_a_retired_media_metric_refuses_the_whole_request(
    sandbox: SandboxApi, retired: str
) -> None:
    token = sandbox.page_token(scopes=IG_SCOPES)
    media_id = ig_media(sandbox, token, image_url=IMAGE)

    answer = sandbox.get(f"/{media_id}/insights", token, metric=f"reach,{retired}")

    message = refused(answer)
    assert f"the {retired} metric is no longer supported" in message
    assert "data" not in answer.json()


def test_an_unknown_media_metric_names_the_allowed_ones(sandbox: SandboxApi) -> None:
    token = sandbox.page_token(scopes=IG_SCOPES)
    media_id = ig_media(sandbox, token, image_url=IMAGE)

    message = refused(sandbox.get(f"/{media_id}/insights", token, metric="reach,clicks"))

    assert message.startswith("(#100) metric[1] must be one of the following values: views,")


def test_media_insights_need_instagram_manage_insights(sandbox: SandboxApi) -> None:
    token = sandbox.page_token(scopes=IG_SCOPES)
    media_id = ig_media(sandbox, token, image_url=IMAGE)
    without = sandbox.page_token(scopes=["instagram_basic", "instagram_content_publish"])

    message = refused(sandbox.get(f"/{media_id}/insights", without, metric="reach"), code=10)

    assert "instagram_manage_insights" in message


def test_a_carousel_child_has_no_insights(sandbox: SandboxApi) -> None:
    token = sandbox.page_token(scopes=IG_SCOPES)
    children = [
        sandbox.post(
            f"/{BISTRO_IG_ID}/media", token, image_url=IMAGE, is_carousel_item="true"
        ).json()["id"]
        for _ in range(2)
    ]
    album = ig_media(sandbox, token, media_type="CAROUSEL", children=",".join(children))
    child = sandbox.get(f"/{album}", token, fields="children").json()["children"]["data"][0]["id"]

    assert sandbox.get(f"/{album}/insights", token, metric="reach").status_code == 200
    message = refused(sandbox.get(f"/{child}/insights", token, metric="reach"), code=10)
    assert "carousel" in message


def test_a_story_answers_its_metrics_and_expires_after_a_day(sandbox: SandboxApi) -> None:
    token = sandbox.page_token(scopes=IG_SCOPES)
    story = ig_media(sandbox, token, media_type="STORIES", image_url=IMAGE)
    sandbox.advance(3600)

    answer = sandbox.get(f"/{story}/insights", token, metric="reach,views,replies,navigation")
    saved = sandbox.get(f"/{story}/insights", token, metric="reach,saved")
    sandbox.advance(DAY)
    gone = sandbox.get(f"/{story}/insights", token, metric="reach")

    assert set(values(answer)) == {"reach", "views", "replies", "navigation"}
    assert "The metric saved is not supported for this media type" in refused(saved)
    assert graph_error(gone)["code"] == 100
    assert graph_error(gone)["error_subcode"] == 33


def test_a_reel_answers_its_watch_time() -> None:
    host = ImageHost()
    host.routes["/reel.mp4"] = (200, "video/mp4", mp4(12))
    try:
        with running_sandbox() as sandbox:
            sandbox.configure(appsecret_proof_required=False, video_processing_seconds=0)
            token = sandbox.page_token(scopes=IG_SCOPES)
            reel = ig_media(sandbox, token, media_type="REELS", video_url=f"{host.url}/reel.mp4")
            sandbox.advance(DAY)
            metric = "views,ig_reels_avg_watch_time,ig_reels_video_view_total_time"
            answer = values(sandbox.get(f"/{reel}/insights", token, metric=metric))
            image = ig_media(sandbox, token, image_url=f"{host.url}/photo.jpg")
            on_image = sandbox.get(f"/{image}/insights", token, metric="ig_reels_avg_watch_time")
    finally:
        host.close()

    assert answer["ig_reels_avg_watch_time"] > 0
    assert answer["ig_reels_video_view_total_time"] >= answer["views"]
    assert "not supported for this media type" in refused(on_image)


def test_not_enough_viewers_comes_from_a_fault(sandbox: SandboxApi) -> None:
    token = sandbox.page_token(scopes=IG_SCOPES)
    media_id = ig_media(sandbox, token, image_url=IMAGE)
    other = ig_media(sandbox, token, image_url=IMAGE)
    sandbox.fault(
        kind="error",
        match=f"GET /{media_id}/insights",
        code=10,
        status=400,
        message="(#10) Not enough viewers for the media to show insights",
    )

    message = refused(sandbox.get(f"/{media_id}/insights", token, metric="reach"), code=10)

    assert message == "(#10) Not enough viewers for the media to show insights"
    assert sandbox.get(f"/{other}/insights", token, metric="reach").status_code == 200


# --- Instagram accounts ---------------------------------------------------------------------


def test_account_insights_total_value_and_the_follower_series(sandbox: SandboxApi) -> None:
    token = sandbox.page_token(scopes=IG_SCOPES)
    ig_media(sandbox, token, image_url=IMAGE)
    sandbox.advance(3 * DAY)
    path = f"/{BISTRO_IG_ID}/insights"

    totals = sandbox.get(
        path, token, metric="views,reach,likes", period="day", metric_type="total_value"
    ).json()
    series = sandbox.get(
        path, token, metric="follower_count", period="day", since="-3 days", until="now"
    ).json()

    first = totals["data"][0]
    assert first["name"] == "views"
    assert first["period"] == "day"
    assert first["id"] == f"{BISTRO_IG_ID}/insights/views/day"
    by_name = {d["name"]: d["total_value"]["value"] for d in totals["data"]}
    assert by_name["views"] >= by_name["reach"] > 0
    followers = series["data"][0]
    assert followers["name"] == "follower_count"
    assert len(followers["values"]) in (3, 4)
    assert all(set(v) == {"value", "end_time"} for v in followers["values"])
    assert followers["values"][0]["end_time"].endswith("T00:00:00+0000")


def test_account_views_need_metric_type_total_value(sandbox: SandboxApi) -> None:
    token = sandbox.page_token(scopes=IG_SCOPES)

    message = refused(sandbox.get(f"/{BISTRO_IG_ID}/insights", token, metric="views", period="day"))

    assert "(views) should be specified with parameter metric_type=total_value" in message


def test_account_insights_refuse_a_retired_metric_and_a_long_window(sandbox: SandboxApi) -> None:
    token = sandbox.page_token(scopes=IG_SCOPES)
    path = f"/{BISTRO_IG_ID}/insights"
    total = {"period": "day", "metric_type": "total_value"}

    retired = sandbox.get(path, token, metric="reach,impressions", **total)
    too_long = sandbox.get(path, token, metric="reach", since="-31 days", until="now", **total)
    month = sandbox.get(path, token, metric="reach", since="-30 days", until="now", **total)

    assert "the impressions metric is no longer supported for the queried user" in refused(retired)
    assert "more than 30 days (2592000 s) between since and until" in refused(too_long)
    assert month.status_code == 200


def test_account_insights_need_the_insights_permission(sandbox: SandboxApi) -> None:
    token = sandbox.page_token(scopes=["instagram_basic"])

    answer = sandbox.get(
        f"/{BISTRO_IG_ID}/insights", token, metric="reach", period="day", metric_type="total_value"
    )

    assert "instagram_manage_insights" in refused(answer, code=10)


# --- Instagram with Instagram Login ---------------------------------------------------------


def test_instagram_login_answers_the_same_insights(sandbox: SandboxApi) -> None:
    base = f"{sandbox.base_url}/instagram/v25.0"
    token = sandbox.control("POST", "instagram_login/tokens", {"scopes": IG_LOGIN_SCOPES})[
        "access_token"
    ]
    container = httpx.post(
        f"{base}/{BISTRO_IG_LOGIN_ID}/media", data={"access_token": token, "image_url": IMAGE}
    ).json()["id"]
    media_id = httpx.post(
        f"{base}/{BISTRO_IG_LOGIN_ID}/media_publish",
        data={"access_token": token, "creation_id": container},
    ).json()["id"]
    sandbox.advance(DAY)

    media = httpx.get(
        f"{base}/{media_id}/insights", params={"access_token": token, "metric": "views,reach"}
    )
    account = httpx.get(
        f"{base}/{BISTRO_IG_LOGIN_ID}/insights",
        params={
            "access_token": token,
            "metric": "views",
            "period": "day",
            "metric_type": "total_value",
        },
    )
    retired = httpx.get(
        f"{base}/{media_id}/insights", params={"access_token": token, "metric": "plays"}
    )
    basic = sandbox.control(
        "POST", "instagram_login/tokens", {"scopes": ["instagram_business_basic"]}
    )["access_token"]
    without = httpx.get(
        f"{base}/{media_id}/insights", params={"access_token": basic, "metric": "reach"}
    )

    assert values(media)["views"] >= values(media)["reach"] > 0
    assert account.json()["data"][0]["total_value"]["value"] > 0
    assert "the plays metric is no longer supported" in refused(retired)
    assert "instagram_business_manage_insights" in refused(without, code=10)


# --- Facebook posts and Pages ---------------------------------------------------------------


def fb_post(sandbox: SandboxApi, token: str) -> str:
    return str(sandbox.post(f"/{BISTRO_PAGE_ID}/feed", token, message="Tonight").json()["id"])


def test_post_insights_answer_current_metrics_and_grow(sandbox: SandboxApi) -> None:
    token = sandbox.page_token(scopes=FB_SCOPES)
    post_id = fb_post(sandbox, token)
    metric = "post_media_view,post_total_media_view_unique,post_clicks,post_reactions_by_type_total"

    fresh = sandbox.get(f"/{post_id}/insights", token, metric=metric)
    sandbox.advance(2 * DAY)
    later = sandbox.get(f"/{post_id}/insights", token, metric=metric)

    assert values(fresh)["post_media_view"] == 0
    assert values(fresh)["post_reactions_by_type_total"] == {}
    entry = later.json()["data"][0]
    assert (entry["period"], entry["id"]) == (
        "lifetime",
        f"{post_id}/insights/post_media_view/lifetime",
    )
    now = values(later)
    assert now["post_media_view"] >= now["post_total_media_view_unique"] > 0
    assert now["post_reactions_by_type_total"]["like"] > 0


@pytest.mark.parametrize("retired", ["post_impressions", "post_impressions_unique"])
def test_a_retired_post_metric_refuses_the_whole_request(sandbox: SandboxApi, retired: str) -> None:
    token = sandbox.page_token(scopes=FB_SCOPES)
    post_id = fb_post(sandbox, token)

    answer = sandbox.get(f"/{post_id}/insights", token, metric=f"post_media_view,{retired}")

    assert refused(answer) == "(#100) The value must be a valid insights metric"


def test_page_insights_are_daily_with_end_times(sandbox: SandboxApi) -> None:
    token = sandbox.page_token(scopes=FB_SCOPES)
    fb_post(sandbox, token)
    sandbox.advance(5 * DAY)
    metric = "page_media_view,page_follows,page_post_engagements"

    answer = sandbox.get(
        f"/{BISTRO_PAGE_ID}/insights", token, metric=metric, period="day", since="-4 days"
    )
    again = sandbox.get(
        f"/{BISTRO_PAGE_ID}/insights", token, metric=metric, period="day", since="-4 days"
    )

    data = {d["name"]: d for d in answer.json()["data"]}
    assert answer.json() == again.json()
    views = data["page_media_view"]
    assert (views["period"], views["id"]) == (
        "day",
        f"{BISTRO_PAGE_ID}/insights/page_media_view/day",
    )
    assert len(views["values"]) == 5
    assert all(v["end_time"].endswith("T00:00:00+0000") for v in views["values"])
    assert sum(v["value"] for v in data["page_post_engagements"]["values"]) > 0
    follows = [v["value"] for v in data["page_follows"]["values"]]
    assert follows == sorted(follows)
    assert follows[0] >= 1289


@pytest.mark.parametrize("retired", ["page_impressions", "page_fans", "page_impressions_unique"])
def test_a_retired_page_metric_refuses_the_whole_request(sandbox: SandboxApi, retired: str) -> None:
    token = sandbox.page_token(scopes=FB_SCOPES)

    answer = sandbox.get(
        f"/{BISTRO_PAGE_ID}/insights", token, metric=f"page_media_view,{retired}", period="day"
    )

    assert refused(answer) == "(#100) The value must be a valid insights metric"


def test_page_insights_windows(sandbox: SandboxApi) -> None:
    token = sandbox.page_token(scopes=FB_SCOPES)
    path = f"/{BISTRO_PAGE_ID}/insights"

    ninety = sandbox.get(path, token, metric="page_media_view", since="-93 days", until="now")
    too_long = sandbox.get(path, token, metric="page_media_view", since="-94 days", until="now")
    backwards = sandbox.get(path, token, metric="page_media_view", since="now", until="-1 day")

    assert len(ninety.json()["data"][0]["values"]) in (93, 94)
    assert "more than 93 days (8035200 s) between since and until" in refused(too_long)
    refused(backwards)


def test_page_insights_need_a_page_token_with_read_insights(sandbox: SandboxApi) -> None:
    user = sandbox.token()
    without = sandbox.page_token(scopes=["pages_read_engagement", "pages_manage_posts"])
    path = f"/{BISTRO_PAGE_ID}/insights"

    as_user = sandbox.get(path, user, metric="page_media_view")
    as_page = sandbox.get(path, without, metric="page_media_view")

    assert "Page Access Token" in refused(as_user, code=190)
    assert "read_insights" in refused(as_page, code=10)


def test_page_insights_refuse_an_unknown_metric_and_count_the_day_so_far(
    sandbox: SandboxApi,
) -> None:
    token = sandbox.page_token(scopes=FB_SCOPES)
    fb_post(sandbox, token)
    path = f"/{BISTRO_PAGE_ID}/insights"
    sandbox.advance(3600)

    unknown = sandbox.get(path, token, metric="page_media_view,page_reach_everything")
    before = sandbox.get(path, token, metric="page_media_view", since="-1 hour").json()
    sandbox.advance(6 * 3600)
    after = sandbox.get(path, token, metric="page_media_view", since="-7 hours").json()

    assert refused(unknown) == "(#100) The value must be a valid insights metric"
    today = before["data"][0]["values"][-1]
    later = {v["end_time"]: v["value"] for v in after["data"][0]["values"]}
    assert later[today["end_time"]] > today["value"]


def test_account_insights_need_a_period(sandbox: SandboxApi) -> None:
    token = sandbox.page_token(scopes=IG_SCOPES)

    answer = sandbox.get(
        f"/{BISTRO_IG_ID}/insights", token, metric="reach", metric_type="total_value"
    )

    assert refused(answer) == "(#100) The parameter period is required"
