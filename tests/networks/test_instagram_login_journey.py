"""Instagram with Instagram Login end to end, as a restaurant whose bar has an Instagram
account but no Facebook Page uses it: connect through the sandbox's Instagram dialog (the
dashboard's views, the test client following the dialog over HTTP), compose with a photo,
approve, publish exactly once through a real Celery worker (graph.instagram.com's containers),
engagement synced, the token refreshed once it is a day old, the health check after a
revocation, reconnect and disconnect. Then the refusals that must come before anything is
sent."""

import time
from datetime import timedelta
from types import SimpleNamespace

import httpx
import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from apps.assets.services import asset_upload
from apps.networks import registry
from apps.networks.base import NeedsReauth, PostContent
from apps.posts import engagement
from apps.posts.models import Post, Publication
from apps.posts.tasks import publications_dispatch_due
from apps.social.models import AccessToken, ConnectedAccount
from tests.conftest import CeleryWorker, wait_until
from tests.networks.journey import calls, token_life
from tests.posts.conftest import DEMO_BISTRO_IG_LOGIN
from tests.posts.test_publishing import jpeg, make_post
from tests.social.conftest import consent, path_of

INSTAGRAM_LOGIN = registry.network_for("instagram_login")
CONNECT = "Connect Instagram (Instagram login)"


def media_of(sandbox, account_id: str) -> list[dict]:
    out = httpx.get(f"{sandbox.base_url}/_sandbox/published").json()
    return [m for m in out["instagram_media"] if m["target_id"] == account_id]


def connect_instagram(client, decision: str = "allow"):
    """Press "Connect Instagram (Instagram login)", answer the sandbox's dialog, come back."""
    page = client.get(reverse("connections:list"))
    assert CONNECT in page.content.decode()
    start = client.post(reverse("connections:oauth_start"), {"network": "instagram_login"})
    assert start.status_code == 302
    assert "/instagram/oauth/authorize?" in start["Location"]
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
    control("config", {"processing_seconds": 1})
    client = client_for(owner.user)

    # Connect: the dialog, the code exchange, the long-lived token, the profile. No Page.
    response = connect_instagram(client)
    assert response.status_code == 302
    account = ConnectedAccount.objects.get(platform="instagram_login")
    assert (account.tenant, account.platform_id, account.username, account.parent) == (
        owner.tenant,
        DEMO_BISTRO_IG_LOGIN,
        "demobistro.bar",
        None,
    )
    assert account.status == ConnectedAccount.Status.ACTIVE
    token = AccessToken.objects.get(account=account)
    assert token.kind == AccessToken.Kind.IG_LOGIN_LONG_LIVED
    assert token.expires_at - timezone.now() > timedelta(days=59)
    assert "instagram_business_content_publish" in token.scopes
    with connection.cursor() as cursor:
        cursor.execute("SELECT token FROM social_accesstoken WHERE id = %s", [token.pk])
        assert cursor.fetchone()[0] != token.token  # encrypted at rest

    # Compose in the dashboard with a photo, submit for approval, staff approve in the admin.
    owner.tenant.requires_approval = True
    owner.tenant.save()
    photo = asset_upload(actor=owner, data=jpeg(colour="gold"), filename="negroni.jpg").asset
    caption = "Negroni hour on the terrace, 6 to 8. #aperitivo"
    client.post(
        reverse("posts:create"),
        {
            "targets": [account.pk],
            "assets": [photo.pk],
            "caption": caption,
            "action": "submit",
        },
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

    # Published exactly once, through graph.instagram.com, with the id the database holds.
    publication = Publication.objects.get(post=post)
    [media] = media_of(sandbox, DEMO_BISTRO_IG_LOGIN)
    assert media["caption"] == caption
    assert media["id"] == publication.platform_post_id
    assert media["same_content_count"] == 1
    assert publication.permalink
    assert publication.container_id  # recorded before media_publish
    sent = httpx.get(f"{sandbox.base_url}/_sandbox/calls").json()["calls"]
    # Sent to graph.instagram.com's mount with the account's own token, not a Page token.
    publishes = [c for c in sent if c["path"].endswith("/media_publish")]
    assert [c["token"] for c in publishes] == ["ig_long"]

    # Engagement synced.
    control("clock", {"advance_seconds": 2 * 86400})
    engagement.engagement_sync_recent()
    publication.refresh_from_db()
    assert publication.likes is not None
    assert publication.comments is not None

    # The token's life: renewal, health, reconnect, disconnect.
    token_life(
        network=INSTAGRAM_LOGIN,
        account=account,
        client=client,
        sandbox=sandbox,
        control=control,
        connect=connect_instagram,
    )


def test_denied_consent_stores_nothing(client_for, owner, sandbox):
    response = connect_instagram(client_for(owner.user), decision="deny")

    assert response.status_code == 302
    assert not ConnectedAccount.objects.filter(platform="instagram_login").exists()


def test_an_account_held_by_another_business_is_refused(
    client_for, owner, other_tenant, make_member, sandbox
):
    connect_instagram(client_for(owner.user))
    rival = make_member(other_tenant, role="owner")

    connect_instagram(client_for(rival.user))

    assert list(
        ConnectedAccount.objects.filter(platform="instagram_login").values_list("tenant", flat=True)
    ) == [owner.tenant.pk]


# --- Refused before anything is sent ------------------------------------------------------------


def _content(caption: str = "Fine", images: int = 1) -> PostContent:
    asset = SimpleNamespace(
        pk=1,
        width=1080,
        height=1080,
        size=200_000,
        content_type="image/jpeg",
        original_filename="negroni.jpg",
        is_video=False,
        alt_text="",
    )
    return PostContent(caption=caption, link="", assets=[asset] * images)  # type: ignore[list-item]


def test_instagram_rules_apply_as_through_facebook():
    assert INSTAGRAM_LOGIN.validate(_content()) == []
    assert [p.code for p in INSTAGRAM_LOGIN.validate(_content(images=0))] == ["image_required"]
    assert [p.code for p in INSTAGRAM_LOGIN.validate(_content(images=11))] == ["too_many_images"]
    assert [p.code for p in INSTAGRAM_LOGIN.validate(_content("x" * 2201))] == ["caption_too_long"]
    assert INSTAGRAM_LOGIN.preview(_content(images=2)).layout == "carousel"


def test_a_token_older_than_60_days_is_refused_before_anything_is_sent(
    owner, accounts, sandbox, no_media_fetch
):
    account = accounts["instagram_login"]
    token = AccessToken.objects.get(account=account)
    token.expires_at = timezone.now() - timedelta(minutes=1)
    token.save()
    post = make_post(owner, [account], caption="Too late", images=1)
    publication = Publication.objects.select_related("account").get(post=post)
    before = calls(sandbox)

    refresh = INSTAGRAM_LOGIN.token_refresh(token)
    check = INSTAGRAM_LOGIN.token_check(token)
    step = INSTAGRAM_LOGIN.step(publication, _content("Too late"), journal=SimpleNamespace())  # type: ignore[arg-type]

    assert refresh.refused
    assert "reconnect instagram" in refresh.refused.lower()
    assert check.state == "refused"
    assert isinstance(step, NeedsReauth)
    assert "expired" in step.error
    assert calls(sandbox) == before
    assert not INSTAGRAM_LOGIN.refresh_due(token, timezone.now())


def test_a_refresh_before_24_hours_is_refused_before_anything_is_sent(accounts, sandbox):
    token = AccessToken.objects.get(account=accounts["instagram_login"])
    before = calls(sandbox)

    refresh = INSTAGRAM_LOGIN.token_refresh(token)

    assert not refresh.refreshed
    assert not refresh.refused  # not a verdict on the token: it is simply too young
    assert "24 hours" in refresh.reason
    assert calls(sandbox) == before


def test_a_personal_account_or_missing_permission_is_refused_with_the_reason(
    client_for, owner, sandbox, monkeypatch
):
    from apps.networks.instagram import login_client

    real = login_client.get_profile

    def personal(*, token):
        profile = real(token=token)
        return type(profile)(**{**profile.__dict__, "account_type": "PERSONAL"})

    monkeypatch.setattr(login_client, "get_profile", personal)
    client = client_for(owner.user)

    response = connect_instagram(client)

    assert not ConnectedAccount.objects.filter(platform="instagram_login").exists()
    shown = client.get(response["Location"]).content.decode()
    assert "personal Instagram account" in shown
