"""The Graph client against the sandbox Graph API over real HTTP (no respx, no database).

Each test runs its own `SandboxServer(port=0)`; the client is pointed at it with an explicit
`GraphConfig`, the way any emulator can be.
"""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from apps.social import graph
from sandbox import (
    BAKERY_PAGE_ID,
    BISTRO_IG_ID,
    BISTRO_PAGE_ID,
    CATERING_IG_ID,
    CATERING_PAGE_ID,
    DEMO_BUSINESS_ID,
    DEMO_USER_ID,
    SandboxServer,
)

REDIRECT = "http://app.example/accounts/facebook/login/callback/"
# Reconciliation windows start shortly before a publish; these tests look at the last day.
SINCE = datetime.now(UTC) - timedelta(days=1)


class Sandbox:
    """A running sandbox and its control API (`/_sandbox/...`)."""

    def __init__(self, server: SandboxServer) -> None:
        self.server = server
        self.base_url = server.base_url
        self.http = httpx.Client(base_url=server.base_url, timeout=10)

    def control(self, method: str, path: str, body: Any = None) -> Any:
        response = self.http.request(method, f"/_sandbox/{path}", json=body)
        assert response.status_code < 300, response.text
        return response.json()

    def user_token(self) -> str:
        token: str = self.control("POST", "tokens", {"kind": "long"})["access_token"]
        return token

    def page_token(self, page_id: str = BISTRO_PAGE_ID) -> str:
        answer = self.control("POST", "tokens", {"kind": "page", "page_id": page_id})
        token: str = answer["access_token"]
        return token

    def fault(self, **spec: Any) -> None:
        self.control("POST", "faults", spec)


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with SandboxServer(port=0, processing_seconds=0, fetch_media=False) as server:
        box = Sandbox(server)
        try:
            yield box
        finally:
            box.http.close()


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[graph.GraphClient]:
    config = graph.GraphConfig(
        app_id="sandbox-app",
        app_secret="sandbox-secret",
        graph_url=sandbox.base_url,
        dialog_url=sandbox.base_url,
        timeout_seconds=1.0,
        connect_timeout_seconds=1.0,
        max_retries=2,
    )
    with graph.GraphClient(config, sleep=lambda seconds: None) as c:
        yield c


def test_connect_journey_from_dialog_to_page_tokens(
    sandbox: Sandbox, client: graph.GraphClient
) -> None:
    sandbox.control("POST", "config", {"empty_page_quirk": True})
    dialog = graph.build_dialog_url(redirect_uri=REDIRECT, state="st4te", client=client)
    parts = urlsplit(dialog)
    consent = sandbox.http.post(
        parts.path,
        data={**{k: v[0] for k, v in parse_qs(parts.query).items()}, "decision": "allow"},
    )
    assert consent.status_code == 302, consent.text
    callback = parse_qs(urlsplit(consent.headers["location"]).query)
    assert callback["state"] == ["st4te"]

    short = graph.exchange_code(code=callback["code"][0], redirect_uri=REDIRECT, client=client)
    long_lived = graph.exchange_long_lived(user_token=short.access_token, client=client)
    info = graph.debug_token(input_token=long_lived.access_token, client=client)
    me = graph.get_me(user_token=long_lived.access_token, client=client)
    pages = graph.discover_pages(user_token=long_lived.access_token, client=client)

    assert short.expires_at is not None
    assert long_lived.expires_at is not None
    assert long_lived.expires_at > short.expires_at
    assert info.is_valid
    assert info.type == "USER"
    assert info.user_id == me.id == DEMO_USER_ID
    assert set(client.config.scopes) <= set(info.scopes)
    by_id = {page.id: page for page in pages}
    assert set(by_id) == {BISTRO_PAGE_ID, BAKERY_PAGE_ID, CATERING_PAGE_ID}
    assert by_id[CATERING_PAGE_ID].business_id == DEMO_BUSINESS_ID  # only in the portfolio
    catering_ig = by_id[CATERING_PAGE_ID].instagram
    bistro_ig = by_id[BISTRO_PAGE_ID].instagram
    assert catering_ig is not None
    assert catering_ig.id == CATERING_IG_ID
    assert bistro_ig is not None
    assert bistro_ig.id == BISTRO_IG_ID
    for page in pages:
        assert page.access_token != long_lived.access_token
        page_info = graph.debug_token(input_token=page.access_token, client=client)
        assert page_info.type == "PAGE"
    assert (
        graph.get_instagram_account(
            page_id=CATERING_PAGE_ID, page_token=by_id[CATERING_PAGE_ID].access_token, client=client
        )
        == by_id[CATERING_PAGE_ID].instagram
    )


def test_publish_to_a_page_and_read_it_back(sandbox: Sandbox, client: graph.GraphClient) -> None:
    token = sandbox.page_token()

    photo = graph.upload_page_photo(
        page_id=BISTRO_PAGE_ID,
        page_token=token,
        image=b"\xff\xd8\xff\xe0 not really a jpeg",
        published=False,
        client=client,
    )
    post = graph.publish_page_post(
        page_id=BISTRO_PAGE_ID,
        page_token=token,
        message="Soup of the day",
        attached_media_ids=(photo.id,),
        client=client,
    )
    posts = graph.list_page_posts(
        page_id=BISTRO_PAGE_ID, page_token=token, since=SINCE, client=client
    )
    engagement = graph.get_page_post_engagement(post_id=post.id, token=token, client=client)

    assert post.id in {p.id for p in posts}
    assert next(p for p in posts if p.id == post.id).message == "Soup of the day"
    assert engagement.post_id == post.id
    assert engagement.likes is not None
    assert engagement.comments is not None
    assert engagement.reactions is not None
    assert client.last_usage is not None
    assert client.last_usage.app is not None


def test_publish_to_instagram_through_a_container(
    sandbox: Sandbox, client: graph.GraphClient
) -> None:
    token = sandbox.page_token()
    before = graph.get_ig_publishing_limit(ig_user_id=BISTRO_IG_ID, token=token, client=client)

    container = graph.create_ig_container(
        ig_user_id=BISTRO_IG_ID,
        token=token,
        image_url="https://media.example/dish.jpg",
        caption="Fresh #soup",
        client=client,
    )
    ready = graph.get_ig_container_status(container_id=container.id, token=token, client=client)
    media = graph.publish_ig_container(
        ig_user_id=BISTRO_IG_ID, token=token, creation_id=container.id, client=client
    )
    after = graph.get_ig_publishing_limit(ig_user_id=BISTRO_IG_ID, token=token, client=client)
    done = graph.get_ig_container_status(container_id=container.id, token=token, client=client)
    listed = graph.list_ig_media(ig_user_id=BISTRO_IG_ID, token=token, since=SINCE, client=client)
    engagement = graph.get_ig_media_engagement(media_id=media.id, token=token, client=client)

    assert ready.is_ready
    assert done.is_published
    assert after.quota_usage == before.quota_usage + 1
    assert after.quota_total == before.quota_total > 0
    assert media.id in {m.id for m in listed}
    assert engagement.media_id == media.id


def test_a_timeout_after_the_post_took_effect_is_reconciled_not_retried(
    sandbox: Sandbox, client: graph.GraphClient
) -> None:
    token = sandbox.page_token()
    sandbox.fault(kind="timeout_after_effect", match="POST /*/feed", seconds=3)

    with pytest.raises(graph.GraphTimeoutError) as caught:
        graph.publish_page_post(
            page_id=BISTRO_PAGE_ID, page_token=token, message="Exactly once", client=client
        )

    assert caught.value.outcome_unknown
    posts = graph.list_page_posts(
        page_id=BISTRO_PAGE_ID, page_token=token, since=SINCE, client=client
    )
    assert [p.message for p in posts].count("Exactly once") == 1


def test_transient_errors_on_reads_are_retried(sandbox: Sandbox, client: graph.GraphClient) -> None:
    token = sandbox.user_token()
    sandbox.fault(kind="error", match="GET /me", code=2, status=500, times=2)

    assert graph.get_me(user_token=token, client=client).id == DEMO_USER_ID


def test_rate_limits_carry_the_estimate_from_the_usage_header(
    sandbox: Sandbox, client: graph.GraphClient
) -> None:
    token = sandbox.page_token()
    sandbox.fault(kind="rate_limit", match="GET /*/posts", code=80001, minutes=9)

    with pytest.raises(graph.GraphRateLimitError) as caught:
        graph.list_page_posts(page_id=BISTRO_PAGE_ID, page_token=token, since=SINCE, client=client)

    assert caught.value.code == 80001
    assert caught.value.retry_after == 9 * 60


def test_a_malformed_answer_is_reported_as_such(
    sandbox: Sandbox, client: graph.GraphClient
) -> None:
    token = sandbox.user_token()
    sandbox.fault(kind="malformed", match="GET /me", variant="html", times=5)

    with pytest.raises(graph.GraphMalformedResponseError):
        graph.get_me(user_token=token, client=client)


def test_revoked_access_is_a_token_error(sandbox: Sandbox, client: graph.GraphClient) -> None:
    token = sandbox.user_token()

    assert graph.revoke_permissions(user_token=token, client=client) is True
    with pytest.raises(graph.GraphTokenError) as caught:
        graph.get_me(user_token=token, client=client)

    assert caught.value.needs_reconnect
    info = graph.debug_token(input_token=token, client=client)
    assert not info.is_valid
    assert info.error_code == 190


def test_a_wrong_app_secret_is_refused_by_the_appsecret_proof_check(
    sandbox: Sandbox,
) -> None:
    config = graph.GraphConfig(
        app_id="sandbox-app", app_secret="not-the-secret", graph_url=sandbox.base_url
    )
    token = sandbox.user_token()

    with graph.GraphClient(config) as wrong, pytest.raises(graph.GraphError) as caught:
        graph.get_me(user_token=token, client=wrong)

    assert caught.value.code == 100
    assert "appsecret_proof" in (caught.value.meta_message or "")
