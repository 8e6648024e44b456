"""Threads end to end, as a restaurant uses it: connect through the sandbox's Threads dialog
(the dashboard's views, the test client following the dialog over HTTP), compose, approve,
publish exactly once through a real Celery worker, engagement synced, the token refreshed
once it is a day old, the health check after a revocation, reconnect and disconnect. Then the
refusals that must come before anything is sent."""

import time
from datetime import timedelta
from types import SimpleNamespace

import httpx
import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from apps.networks import registry
from apps.networks.base import NeedsReauth, PostContent
from apps.posts import engagement
from apps.posts.models import Post, Publication
from apps.posts.tasks import publications_dispatch_due
from apps.social.models import AccessToken, ConnectedAccount
from tests.conftest import CeleryWorker, wait_until
from tests.networks.journey import calls, token_life
from tests.posts.test_publishing import make_post
from tests.social.conftest import consent, path_of

THREADS = registry.network_for("threads")
DEMO_BISTRO_THREADS = "27000000000000001"


def threads_out(sandbox) -> list[dict]:
    return httpx.get(f"{sandbox.base_url}/_sandbox/published").json()["threads"]


def connect_threads(client, decision: str = "allow"):
    """Press "Connect Threads", answer the sandbox's dialog, come back to the callback."""
    page = client.get(reverse("connections:list"))
    assert "Connect Threads" in page.content.decode()
    start = client.post(reverse("connections:oauth_start"), {"network": "threads"})
    assert start.status_code == 302
    back = consent(start["Location"], decision)
    assert back.startswith("http://testserver/connections/oauth/callback/")
    return client.get(path_of(back))


@pytest.fixture
def queue(monkeypatch):
    name = f"test-{time.monotonic_ns()}"
    monkeypatch.setattr(
        publications_dispatch_due,
        "delay",
        lambda: publications_dispatch_due.apply_async(queue=name),
    )
    return name


@pytest.mark.django_db(transaction=True)
def test_connect_compose_approve_publish_sync_refresh_check_reconnect_disconnect(
    client_for, owner, staff, sandbox, control, queue, live_server, settings
):
    control("config", {"processing_seconds": 1, "fetch_media": False})
    client = client_for(owner.user)

    # Connect: the dialog, the code exchange, the long-lived token, the profile.
    response = connect_threads(client)
    assert response.status_code == 302
    account = ConnectedAccount.objects.get(platform="threads")
    assert (account.tenant, account.platform_id, account.username) == (
        owner.tenant,
        DEMO_BISTRO_THREADS,
        "demobistro",
    )
    assert account.status == ConnectedAccount.Status.ACTIVE
    token = AccessToken.objects.get(account=account)
    assert token.kind == AccessToken.Kind.THREADS_LONG_LIVED
    assert token.expires_at - timezone.now() > timedelta(days=59)
    with connection.cursor() as cursor:
        cursor.execute("SELECT token FROM social_accesstoken WHERE id = %s", [token.pk])
        assert cursor.fetchone()[0] != token.token  # encrypted at rest

    # Compose in the dashboard, submit for approval, staff approve in the admin.
    owner.tenant.requires_approval = True
    owner.tenant.save()
    caption = "Tonight: bouillabaisse, fresh from the port. #bistro"
    client.post(
        reverse("posts:create"),
        {"targets": [account.pk], "caption": caption, "action": "submit"},
    )
    post = Post.objects.get()
    assert post.status == Post.Status.PENDING_REVIEW
    settings.PUBLIC_BASE_URL = live_server.url
    worker = CeleryWorker(
        queue, PUBLIC_BASE_URL=live_server.url, MEDIA_ROOT=str(settings.MEDIA_ROOT)
    ).start()
    try:
        staff_client = client_for(staff)
        staff_client.post(reverse("admin:posts_post_approve", args=[post.pk]))
        assert wait_until(lambda: Post.objects.get(pk=post.pk).status == "published", timeout=60), (
            list(Publication.objects.values("status", "wait_reason", "last_error"))
        )
    finally:
        worker.stop()

    # Published exactly once, with the id the database holds.
    publication = Publication.objects.get(post=post)
    [thread] = threads_out(sandbox)
    assert thread["text"] == caption
    assert thread["id"] == publication.platform_post_id
    assert thread["same_content_count"] == 1
    assert publication.permalink
    assert publication.container_id  # recorded before threads_publish

    # Engagement synced.
    control("clock", {"advance_seconds": 2 * 86400})
    engagement.engagement_sync_recent()
    publication.refresh_from_db()
    assert publication.likes > 0
    assert publication.comments is not None

    # The token's life: renewal, health, reconnect, disconnect.
    token_life(
        network=THREADS,
        account=account,
        client=client,
        sandbox=sandbox,
        control=control,
        connect=connect_threads,
    )


def test_denied_consent_stores_nothing(client_for, owner, sandbox):
    response = connect_threads(client_for(owner.user), decision="deny")

    assert response.status_code == 302
    assert not ConnectedAccount.objects.filter(platform="threads").exists()


def test_a_forged_or_replayed_state_is_refused(client_for, owner, sandbox):
    client = client_for(owner.user)
    start = client.post(reverse("connections:oauth_start"), {"network": "threads"})
    back = consent(start["Location"])
    forged = path_of(back).replace("state=", "state=x")

    client.get(forged)  # the state in the session is used up by this attempt
    client.get(path_of(back))  # and a replay finds none

    assert not ConnectedAccount.objects.filter(platform="threads").exists()


def test_viewers_cannot_connect(client_for, viewer, sandbox):
    response = client_for(viewer.user).post(
        reverse("connections:oauth_start"), {"network": "threads"}
    )

    assert response.status_code == 403


def test_an_account_held_by_another_business_is_refused(
    client_for, owner, other_tenant, make_member, sandbox
):
    connect_threads(client_for(owner.user))
    rival = make_member(other_tenant, role="owner")

    connect_threads(client_for(rival.user))

    assert list(ConnectedAccount.objects.values_list("tenant", flat=True)) == [owner.tenant.pk]


# --- Refused before anything is sent ------------------------------------------------------------


def _content(caption: str = "Fine", images: int = 0, link: str = "") -> PostContent:
    asset = SimpleNamespace(
        pk=1,
        width=1080,
        height=1080,
        size=200_000,
        content_type="image/jpeg",
        original_filename="dish.jpg",
    )
    return PostContent(caption=caption, link=link, assets=[asset] * images)  # type: ignore[list-item]


def test_text_over_500_characters_is_refused_at_compose(client_for, owner, accounts, sandbox):
    client = client_for(owner.user)
    client.post(
        reverse("posts:create"),
        {"targets": [accounts["threads"].pk], "caption": "x" * 501, "action": "submit"},
    )

    post = Post.objects.get()
    assert post.status == Post.Status.DRAFT
    problems = THREADS.validate(_content("x" * 501))
    assert [p.code for p in problems] == ["caption_too_long"]
    assert "501" in problems[0].message
    assert "500" in problems[0].message
    # The link counts: it goes out in the text.
    assert THREADS.validate(_content("x" * 480, link="https://bistro.example/menu"))
    assert threads_out(sandbox) == []


def test_a_carousel_holds_2_to_20_images_and_one_image_is_a_photo():
    assert THREADS.validate(_content(images=20)) == []
    assert [p.code for p in THREADS.validate(_content(images=21))] == ["too_many_images"]
    assert THREADS.preview(_content(images=1)).layout == "photo"
    assert THREADS.preview(_content(images=2)).layout == "carousel"
    assert THREADS.preview(_content()).layout == "text"


def test_a_token_older_than_60_days_is_refused_before_anything_is_sent(
    owner, accounts, sandbox, no_media_fetch
):
    account = accounts["threads"]
    token = AccessToken.objects.get(account=account)
    token.expires_at = timezone.now() - timedelta(minutes=1)
    token.save()
    post = make_post(owner, [account], caption="Too late")
    publication = Publication.objects.select_related("account").get(post=post)
    before = calls(sandbox)

    refresh = THREADS.token_refresh(token)
    check = THREADS.token_check(token)
    step = THREADS.step(publication, _content("Too late"), journal=SimpleNamespace())  # type: ignore[arg-type]

    assert refresh.refused
    assert "reconnect" in refresh.refused.lower()
    assert check.state == "refused"
    assert isinstance(step, NeedsReauth)
    assert "expired" in step.error
    assert calls(sandbox) == before
    assert not THREADS.refresh_due(token, timezone.now())


def test_a_refresh_before_24_hours_is_refused_before_anything_is_sent(accounts, sandbox):
    token = AccessToken.objects.get(account=accounts["threads"])
    before = calls(sandbox)

    refresh = THREADS.token_refresh(token)

    assert not refresh.refreshed
    assert not refresh.refused  # not a verdict on the token: it is simply too young
    assert "24 hours" in refresh.reason
    assert calls(sandbox) == before
