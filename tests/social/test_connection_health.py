"""Connection health: a Page the person may not create content on, a Page that loses that task,
and a Facebook login (user token) that expires while the Page tokens keep working.

End to end: the connect flow through django-allauth, the sandbox Graph API over HTTP (its control
API changes what the person may do on a Page), the daily checks, the dashboard and the engine.
"""

import json
import re
import uuid
from datetime import timedelta
from html import unescape

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from apps.core.exceptions import ApplicationError
from apps.posts.models import Post, Publication
from apps.posts.tasks import publications_dispatch_due
from apps.social import graph, services
from apps.social.models import AccessToken, ConnectedAccount, PendingConnection, TokenEvent
from apps.webhooks.models import WebhookDelivery, WebhookEndpoint
from sandbox import BISTRO_PAGE_ID, CATERING_PAGE_ID
from tests.conftest import CeleryWorker, wait_until
from tests.posts.test_publishing import drive, make_post, published
from tests.social.test_connect import choices, connect

ALL_TASKS = ["ADVERTISE", "ANALYZE", "CREATE_CONTENT", "MESSAGING", "MODERATE"]
SIXTY_ONE_DAYS = 61 * 86400


def text_of(html: bytes) -> str:
    """What a person reads: tags dropped, entities decoded, whitespace collapsed."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html.decode())).split())


def checkbox(html: str, element_id: str) -> str:
    found = re.search(rf'<input[^>]*id="{element_id}"[^>]*>', html)
    assert found, element_id
    return found.group(0)


def connect_bistro(client: Client) -> tuple[ConnectedAccount, ConnectedAccount]:
    """Connect Demo Bistro's Page and its Instagram account through the real flow."""
    connect(client)
    bistro = next(c["page"] for c in choices(client) if c["page"].id == BISTRO_PAGE_ID)
    response = client.post(
        "/connections/new/", {"page": [bistro.id], "instagram": [bistro.instagram.id]}
    )
    assert response.status_code == 302
    return (
        ConnectedAccount.objects.get(platform="facebook_page"),
        ConnectedAccount.objects.get(platform="instagram_business"),
    )


def statuses() -> dict[str, str]:
    return dict(ConnectedAccount.objects.values_list("platform", "status"))


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def publishing_worker(live_server, settings, monkeypatch):
    """A real Celery worker on a private Redis queue, publishing what this test submits (the
    dispatch queued on commit goes to its queue); the sandbox fetches images from this site."""
    settings.PUBLIC_BASE_URL = live_server.url
    queue = f"test-{uuid.uuid4().hex[:10]}"
    monkeypatch.setattr(
        publications_dispatch_due,
        "delay",
        lambda: publications_dispatch_due.apply_async(queue=queue),
    )
    worker = CeleryWorker(
        queue, PUBLIC_BASE_URL=live_server.url, MEDIA_ROOT=str(settings.MEDIA_ROOT)
    ).start()
    yield worker
    worker.stop()


# --- Connecting: only Pages the person can create content on -----------------------------------


def test_a_page_without_create_content_is_offered_but_cannot_be_connected(
    client_for, owner, sandbox, control
):
    analyst_only = control("pages", {"count": 1, "tasks": ["ANALYZE"], "instagram": True})
    [page] = analyst_only["pages"]
    ig_id = page["instagram_business_account"]["id"]
    client = client_for(owner.user)
    connect(client)

    response = client.get("/connections/new/")

    listed = {c["page"].id: c for c in response.context["choices"]}
    assert page["id"] in listed  # offered, with the others
    offered = listed[page["id"]]["page"]
    assert not offered.connectable
    assert offered.tasks == ("ANALYZE",)
    assert listed[BISTRO_PAGE_ID]["page"].connectable
    html = response.content.decode()
    assert "disabled" in checkbox(html, f"page-{page['id']}")
    assert "disabled" in checkbox(html, f"ig-{ig_id}")  # published with that Page's token
    assert "disabled" not in checkbox(html, f"page-{BISTRO_PAGE_ID}")
    shown = text_of(response.content)
    assert (
        "You can only analyze this Page: ask a Page admin to give you the “Create content” "
        "task on it, then reconnect." in shown
    )
    assert f"It is published with the Page “{page['name']}”, where you can only analyze" in shown


@pytest.mark.parametrize(
    "forged",
    [
        lambda page, ig: {"page": [page]},
        lambda page, ig: {"instagram": [ig]},
        lambda page, ig: {"page": [BISTRO_PAGE_ID, page]},  # all or nothing
    ],
    ids=["page", "its-instagram", "with-a-good-page"],
)
def test_a_forged_submission_of_such_a_page_is_refused_and_writes_nothing(
    client_for, owner, sandbox, control, forged
):
    [page] = control("pages", {"count": 1, "tasks": ["ANALYZE", "MODERATE"]})["pages"]
    client = client_for(owner.user)
    connect(client)
    client.get("/connections/new/")

    response = client.post(
        "/connections/new/", forged(page["id"], page["instagram_business_account"]["id"])
    )

    assert response.status_code == 400
    assert "your role on the Page does not include the “Create content” task" in text_of(
        response.content
    )
    assert not ConnectedAccount.objects.exists()
    assert not AccessToken.objects.exists()
    assert not TokenEvent.objects.exists()
    assert PendingConnection.objects.exists()  # the choice can still be made
    listing = client.get("/connections/").content.decode()
    assert page["name"] not in listing
    assert "Active" not in listing


def test_the_service_refuses_such_a_page_whatever_the_caller(owner, sandbox, control):
    control(f"pages/{CATERING_PAGE_ID}", {"tasks": ["ANALYZE"]})
    pending = services.connection_start(
        actor=owner,
        facebook_user_id="100000000000001",
        token=control("tokens", {"kind": "short"})["access_token"],
        expires_at=None,
    )
    pages = {p.id: p for p in services.connection_discover(pending=pending)}
    assert not pages[CATERING_PAGE_ID].connectable  # found only through the portfolio

    with pytest.raises(ApplicationError) as refused:
        services.connection_complete(
            actor=owner, pending=pending, page_ids=[CATERING_PAGE_ID], instagram_ids=[]
        )

    assert refused.value.code == "missing_task"
    assert not ConnectedAccount.objects.exists()


# --- The daily check: a Page that loses the task -----------------------------------------------


def test_a_page_that_loses_create_content_stops_publishing_until_the_task_is_back(
    client_for, owner, tenant, sandbox, control, django_capture_on_commit_callbacks
):
    client = client_for(owner.user)
    page, _ = connect_bistro(client)
    hook = WebhookEndpoint.objects.create(
        tenant=tenant, url="https://hooks.example/x", events=["account.no_permission"]
    )

    # A Page admin leaves the person who connected it only "Analyze".
    control(f"pages/{BISTRO_PAGE_ID}", {"tasks": ["ANALYZE"]})
    with django_capture_on_commit_callbacks(execute=True):
        counts = services.token_check_all()

    assert counts == {"valid": 3, "invalid": 0}  # every token still works...
    assert statuses() == {"facebook_page": "no_permission", "instagram_business": "no_permission"}
    page.refresh_from_db()
    assert "can now only analyze this Page" in page.status_reason
    assert "Reconnecting does not help" in page.status_reason
    assert page.metadata["tasks"] == ["ANALYZE"]
    assert TokenEvent.objects.filter(kind="task_missing").count() == 2
    assert WebhookDelivery.objects.filter(endpoint=hook, event="account.no_permission").count() == 2
    # ...and the owners hear about it once, both accounts in one e-mail.
    [email] = mail.outbox
    assert email.to == [owner.user.email]
    assert "can no longer be posted to" in email.subject
    assert "Check again" in email.body
    assert "Demo Bistro" in email.body
    assert "@demobistro" in email.body

    with django_capture_on_commit_callbacks(execute=True):
        services.token_check_all()  # the next day: nothing new to say
    assert len(mail.outbox) == 1

    # The dashboard says so, and offers the fix (not "reconnect").
    listing = text_of(client.get("/connections/").content)
    assert listing.count("No permission to post") == 2
    assert "Check again" in listing
    assert "Reconnecting does not fix this: a Page admin has to give the task back" in listing
    overview = client.get("/").content.decode()
    assert "No permission to post" in overview
    assert 'text-bg-success">Active' not in overview
    api = client.get("/api/v1/accounts/").json()
    assert {a["status"] for a in api["results"]} == {"no_permission"}

    # A post to the Page does not go out: the engine refuses the account.
    post = make_post(owner, [page], caption="Tonight: bouillabaisse")
    drive()
    publication = Publication.objects.get(post=post)
    assert publication.status == "failed"
    assert "can now only analyze this Page" in publication.last_error
    assert "reconnect it" not in publication.last_error
    assert published(sandbox)["page_posts"] == []
    assert statuses()["facebook_page"] == "no_permission"  # not turned into "reconnect"
    detail = text_of(client.get(f"/posts/{post.pk}/").content)
    assert "No permission to post" in detail
    assert "can now only analyze this Page" in detail

    # The admin gives the task back; "Check again" makes both accounts active again.
    control(f"pages/{BISTRO_PAGE_ID}", {"tasks": ALL_TASKS})
    response = client.post(f"/connections/{page.pk}/check/", follow=True)

    assert "can be published to" in text_of(response.content)
    assert statuses() == {"facebook_page": "active", "instagram_business": "active"}
    assert TokenEvent.objects.filter(kind="task_restored").count() == 2
    assert ConnectedAccount.objects.get(pk=page.pk).status_reason == ""
    again = make_post(owner, [page], caption="Back in business")
    drive()
    assert Post.objects.get(pk=again.pk).status == "published"
    assert [p["message"] for p in published(sandbox)["page_posts"]] == ["Back in business"]


def test_page_tasks_facebook_cannot_read_change_nothing_and_are_on_record(
    client_for, owner, sandbox, control, django_capture_on_commit_callbacks
):
    connect_bistro(client_for(owner.user))
    # Reading the Page's tasks fails, retries too (the Page token itself still checks out).
    control(
        "faults",
        {
            "kind": "error",
            "match": f"GET /{BISTRO_PAGE_ID}",
            "status": 500,
            "code": 2,
            "times": None,
        },
    )

    with django_capture_on_commit_callbacks(execute=True):
        counts = services.token_check_all()

    assert counts == {"valid": 3, "invalid": 0}
    assert statuses() == {"facebook_page": "active", "instagram_business": "active"}
    failed = TokenEvent.objects.filter(kind="check_failed")
    assert failed.count() == 2  # the Page, and the Instagram account published through it
    assert {e.graph_code for e in failed} == {2}
    assert all(e.detail.startswith("Reading the Page's tasks: GET /{id}") for e in failed)
    assert mail.outbox == []


def test_a_choice_discovered_before_an_upgrade_reads_the_same(owner):
    # What the pending connection holds (encrypted JSON) in the form earlier versions wrote.
    records = [
        {
            "id": "1",
            "name": "Demo Bistro",
            "access_token": "page-token-1",
            "category": "Restaurant",
            "picture_url": "",
            "tasks": ["ANALYZE", "MODERATE"],
            "instagram": {"id": "17", "username": "demobistro", "picture_url": ""},
        },
        {
            "id": "2",
            "name": "Catering",
            "access_token": "page-token-2",
            "category": "",
            "picture_url": "",
            "tasks": None,
            "instagram": None,
        },
    ]
    pending = PendingConnection.objects.create(
        tenant=owner.tenant,
        user=owner.user,
        facebook_user_id="42",
        token="user-token",
        discovered=json.dumps(records),
        expires_at=timezone.now() + timedelta(minutes=30),
    )

    bistro, catering = services.pending_pages(pending=pending)

    assert (bistro.tasks, bistro.connectable) == (("ANALYZE", "MODERATE"), False)
    assert bistro.not_connectable_reason == (
        "You can only moderate and analyze this Page: ask a Page admin to give you the "
        "“Create content” task on it, then reconnect."
    )
    assert bistro.instagram == services.DiscoveredInstagram("17", "demobistro", "")
    assert bistro.instagram_not_connectable_reason.startswith(
        "It is published with the Page “Demo Bistro”, where you can only moderate and analyze"
    )
    assert (catering.tasks, catering.connectable, catering.instagram) == (None, True, None)
    with pytest.raises(ApplicationError) as refused:
        services.connection_complete(
            actor=owner, pending=pending, page_ids=["1", "2"], instagram_ids=[]
        )
    assert refused.value.code == "missing_task"
    assert "Demo Bistro" in refused.value.message
    assert "Catering" not in refused.value.message


def test_a_permission_error_while_publishing_is_checked_against_the_page_tasks(
    client_for, owner, sandbox, control, django_capture_on_commit_callbacks
):
    page, _ = connect_bistro(client_for(owner.user))
    control(f"pages/{BISTRO_PAGE_ID}", {"tasks": ["ANALYZE"]})

    # What the engine does when Meta answers "(#200) ..." to a publish.
    with django_capture_on_commit_callbacks(execute=True):
        marked = services.accounts_mark_needs_reauth(
            accounts=[page], reason="(#200) Requires pages_manage_posts", graph_code=200
        )

    assert marked == []  # reconnecting would not help...
    assert statuses() == {"facebook_page": "no_permission", "instagram_business": "no_permission"}
    assert "can no longer be posted to" in mail.outbox[-1].subject

    # With the task there, a permission error still asks for a reconnect (a missing permission).
    control(f"pages/{BISTRO_PAGE_ID}", {"tasks": ALL_TASKS})
    services.account_check(actor=owner, account=page)
    marked = services.accounts_mark_needs_reauth(
        accounts=[page], reason="(#200) Requires pages_manage_posts", graph_code=200
    )
    assert [a.pk for a in marked] == [page.pk]


def test_a_publish_refused_for_a_missing_task_says_so_not_reconnect(
    client_for, owner, sandbox, control
):
    page, _ = connect_bistro(client_for(owner.user))
    # The task goes away after the daily check: the publish itself meets Meta's (#200).
    control(f"pages/{BISTRO_PAGE_ID}", {"tasks": ["ANALYZE"]})

    post = make_post(owner, [page], caption="Soup of the day")
    drive()

    publication = Publication.objects.get(post=post)
    assert publication.status == "failed"
    assert publication.error_code == 200
    assert "can now only analyze this Page" in publication.last_error
    assert "Reconnect the account" not in publication.last_error
    assert statuses()["facebook_page"] == "no_permission"
    assert published(sandbox)["page_posts"] == []
    failed = publication.events.get(kind="failed")
    assert (failed.graph_call, failed.answer) == ("POST /{id}/feed", "GraphPermissionError")


def test_check_again_is_for_managers(client_for, owner, viewer, sandbox, control):
    page, _ = connect_bistro(client_for(owner.user))

    assert client_for(viewer.user).post(f"/connections/{page.pk}/check/").status_code == 403
    assert "Check again" not in client_for(viewer.user).get("/connections/").content.decode()


# --- The Facebook login (user token) and the Page tokens, kept apart ----------------------------


@pytest.mark.django_db(transaction=True)
def test_an_expired_facebook_login_leaves_the_accounts_publishing(
    client_for, owner, sandbox, control, publishing_worker
):
    client = client_for(owner.user)
    page, instagram = connect_bistro(client)

    # 61 days later: the long-lived user token has expired; the Page tokens do not expire.
    control("clock", {"advance_seconds": SIXTY_ONE_DAYS})
    counts = services.token_check_all()

    assert counts == {"valid": 2, "invalid": 1}
    assert statuses() == {"facebook_page": "active", "instagram_business": "active"}
    login = AccessToken.objects.get(kind="user_long_lived")
    assert login.invalid_since is not None
    assert TokenEvent.objects.filter(kind="user_token_invalid", account=None).count() == 1
    assert not TokenEvent.objects.filter(kind="needs_reauth").exists()
    # The owner is told to reconnect Facebook, once.
    [email] = mail.outbox
    assert "its Facebook login no longer works" in email.subject
    assert "keep publishing" in email.body
    services.token_check_all()
    assert len(mail.outbox) == 1
    listing = text_of(client.get("/connections/").content)
    assert "has expired or was refused" in listing
    assert "to keep discovering Pages" in listing
    assert listing.count("Active") >= 2
    assert "reconnect Facebook" in text_of(client.get("/").content)

    # A post still goes out to both, through a real worker (Redis → worker → sandbox).
    post = make_post(owner, [page, instagram], images=1, caption="Still here")

    assert wait_until(lambda: Post.objects.get(pk=post.pk).status == "published", timeout=60), list(
        Publication.objects.values("status", "wait_reason", "last_error")
    )
    out = published(sandbox)
    assert [p["message"] for p in out["page_posts"]] == ["Still here"]
    assert [m["caption"] for m in out["instagram_media"]] == ["Still here"]
    assert statuses() == {"facebook_page": "active", "instagram_business": "active"}


def test_a_facebook_login_about_to_expire_is_announced_before_anything_depends_on_it(
    client_for, owner, sandbox, control, django_capture_on_commit_callbacks
):
    # Facebook hands out a login that ends in 3 days, and renewing it did not extend it.
    control("config", {"long_token_seconds": 3 * 86400})
    client = client_for(owner.user)
    connect_bistro(client)

    with django_capture_on_commit_callbacks(execute=True):
        assert services.token_check_all() == {"valid": 3, "invalid": 0}

    assert statuses() == {"facebook_page": "active", "instagram_business": "active"}
    [email] = mail.outbox
    assert "its Facebook login expires soon" in email.subject
    [event] = TokenEvent.objects.filter(kind="user_token_expiring")
    assert "The owners were e-mailed" in event.detail
    listing = text_of(client.get("/connections/").content)
    assert re.search(r"expires in [23] days", listing), listing
    with django_capture_on_commit_callbacks(execute=True):
        services.token_check_all()
    assert len(mail.outbox) == 1  # one e-mail per login

    # Reconnecting replaces the login: the notice is gone.
    control("config", {"long_token_seconds": 60 * 86400})
    connect_bistro(client)
    login = AccessToken.objects.get(kind="user_long_lived")
    assert (login.owners_warned_at, login.invalid_since) == (None, None)
    assert "Facebook login" not in text_of(client.get("/connections/").content)


def test_a_refresh_that_facebook_refuses_changes_no_account(
    client_for, owner, sandbox, control, django_capture_on_commit_callbacks
):
    connect_bistro(client_for(owner.user))
    login = AccessToken.objects.get(kind="user_long_lived")
    control(
        "faults",
        {"kind": "error", "match": "GET /oauth/access_token", "status": 400, "code": 190},
    )

    with django_capture_on_commit_callbacks(execute=True):
        assert services.token_refresh(token=login) is False

    assert statuses() == {"facebook_page": "active", "instagram_business": "active"}
    assert AccessToken.objects.get(pk=login.pk).invalid_since is not None
    assert "Facebook login no longer works" in mail.outbox[-1].subject
    # A refused login is not tried again: only a reconnect replaces it.
    AccessToken.objects.filter(pk=login.pk).update(expires_at=login.created_at)
    assert services.token_refresh_due() == 0


def test_a_removed_app_still_marks_every_account_for_reconnection(
    client_for, owner, sandbox, control, django_capture_on_commit_callbacks
):
    client = client_for(owner.user)
    page, _ = connect_bistro(client)
    control(f"pages/{BISTRO_PAGE_ID}", {"tasks": ["ANALYZE"]})
    services.token_check_all()
    assert statuses()["facebook_page"] == "no_permission"

    # The person removes the app: 190/458 on every token, the Page tokens included.
    graph.revoke_permissions(user_token=AccessToken.objects.get(kind="user_long_lived").token)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.token_check_all() == {"valid": 0, "invalid": 3}

    assert statuses() == {"facebook_page": "needs_reauth", "instagram_business": "needs_reauth"}
    assert "Reconnect the account" in ConnectedAccount.objects.get(pk=page.pk).status_reason
    # One e-mail says so; the refused login adds none (every account already needs reconnecting).
    assert [m.subject for m in mail.outbox[-1:]] == ["2 accounts of Chez Test need reconnection"]
    assert not any("Facebook login" in m.subject for m in mail.outbox)
    assert TokenEvent.objects.filter(kind="user_token_invalid").count() == 1


def test_the_admin_shows_page_token_and_login_health_apart_and_no_token(
    client_for, owner, staff, sandbox, control
):
    page, _ = connect_bistro(client_for(owner.user))
    control("clock", {"advance_seconds": SIXTY_ONE_DAYS})
    services.token_check_all()
    admin = client_for(staff)

    listing = text_of(admin.get("/admin/social/connectedaccount/").content)
    change = text_of(admin.get(f"/admin/social/connectedaccount/{page.pk}/change/").content)
    tokens = text_of(admin.get("/admin/social/accesstoken/").content)

    for html in (listing, change):
        assert "Page token" in html
        assert "Facebook login (user token)" in html
        assert "works · does not expire" in html  # the Page token
        assert "refused since" in html  # the login
    assert "refused since" in tokens
    for token in AccessToken.objects.all():
        assert token.token not in listing + change + tokens
