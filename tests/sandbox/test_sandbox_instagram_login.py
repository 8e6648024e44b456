"""The sandbox's Instagram API with Instagram Login (`sandbox/networks/instagram_login.py`,
mounted at /instagram like graph.instagram.com): the login and its tokens, publishing to an
account without a Facebook Page exactly once, the limits, faults, the listing, the control API
and the state file — over HTTP, as the product meets them."""

import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from sandbox import BISTRO_IG_ID, BISTRO_IG_LOGIN_ID, BISTRO_PAGE_ID, SandboxServer, appsecret_proof
from sandbox.networks.instagram_login import BISTRO_IG_LOGIN_APP_SCOPED_ID
from tests.sandbox.test_sandbox import ImageHost

DAY = 86_400
REDIRECT = "http://app.example/connections/instagram/callback/"
SCOPE = "instagram_business_basic,instagram_business_content_publish"
IMAGE = "https://cdn.example/plate.jpg"


def _server(**options: Any) -> SandboxServer:
    options.setdefault("processing_seconds", 0)
    options.setdefault("fetch_media", False)
    options.setdefault("appsecret_proof_required", False)
    return SandboxServer(port=0, **options)


@pytest.fixture
def server() -> Iterator[SandboxServer]:
    with _server() as server:
        yield server


def ig(server: SandboxServer) -> str:
    return f"{server.base_url}/instagram/v25.0"


def control(server: SandboxServer, path: str, body: Any = None) -> Any:
    response = httpx.post(f"{server.base_url}/_sandbox/{path}", json=body or {})
    response.raise_for_status()
    return response.json()


def token(server: SandboxServer, **body: Any) -> str:
    return str(control(server, "instagram_login/tokens", body)["access_token"])


def error_of(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert "error" in body, body
    return dict(body["error"])


def create(
    server: SandboxServer, access: str, account: str = BISTRO_IG_LOGIN_ID, **data: Any
) -> httpx.Response:
    return httpx.post(f"{ig(server)}/{account}/media", data={"access_token": access, **data})


def publish(
    server: SandboxServer, access: str, creation_id: str, account: str = BISTRO_IG_LOGIN_ID
) -> httpx.Response:
    return httpx.post(
        f"{ig(server)}/{account}/media_publish",
        data={"access_token": access, "creation_id": creation_id},
    )


def post_image(server: SandboxServer, access: str, caption: str, **kw: Any) -> dict:
    account = kw.pop("account", BISTRO_IG_LOGIN_ID)
    created = create(server, access, account, image_url=IMAGE, caption=caption).json()
    return dict(publish(server, access, created["id"], account).json())


def status_of(server: SandboxServer, access: str, container_id: str) -> dict:
    params = {"access_token": access, "fields": "id,status_code,status"}
    return dict(httpx.get(f"{ig(server)}/{container_id}", params=params).json())


def published(server: SandboxServer) -> dict:
    return dict(httpx.get(f"{server.base_url}/_sandbox/published").json())


def code_for(server: SandboxServer, scope: str = SCOPE, redirect: str = REDIRECT) -> str:
    params = {
        "client_id": "sandbox-app",
        "redirect_uri": redirect,
        "response_type": "code",
        "scope": scope,
        "state": "s",
    }
    allowed = httpx.post(
        f"{server.base_url}/instagram/oauth/authorize", data={**params, "decision": "allow"}
    )
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(allowed.headers["location"]).query))
    return query["code"]


def redeem(server: SandboxServer, code: str, **changes: str) -> httpx.Response:
    form = {
        "client_id": "sandbox-app",
        "client_secret": "sandbox-secret",
        "grant_type": "authorization_code",
        "redirect_uri": REDIRECT,
        "code": code,
        **changes,
    }
    return httpx.post(f"{server.base_url}/instagram/oauth/access_token", data=form)


# --- the login --------------------------------------------------------------------------------


def test_the_dialog_code_short_and_long_lived_tokens_and_me(server: SandboxServer) -> None:
    dialog = f"{server.base_url}/instagram/oauth/authorize"
    params = {
        "client_id": "sandbox-app",
        "redirect_uri": REDIRECT,
        "response_type": "code",
        "scope": SCOPE,
        "state": "xyz",
    }
    page = httpx.get(dialog, params=params)
    assert page.status_code == 200
    assert "SANDBOX" in page.text
    assert "@demobistro.bar" in page.text
    assert "action='/instagram/oauth/authorize'" in page.text
    # Only what this app asks permissions for: not the Threads profile, not the Pages.
    assert "Threads profile" not in page.text
    assert "The demo user manages" not in page.text

    allowed = httpx.post(dialog, data={**params, "decision": "allow"})
    assert allowed.status_code == 302
    back = urllib.parse.urlsplit(allowed.headers["location"])
    query = dict(urllib.parse.parse_qsl(back.query))
    assert back.geturl().startswith(REDIRECT)
    assert query["state"] == "xyz"

    short = redeem(server, query["code"])
    assert short.status_code == 200
    (entry,) = short.json()["data"]
    assert entry["user_id"] == BISTRO_IG_LOGIN_APP_SCOPED_ID
    assert entry["permissions"] == SCOPE
    long = httpx.get(
        f"{server.base_url}/instagram/access_token",
        params={
            "grant_type": "ig_exchange_token",
            "client_secret": "sandbox-secret",
            "access_token": entry["access_token"],
        },
    ).json()
    assert long["token_type"] == "bearer"
    assert long["expires_in"] == 60 * DAY

    fields = "id,user_id,username,name,profile_picture_url,account_type"
    me = httpx.get(
        f"{ig(server)}/me",
        headers={"Authorization": f"Bearer {long['access_token']}"},
        params={"fields": fields},
    ).json()
    assert me == {
        "id": BISTRO_IG_LOGIN_APP_SCOPED_ID,
        "user_id": BISTRO_IG_LOGIN_ID,
        "username": "demobistro.bar",
        "name": "Demo Bistro Bar",
        "profile_picture_url": f"{server.base_url}/_sandbox/pictures/{BISTRO_IG_LOGIN_ID}",
        "account_type": "BUSINESS",
    }
    # The account answers to both of its ids; `id` is always the app-scoped one.
    for account_id in (BISTRO_IG_LOGIN_ID, BISTRO_IG_LOGIN_APP_SCOPED_ID):
        node = httpx.get(
            f"{ig(server)}/{account_id}",
            params={"access_token": entry["access_token"], "fields": "username"},
        ).json()
        assert node == {"username": "demobistro.bar", "id": BISTRO_IG_LOGIN_APP_SCOPED_ID}
    unknown = httpx.get(
        f"{ig(server)}/me", params={"access_token": long["access_token"], "fields": "ig_id"}
    )
    assert "nonexisting field (ig_id)" in error_of(unknown)["message"]


def test_deny_redirects_with_the_error(server: SandboxServer) -> None:
    denied = httpx.post(
        f"{server.base_url}/instagram/oauth/authorize",
        data={"client_id": "sandbox-app", "redirect_uri": REDIRECT, "scope": SCOPE, "state": "s"}
        | {"decision": "deny"},
    )
    assert "error=access_denied" in denied.headers["location"]


def test_the_code_is_checked_like_every_code_of_the_sandbox(server: SandboxServer) -> None:
    wrong_secret = redeem(server, code_for(server), client_secret="nope")
    assert wrong_secret.status_code == 400
    assert error_of(wrong_secret)["code"] == 1
    assert error_of(redeem(server, code_for(server), client_id=""))["code"] == 101
    assert error_of(redeem(server, code_for(server), client_id="other-app"))["code"] == 101

    code = code_for(server)
    assert redeem(server, code).status_code == 200
    reused = error_of(redeem(server, code))
    assert (reused["code"], reused["error_subcode"]) == (100, 36009)

    mismatch = error_of(redeem(server, code_for(server), redirect_uri="http://elsewhere.example/"))
    assert (mismatch["code"], mismatch["error_subcode"]) == (100, 36008)

    late = code_for(server)
    httpx.post(f"{server.base_url}/_sandbox/clock", json={"advance_seconds": 601})
    expired = error_of(redeem(server, late))
    assert (expired["code"], expired["error_subcode"]) == (100, 36007)

    # A code of Facebook Login (no instagram_business_basic) is not one of this host.
    facebook_code = code_for(server, scope="pages_show_list,instagram_basic")
    assert error_of(redeem(server, facebook_code))["message"] == "Invalid verification code format."


def test_only_a_short_lived_token_is_exchanged_with_the_app_secret(server: SandboxServer) -> None:
    url = f"{server.base_url}/instagram/access_token"
    long = token(server, kind="long")
    short = token(server, kind="short")

    refused = httpx.get(
        url,
        params={
            "grant_type": "ig_exchange_token",
            "client_secret": "sandbox-secret",
            "access_token": long,
        },
    )
    assert refused.status_code == 400
    assert "short-lived" in error_of(refused)["message"]
    wrong_secret = httpx.get(
        url, params={"grant_type": "ig_exchange_token", "client_secret": "x", "access_token": short}
    )
    assert error_of(wrong_secret)["code"] == 1
    wrong_grant = httpx.get(
        url,
        params={
            "grant_type": "th_exchange_token",
            "client_secret": "sandbox-secret",
            "access_token": short,
        },
    )
    assert error_of(wrong_grant)["code"] == 100
    # A token of another host is not one of this host.
    facebook_short = control(server, "tokens", {"kind": "short"})["access_token"]
    foreign = httpx.get(
        url,
        params={
            "grant_type": "ig_exchange_token",
            "client_secret": "sandbox-secret",
            "access_token": facebook_short,
        },
    )
    assert error_of(foreign)["code"] == 190


def test_refresh_waits_a_day_and_an_expired_token_is_463(server: SandboxServer) -> None:
    url = f"{server.base_url}/instagram/refresh_access_token"

    def refresh(access: str) -> httpx.Response:
        return httpx.get(url, params={"grant_type": "ig_refresh_token", "access_token": access})

    early = refresh(token(server, kind="long"))
    assert early.status_code == 400
    assert error_of(early)["code"] == 100
    assert "24 hours" in error_of(early)["message"]
    assert "long-lived" in error_of(refresh(token(server, kind="short")))["message"]

    day_old = token(server, kind="long", age_seconds=DAY + 60)
    renewed = refresh(day_old)
    assert renewed.status_code == 200
    assert renewed.json()["token_type"] == "bearer"
    assert renewed.json()["expires_in"] == 60 * DAY
    me = httpx.get(f"{ig(server)}/me", params={"access_token": renewed.json()["access_token"]})
    assert me.json() == {"id": BISTRO_IG_LOGIN_APP_SCOPED_ID}

    expired = token(server, kind="long", age_seconds=61 * DAY)
    for response in (
        refresh(expired),
        httpx.get(f"{ig(server)}/me", params={"access_token": expired}),
    ):
        error = error_of(response)
        assert (error["code"], error["error_subcode"], error["type"]) == (
            190,
            463,
            "OAuthException",
        )


def test_tokens_of_one_host_are_refused_by_the_others(server: SandboxServer) -> None:
    instagram_token = token(server)
    facebook_token = control(server, "tokens", {"kind": "long"})["access_token"]
    page_token = control(server, "tokens", {"kind": "page", "page_id": BISTRO_PAGE_ID})[
        "access_token"
    ]
    threads_token = control(server, "threads/tokens", {})["access_token"]

    for foreign in (facebook_token, page_token, threads_token):
        at_instagram = httpx.get(f"{ig(server)}/me", params={"access_token": foreign})
        assert error_of(at_instagram)["code"] == 190
        media = create(server, foreign, image_url=IMAGE)
        assert error_of(media)["code"] == 190
    at_root = httpx.get(f"{server.base_url}/v25.0/me", params={"access_token": instagram_token})
    at_threads = httpx.get(
        f"{server.base_url}/threads/v1.0/me", params={"access_token": instagram_token}
    )
    assert error_of(at_root)["code"] == 190
    assert error_of(at_threads)["code"] == 190
    # Each host sees only its own accounts.
    page_sees = httpx.get(
        f"{server.base_url}/v25.0/{BISTRO_IG_LOGIN_ID}", params={"access_token": page_token}
    )
    assert error_of(page_sees)["error_subcode"] == 33
    assert (
        error_of(create(server, instagram_token, BISTRO_IG_ID, image_url=IMAGE))["error_subcode"]
        == 33
    )


def test_appsecret_proof_is_checked_with_the_app_secret() -> None:
    with _server(appsecret_proof_required=True) as server:
        access = token(server)
        missing = httpx.get(f"{ig(server)}/me", params={"access_token": access})
        wrong = httpx.get(
            f"{ig(server)}/me", params={"access_token": access, "appsecret_proof": "0"}
        )
        right = httpx.get(
            f"{ig(server)}/me",
            params={
                "access_token": access,
                "appsecret_proof": appsecret_proof(access, "sandbox-secret"),
            },
        )
    assert "require an appsecret_proof" in error_of(missing)["message"]
    assert "Invalid appsecret_proof" in error_of(wrong)["message"]
    assert right.json() == {"id": BISTRO_IG_LOGIN_APP_SCOPED_ID}


# --- publishing -------------------------------------------------------------------------------


def test_an_image_is_processed_then_published_exactly_once(server: SandboxServer) -> None:
    httpx.post(f"{server.base_url}/_sandbox/config", json={"processing_seconds": 30})
    access = token(server)
    created = create(server, access, image_url=IMAGE, caption="Negroni hour")
    assert created.status_code == 200
    container = created.json()["id"]
    assert status_of(server, access, container)["status_code"] == "IN_PROGRESS"
    not_ready = error_of(publish(server, access, container))
    assert (not_ready["code"], not_ready["error_subcode"]) == (9007, 2207027)

    httpx.post(f"{server.base_url}/_sandbox/clock", json={"advance_seconds": 31})
    assert status_of(server, access, container)["status_code"] == "FINISHED"
    media = publish(server, access, container).json()
    again = publish(server, access, container)

    assert again.status_code == 400
    assert error_of(again)["code"] == 100
    assert "already been published" in error_of(again)["message"]
    assert status_of(server, access, container) == {
        "id": container,
        "status_code": "PUBLISHED",
        "status": "Published: Media has been published.",
    }
    fields = "id,like_count,comments_count,permalink,caption,media_type,timestamp"
    node = httpx.get(
        f"{ig(server)}/{media['id']}", params={"access_token": access, "fields": fields}
    ).json()
    assert node["caption"] == "Negroni hour"
    assert node["media_type"] == "IMAGE"
    assert (node["like_count"], node["comments_count"]) == (0, 0)
    assert node["permalink"].endswith(f"/_sandbox/view/{media['id']}")
    out = published(server)
    assert [(m["id"], m["target_id"], m["login"]) for m in out["instagram_media"]] == [
        (media["id"], BISTRO_IG_LOGIN_ID, "instagram")
    ]
    assert [(c["id"], c["publish_count"], c["login"]) for c in out["containers"]] == [
        (container, 1, "instagram")
    ]
    assert out["summary"]["containers_published_twice"] == []
    assert out["summary"]["instagram_media_by_login"] == {"instagram": 1}
    assert out["summary"]["instagram_login_media"] == 1
    # The app-scoped id names the account too.
    httpx.post(f"{server.base_url}/_sandbox/config", json={"processing_seconds": 0})
    other = post_image(server, access, "By the other id", account=BISTRO_IG_LOGIN_APP_SCOPED_ID)
    assert "id" in other


def test_a_carousel_of_2_to_10_items_is_published_once(server: SandboxServer) -> None:
    access = token(server)
    items = [
        create(
            server,
            access,
            image_url=f"https://cdn.example/{i}.jpg",
            is_carousel_item="true",
            caption="ignored on an item",
        ).json()["id"]
        for i in range(11)
    ]
    for children in (items[:1], items):
        refused = create(server, access, media_type="CAROUSEL", children=",".join(children))
        error = error_of(refused)
        assert (error["code"], error["error_subcode"]) == (100, 2207028)
    carousel = create(
        server, access, media_type="CAROUSEL", children=",".join(items[:3]), caption="Three"
    ).json()["id"]
    alone = error_of(publish(server, access, items[3]))
    assert "carousel item cannot be published on its own" in alone["message"]

    media = publish(server, access, carousel).json()
    assert error_of(publish(server, access, carousel))["code"] == 100
    node = httpx.get(
        f"{ig(server)}/{media['id']}",
        params={"access_token": access, "fields": "media_type,caption,children{id,media_type}"},
    ).json()
    assert node["media_type"] == "CAROUSEL_ALBUM"
    assert node["caption"] == "Three"
    assert [c["media_type"] for c in node["children"]["data"]] == ["IMAGE"] * 3
    out = published(server)
    assert [(m["media_type"], len(m["children"])) for m in out["instagram_media"]] == [
        ("CAROUSEL_ALBUM", 3)
    ]
    by_id = {c["id"]: c for c in out["containers"]}
    assert all(by_id[i]["caption_ignored"] for i in items)
    assert by_id[carousel]["publish_count"] == 1


def test_captions_and_images_are_judged_like_instagrams() -> None:
    host = ImageHost()
    try:
        with _server(fetch_media=True, fetch_timeout_seconds=3) as server:
            access = token(server)
            cases = {
                "x" * 2201: (36004, 2207010),
                " ".join(f"#tag{i}" for i in range(31)): (36004, 2207010),
            }
            for caption, expected in cases.items():
                answer = create(server, access, image_url=host.url + "/photo.jpg", caption=caption)
                error = error_of(answer)
                assert (error["code"], error["error_subcode"]) == expected
            for path, expected in (
                ("/photo.png", (36001, 2207005)),
                ("/panorama.jpg", (36003, 2207009)),
                ("/missing.jpg", (9004, 2207052)),
            ):
                error = error_of(create(server, access, image_url=host.url + path))
                assert (error["code"], error["error_subcode"]) == expected
            fine = create(server, access, image_url=host.url + "/photo.jpg", caption="x" * 2200)
            assert fine.status_code == 200
            container = published(server)["containers"][0]
            assert container["image"]["image_format"] == "jpeg"
    finally:
        host.close()


def test_the_publishing_limit_and_quota(server: SandboxServer) -> None:
    httpx.post(f"{server.base_url}/_sandbox/config", json={"quota_total": 2})
    access = token(server)
    assert "id" in post_image(server, access, "one")
    assert "id" in post_image(server, access, "two")
    limit = httpx.get(
        f"{ig(server)}/{BISTRO_IG_LOGIN_ID}/content_publishing_limit",
        params={"access_token": access, "fields": "quota_usage,config"},
    ).json()
    assert limit == {
        "data": [{"quota_usage": 2, "config": {"quota_total": 2, "quota_duration": 86400}}]
    }
    over = post_image(server, access, "three")
    assert (over["error"]["code"], over["error"]["error_subcode"]) == (9, 2207042)
    httpx.post(f"{server.base_url}/_sandbox/clock", json={"advance_seconds": DAY + 1})
    assert "id" in post_image(server, access, "three, a day later")


def test_faults_apply_at_this_host(server: SandboxServer) -> None:
    access = token(server)
    control(
        server,
        "faults",
        {
            "kind": "error",
            "match": "POST /*/media_publish",
            "code": 2,
            "status": 500,
            "effect": "after",
        },
    )
    answer = post_image(server, access, "Live anyway")
    assert answer["error"]["code"] == 2
    assert len(published(server)["instagram_media"]) == 1

    control(server, "faults", {"kind": "container_error"})
    container = create(server, access, image_url=IMAGE).json()["id"]
    assert status_of(server, access, container)["status_code"] == "ERROR"
    failed = error_of(publish(server, access, container))
    assert (failed["code"], failed["error_subcode"]) == (-1, 2207032)

    control(server, "faults", {"kind": "revoke_token"})
    revoked = httpx.get(f"{ig(server)}/me", params={"access_token": access})
    assert (error_of(revoked)["code"], error_of(revoked)["error_subcode"]) == (190, 458)
    calls = httpx.get(f"{server.base_url}/_sandbox/calls").json()["calls"]
    assert {"/{ig-user-id}/media_publish", "/me"} <= {c["template"] for c in calls}
    assert "ig_long" in {c["token"] for c in calls}


def test_the_listing_pages_at_25_with_since_and_until(server: SandboxServer) -> None:
    access = token(server)
    ids = [post_image(server, access, f"post {i}")["id"] for i in range(27)]
    url = f"{ig(server)}/{BISTRO_IG_LOGIN_ID}/media"
    first = httpx.get(url, params={"access_token": access, "fields": "id,caption,timestamp"}).json()
    assert len(first["data"]) == 25
    assert [m["id"] for m in first["data"]] == ids[::-1][:25]
    assert "/instagram/v25.0/" in first["paging"]["next"]
    rest = httpx.get(first["paging"]["next"]).json()
    assert [m["id"] for m in rest["data"]] == ids[1::-1]
    assert "next" not in rest["paging"]
    everything = httpx.get(url, params={"access_token": access, "limit": 100}).json()
    assert len(everything["data"]) == 27
    since = httpx.get(url, params={"access_token": access, "since": "-1 hour"}).json()
    assert len(since["data"]) == 25
    assert {
        m["id"] for m in since["data"] + httpx.get(since["paging"]["next"]).json()["data"]
    } == set(ids)
    future = httpx.get(url, params={"access_token": access, "since": "+1 day"}).json()
    assert future == {"data": []}
    past = httpx.get(url, params={"access_token": access, "until": "-1 day"}).json()
    assert past == {"data": []}


def test_a_token_publishes_only_to_its_own_account_with_both_permissions(
    server: SandboxServer,
) -> None:
    first, second = control(server, "instagram_login/accounts", {"count": 2})["accounts"]
    mine = token(server, user_id=first["id"])

    to_other = create(server, mine, second["id"], image_url=IMAGE)
    assert to_other.status_code == 400
    assert error_of(to_other)["error_subcode"] == 33
    read_other = httpx.get(f"{ig(server)}/{second['id']}", params={"access_token": mine})
    assert error_of(read_other)["error_subcode"] == 33
    demo_container = create(server, token(server), image_url=IMAGE).json()["id"]
    assert error_of(publish(server, mine, demo_container, first["id"]))["error_subcode"] == 2207006
    assert error_of(status_of_raw(server, mine, demo_container))["error_subcode"] == 33

    basic_only = token(server, user_id=first["id"], scopes=["instagram_business_basic"])
    refused = create(server, basic_only, first["id"], image_url=IMAGE)
    assert refused.status_code == 403
    assert error_of(refused)["code"] == 10
    assert "instagram_business_content_publish" in error_of(refused)["message"]
    no_basic = token(server, user_id=first["id"], scopes=["instagram_business_content_publish"])
    me = httpx.get(f"{ig(server)}/me", params={"access_token": no_basic})
    assert error_of(me)["code"] == 10
    assert "id" in post_image(server, mine, "mine", account=first["id"])


def status_of_raw(server: SandboxServer, access: str, container_id: str) -> httpx.Response:
    return httpx.get(
        f"{ig(server)}/{container_id}", params={"access_token": access, "fields": "status_code"}
    )


# --- control, read-out, pages, state ----------------------------------------------------------


def test_accounts_can_be_added_and_each_publishes_with_its_own_token(server: SandboxServer) -> None:
    listed = httpx.get(f"{server.base_url}/_sandbox/instagram_login").json()["accounts"]
    assert listed == [
        {
            "id": BISTRO_IG_LOGIN_ID,
            "app_scoped_id": BISTRO_IG_LOGIN_APP_SCOPED_ID,
            "username": "demobistro.bar",
            "name": "Demo Bistro Bar",
            "account_type": "BUSINESS",
            "owner_user_id": "100000000000001",
            "extra": False,
        }
    ]
    added = control(server, "instagram_login/accounts", {"count": 3, "name_prefix": "Bar"})[
        "accounts"
    ]
    assert len(added) == 3
    assert all(a["extra"] and a["name"].startswith("Bar ") for a in added)
    assert len({a["id"] for a in added} | {a["app_scoped_id"] for a in added}) == 6
    again = httpx.get(f"{server.base_url}/_sandbox/instagram_login/accounts").json()["accounts"]
    assert [a["id"] for a in again] == [BISTRO_IG_LOGIN_ID, *(a["id"] for a in added)]

    for account in added:
        minted = control(server, "instagram_login/tokens", {"user_id": account["id"]})
        assert (minted["kind"], minted["user_id"]) == ("long", account["id"])
        assert 60 * DAY - 2 <= minted["expires_in"] <= 60 * DAY
        assert "id" in post_image(server, minted["access_token"], "hello", account=account["id"])
    by_app_scoped = control(
        server,
        "instagram_login/tokens",
        {"user_id": added[0]["app_scoped_id"], "kind": "short", "expires_in": 120},
    )
    assert by_app_scoped["user_id"] == added[0]["id"]
    assert 118 <= by_app_scoped["expires_in"] <= 120
    out = published(server)
    assert sorted(m["target_id"] for m in out["instagram_media"]) == sorted(a["id"] for a in added)
    assert out["summary"]["instagram_media_with_repeated_content"] == 0
    assert out["summary"]["instagram_login_accounts"] == 4

    for path, body in (
        ("instagram_login/accounts", {"count": 0}),
        ("instagram_login/accounts", {"count": 1001}),
        ("instagram_login/tokens", {"kind": "page"}),
        ("instagram_login/tokens", {"user_id": BISTRO_IG_ID}),
        ("instagram_login/tokens", {"scopes": ["instagram_basic"]}),
    ):
        assert httpx.post(f"{server.base_url}/_sandbox/{path}", json=body).status_code == 400

    home = httpx.get(f"{server.base_url}/").text
    assert "Instagram with Instagram Login" in home
    assert "@demobistro.bar" in home
    assert added[0]["app_scoped_id"] in home

    httpx.post(f"{server.base_url}/_sandbox/reset").raise_for_status()
    after = httpx.get(f"{server.base_url}/_sandbox/instagram_login").json()["accounts"]
    assert [a["id"] for a in after] == [BISTRO_IG_LOGIN_ID]
    assert published(server)["instagram_media"] == []


def test_a_state_file_keeps_the_accounts_and_what_was_published(tmp_path: Path) -> None:
    state_file = str(tmp_path / "sandbox.json")
    with _server(state_file=state_file) as first:
        (account,) = control(first, "instagram_login/accounts", {"count": 1})["accounts"]
        access = token(first, user_id=account["id"])
        media = post_image(first, access, "Kept", account=account["id"])
        demo = post_image(first, token(first), "Kept too")

    with _server(state_file=state_file) as second:
        listed = httpx.get(f"{second.base_url}/_sandbox/instagram_login").json()["accounts"]
        assert [a["id"] for a in listed] == [BISTRO_IG_LOGIN_ID, account["id"]]
        mine = httpx.get(f"{ig(second)}/me/media", params={"access_token": access}).json()
        assert [m["id"] for m in mine["data"]] == [media["id"]]
        me = httpx.get(f"{ig(second)}/me", params={"access_token": access}).json()
        assert me == {"id": account["app_scoped_id"]}
        out = published(second)
        assert {m["id"]: m["login"] for m in out["instagram_media"]} == {
            media["id"]: "instagram",
            demo["id"]: "instagram",
        }
        # The Facebook-login accounts are untouched by the ones without a Page.
        assert httpx.get(f"{second.base_url}/_sandbox/pages").status_code == 200
