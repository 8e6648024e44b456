"""The sandbox's Threads host (`sandbox/networks/threads.py`, mounted at /threads): login,
tokens and their lifetimes, containers, exactly-once publishing, the limits, the listing and
insights — over HTTP, as the product meets them."""

import re
import urllib.parse
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from sandbox import SandboxServer
from sandbox.networks.threads import BISTRO_THREADS_ID

DAY = 86_400


@pytest.fixture
def server() -> Iterator[SandboxServer]:
    with SandboxServer(
        port=0, processing_seconds=0, fetch_media=False, appsecret_proof_required=False
    ) as server:
        yield server


def th(server: SandboxServer) -> str:
    return f"{server.base_url}/threads/v1.0"


def control(server: SandboxServer, path: str, body: Any = None) -> dict:
    response = httpx.post(f"{server.base_url}/_sandbox/{path}", json=body or {})
    response.raise_for_status()
    return response.json()


def token(server: SandboxServer, **body: Any) -> str:
    return str(control(server, "threads/tokens", body)["access_token"])


def text_thread(server: SandboxServer, access: str, text: str) -> dict:
    base = th(server)
    created = httpx.post(
        f"{base}/me/threads", data={"access_token": access, "media_type": "TEXT", "text": text}
    ).json()
    return httpx.post(
        f"{base}/{BISTRO_THREADS_ID}/threads_publish",
        data={"access_token": access, "creation_id": created["id"]},
    ).json()


def test_the_dialog_code_exchange_long_lived_exchange_and_profile(server):
    redirect = "http://app.example/connections/oauth/callback/"
    dialog = f"{server.base_url}/threads/oauth/authorize"
    params = {
        "client_id": "sandbox-app",
        "redirect_uri": redirect,
        "scope": "threads_basic,threads_content_publish",
        "response_type": "code",
        "state": "xyz",
    }
    page = httpx.get(dialog, params=params)
    assert page.status_code == 200
    assert "SANDBOX" in page.text
    assert "@demobistro" in page.text
    assert "action='/threads/oauth/authorize'" in page.text

    allowed = httpx.post(dialog, data={**params, "decision": "allow"})
    assert allowed.status_code == 302
    back = urllib.parse.urlsplit(allowed.headers["location"])
    query = dict(urllib.parse.parse_qsl(back.query))
    assert query["state"] == "xyz"

    short = httpx.post(
        f"{server.base_url}/threads/oauth/access_token",
        data={
            "client_id": "sandbox-app",
            "client_secret": "sandbox-secret",
            "grant_type": "authorization_code",
            "redirect_uri": redirect,
            "code": query["code"],
        },
    ).json()
    assert short["user_id"] == int(BISTRO_THREADS_ID)
    long = httpx.get(
        f"{server.base_url}/threads/access_token",
        params={
            "grant_type": "th_exchange_token",
            "client_secret": "sandbox-secret",
            "access_token": short["access_token"],
        },
    ).json()
    assert long["expires_in"] == 60 * DAY
    assert long["token_type"] == "bearer"
    me = httpx.get(
        f"{th(server)}/me",
        params={
            "access_token": long["access_token"],
            "fields": "id,username,name,threads_profile_picture_url",
        },
    ).json()
    assert me["id"] == BISTRO_THREADS_ID
    assert me["username"] == "demobistro"
    assert me["threads_profile_picture_url"].endswith(f"/_sandbox/pictures/{BISTRO_THREADS_ID}")


def test_deny_redirects_with_the_error(server):
    params = {
        "client_id": "sandbox-app",
        "redirect_uri": "http://app.example/cb/",
        "scope": "threads_basic",
        "state": "s",
    }
    denied = httpx.post(
        f"{server.base_url}/threads/oauth/authorize", data={**params, "decision": "deny"}
    )
    assert "error=access_denied" in denied.headers["location"]


def test_refresh_is_refused_before_a_day_and_for_expired_tokens_then_works(server):
    fresh = token(server)
    url = f"{server.base_url}/threads/refresh_access_token"
    early = httpx.get(url, params={"grant_type": "th_refresh_token", "access_token": fresh})
    assert early.status_code == 400
    assert "24 hours" in early.json()["error"]["message"]

    httpx.post(f"{server.base_url}/_sandbox/clock", json={"advance_seconds": DAY + 60})
    renewed = httpx.get(url, params={"grant_type": "th_refresh_token", "access_token": fresh})
    assert renewed.status_code == 200
    assert renewed.json()["expires_in"] == 60 * DAY

    httpx.post(f"{server.base_url}/_sandbox/clock", json={"advance_seconds": 61 * DAY})
    expired = httpx.get(url, params={"grant_type": "th_refresh_token", "access_token": fresh})
    assert expired.json()["error"]["code"] == 190
    me = httpx.get(f"{th(server)}/me", params={"access_token": fresh}).json()
    assert me["error"]["code"] == 190
    assert me["error"]["error_subcode"] == 463


def test_tokens_of_one_host_are_not_read_by_the_other(server):
    threads_token = token(server)
    facebook_token = control(server, "tokens", {"kind": "long"})["access_token"]

    at_facebook = httpx.get(
        f"{server.base_url}/v25.0/me", params={"access_token": threads_token}
    ).json()
    at_threads = httpx.get(f"{th(server)}/me", params={"access_token": facebook_token}).json()

    assert at_facebook["error"]["code"] == 190
    assert at_threads["error"]["code"] == 190


def test_a_container_is_processed_then_published_exactly_once(server):
    httpx.post(f"{server.base_url}/_sandbox/config", json={"processing_seconds": 30})
    access = token(server)
    base = th(server)
    created = httpx.post(
        f"{base}/{BISTRO_THREADS_ID}/threads",
        data={"access_token": access, "media_type": "TEXT", "text": "Soup of the day"},
    ).json()
    status = httpx.get(
        f"{base}/{created['id']}", params={"access_token": access, "fields": "status"}
    ).json()
    assert status["status"] == "IN_PROGRESS"
    publish = {"access_token": access, "creation_id": created["id"]}
    not_ready = httpx.post(f"{base}/{BISTRO_THREADS_ID}/threads_publish", data=publish).json()
    assert not_ready["error"]["code"] == 9007

    httpx.post(f"{server.base_url}/_sandbox/clock", json={"advance_seconds": 31})
    assert (
        httpx.get(
            f"{base}/{created['id']}", params={"access_token": access, "fields": "status"}
        ).json()["status"]
        == "FINISHED"
    )
    media = httpx.post(f"{base}/{BISTRO_THREADS_ID}/threads_publish", data=publish).json()
    again = httpx.post(f"{base}/{BISTRO_THREADS_ID}/threads_publish", data=publish)

    assert "id" in media
    assert again.status_code == 400
    assert "already been published" in again.json()["error"]["message"]
    published = httpx.get(f"{server.base_url}/_sandbox/published").json()
    assert [t["id"] for t in published["threads"]] == [media["id"]]
    assert published["threads"][0]["media_type"] == "TEXT_POST"
    assert published["summary"]["threads_containers_published_twice"] == []
    status = httpx.get(
        f"{base}/{created['id']}", params={"access_token": access, "fields": "status"}
    ).json()
    assert status["status"] == "PUBLISHED"


def test_text_over_500_and_carousels_outside_2_to_20_are_refused(server):
    access = token(server)
    url = f"{th(server)}/me/threads"
    too_long = httpx.post(
        url, data={"access_token": access, "media_type": "TEXT", "text": "x" * 501}
    ).json()
    assert "500 characters" in too_long["error"]["message"]

    items = [
        httpx.post(
            url,
            data={
                "access_token": access,
                "media_type": "IMAGE",
                "image_url": f"http://img.example/{i}.jpg",
                "is_carousel_item": "true",
            },
        ).json()["id"]
        for i in range(21)
    ]
    for children in (items[:1], items):
        refused = httpx.post(
            url,
            data={"access_token": access, "media_type": "CAROUSEL", "children": ",".join(children)},
        ).json()
        assert "between 2 and 20" in refused["error"]["message"]
    carousel = httpx.post(
        url,
        data={
            "access_token": access,
            "media_type": "CAROUSEL",
            "children": ",".join(items[:3]),
            "text": "Three plates",
        },
    ).json()
    media = httpx.post(
        f"{th(server)}/me/threads_publish",
        data={"access_token": access, "creation_id": carousel["id"]},
    ).json()
    published = httpx.get(f"{server.base_url}/_sandbox/published").json()["threads"]
    assert [(t["id"], t["media_type"], len(t["children"])) for t in published] == [
        (media["id"], "CAROUSEL_ALBUM", 3)
    ]


def test_publishing_limit_and_quota(server):
    httpx.post(f"{server.base_url}/_sandbox/config", json={"threads_quota_total": 1})
    access = token(server)
    text_thread(server, access, "one")
    limit = httpx.get(
        f"{th(server)}/me/threads_publishing_limit",
        params={"access_token": access, "fields": "quota_usage,config"},
    ).json()
    assert limit == {
        "data": [{"quota_usage": 1, "config": {"quota_total": 1, "quota_duration": 86400}}]
    }
    over = text_thread(server, access, "two")
    assert over["error"]["code"] == 9


def test_the_listing_pages_at_25_within_since_until(server):
    access = token(server)
    ids = [text_thread(server, access, f"post {i}")["id"] for i in range(27)]
    base = th(server)
    first = httpx.get(
        f"{base}/me/threads",
        params={"access_token": access, "fields": "id,text,timestamp,permalink,media_type"},
    ).json()
    assert len(first["data"]) == 25
    rest = httpx.get(first["paging"]["next"]).json()
    assert "/threads/v1.0/" in first["paging"]["next"]
    assert {t["id"] for t in first["data"] + rest["data"]} == set(ids)
    future = httpx.get(
        f"{base}/me/threads", params={"access_token": access, "since": "+1 day"}
    ).json()
    assert future == {"data": []}


def test_insights_grow_with_time(server):
    access = token(server)
    media_id = text_thread(server, access, "Grows")["id"]
    url = f"{th(server)}/{media_id}/insights"
    params = {"access_token": access, "metric": "views,likes,replies,reposts,quotes,shares"}

    def counts() -> dict[str, int]:
        data = httpx.get(url, params=params).json()["data"]
        return {d["name"]: d["values"][0]["value"] for d in data}

    assert counts()["likes"] == 0
    httpx.post(f"{server.base_url}/_sandbox/clock", json={"advance_seconds": 3 * DAY})
    later = counts()
    assert later["likes"] > 0
    assert set(later) == {"views", "likes", "replies", "reposts", "quotes", "shares"}


def test_faults_and_revocation_apply(server):
    access = token(server)
    control(
        server,
        "faults",
        {
            "kind": "error",
            "match": "POST /*/threads_publish",
            "code": 2,
            "status": 500,
            "effect": "after",
        },
    )
    answer = text_thread(server, access, "Live anyway")
    assert answer["error"]["code"] == 2
    assert len(httpx.get(f"{server.base_url}/_sandbox/published").json()["threads"]) == 1

    control(server, "faults", {"kind": "revoke_token"})
    me = httpx.get(f"{th(server)}/me", params={"access_token": access}).json()
    assert me["error"]["code"] == 190
    calls = httpx.get(f"{server.base_url}/_sandbox/calls").json()["calls"]
    assert any(re.search(r"threads_publish", c["path"]) for c in calls)


def test_profiles_can_be_added_and_each_publishes_with_its_own_token(server):
    added = control(server, "threads/profiles", {"count": 2})["profiles"]
    assert len(added) == 2
    assert all(p["extra"] for p in added)
    listed = httpx.get(f"{server.base_url}/_sandbox/threads/profiles").json()["profiles"]
    assert [p["id"] for p in listed] == [BISTRO_THREADS_ID, *(p["id"] for p in added)]
    base = th(server)
    for profile in added:
        access = token(server, kind="long", user_id=profile["id"])
        created = httpx.post(
            f"{base}/{profile['id']}/threads",
            data={"access_token": access, "media_type": "TEXT", "text": "hello"},
        ).json()
        media = httpx.post(
            f"{base}/{profile['id']}/threads_publish",
            data={"access_token": access, "creation_id": created["id"]},
        ).json()
        assert "id" in media, media
    # One profile's token does not publish to another.
    other = token(server, kind="long", user_id=added[0]["id"])
    refused = httpx.post(
        f"{base}/{added[1]['id']}/threads", data={"access_token": other, "text": "x"}
    )
    assert refused.status_code >= 400
    out = httpx.get(f"{server.base_url}/_sandbox/published").json()
    assert sorted(t["target_id"] for t in out["threads"]) == sorted(p["id"] for p in added)
    assert out["summary"]["threads_with_repeated_content"] == 0
    assert (
        httpx.post(f"{server.base_url}/_sandbox/threads/profiles", json={"count": 0}).status_code
        == 400
    )
    httpx.post(f"{server.base_url}/_sandbox/reset")
    after = httpx.get(f"{server.base_url}/_sandbox/threads").json()["profiles"]
    assert [p["id"] for p in after] == [BISTRO_THREADS_ID]
