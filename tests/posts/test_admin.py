"""The approval queue in the Django admin (SPEC 1, 6): staff filter the queue, see each network's
preview, approve, reject with a note, publish now and retry failed publications — every step
through the services, every step recorded as a ReviewEvent.

Approving schedules publications and queues the dispatcher on commit; these tests never run
on-commit callbacks except where they say so (and then nothing is due), so nothing reaches a
network."""

import io
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from model_bakery import baker
from PIL import Image

from apps.accounts.models import Membership, Tenant, User
from apps.assets.models import BrandAsset
from apps.assets.services import asset_upload
from apps.posts.models import Post, PostAsset, Publication, ReviewEvent
from apps.posts.services import PostInput, post_approve, post_create, post_submit
from apps.social.models import ConnectedAccount

CHANGELIST = "/admin/posts/post/"
TOMORROW = timedelta(days=1)


def jpeg(colour: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (1080, 1080), colour).save(buffer, format="JPEG")
    return buffer.getvalue()


@pytest.fixture(autouse=True)
def files_in_tmp(settings, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def facebook(tenant: Tenant) -> ConnectedAccount:
    return baker.make(
        ConnectedAccount,
        tenant=tenant,
        platform="facebook_page",
        status="active",
        platform_id="1",
        name="Chez Test",
    )


@pytest.fixture
def instagram(tenant: Tenant, facebook: ConnectedAccount) -> ConnectedAccount:
    return baker.make(
        ConnectedAccount,
        tenant=tenant,
        platform="instagram_business",
        status="active",
        platform_id="2",
        name="Chez Test",
        username="cheztest",
        parent=facebook,
    )


@pytest.fixture
def images(editor: Membership) -> list[BrandAsset]:
    return [
        asset_upload(actor=editor, data=jpeg(colour), filename=f"{colour}.jpg").asset
        for colour in ("tomato", "navy")
    ]


@pytest.fixture
def make_post(editor: Membership, facebook: ConnectedAccount) -> Callable[..., Post]:
    """A post made as the business makes it: created, then (unless ``submit=False``) submitted
    for approval. Scheduled for tomorrow, so approving it makes nothing due now."""

    def make(
        *,
        caption: str = "Bouillabaisse tonight #bistro",
        overrides: dict[str, str] | None = None,
        targets: list[ConnectedAccount] | None = None,
        assets: list[BrandAsset] | None = None,
        membership: Membership | None = None,
        scheduled_for: datetime | None = None,
        submit: bool = True,
    ) -> Post:
        membership = membership or editor
        membership.tenant.requires_approval = True
        membership.tenant.save(update_fields=["requires_approval"])
        post = post_create(
            actor=membership,
            data=PostInput(
                caption=caption,
                caption_overrides=overrides or {},
                target_ids=[t.pk for t in (targets if targets is not None else [facebook])],
                asset_ids=[a.pk for a in assets or []],
                scheduled_for=scheduled_for or timezone.now() + TOMORROW,
            ),
        )
        if submit:
            post = post_submit(actor=membership, post=post)
        post.refresh_from_db()
        return post

    return make


@pytest.fixture
def admin_client(client_for: Callable[[User], Client], staff: User) -> Client:
    return client_for(staff)


def messages_of(response) -> list[str]:
    return [m.message for m in get_messages(response.wsgi_request)]


def kinds(post: Post) -> list[str]:
    return list(post.events.order_by("created_at", "id").values_list("kind", flat=True))


def run_action(client: Client, action: str, posts: list[Post], **data: str):
    return client.post(
        CHANGELIST,
        {"action": action, "_selected_action": [p.pk for p in posts], "index": 0, **data},
    )


def preview_block(html: str, platform: str) -> str:
    match = re.search(
        rf'<section class="network-preview" data-platform="{platform}">(.*?)</section>',
        html,
        re.S,
    )
    assert match, f"no preview for {platform}"
    return match.group(1)


# --- The queue ---------------------------------------------------------------------------------


def test_queue_puts_posts_waiting_for_approval_first_oldest_first(
    admin_client, make_post, images, facebook, instagram
):
    draft = make_post(caption="Still a draft", submit=False)
    first = make_post(caption="Waiting the longest", targets=[facebook, instagram], assets=images)
    second = make_post(caption="Waiting since just now")
    Post.objects.filter(pk=first.pk).update(submitted_at=timezone.now() - timedelta(hours=3))

    response = admin_client.get(CHANGELIST)

    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [first, second, draft]
    html = response.content.decode()
    for asset in images:
        assert reverse("admin:assets_brandasset_thumbnail", args=[asset.pk]) in html
    assert "@cheztest" in html  # the Instagram target
    assert "Waiting for approval" in html


def test_queue_filters_by_status_tenant_network_and_date(
    admin_client, make_post, make_member, other_tenant, facebook, instagram, images
):
    day = (timezone.now() + timedelta(days=3)).replace(hour=12, minute=0)
    draft = make_post(caption="A draft", submit=False)
    soon = make_post(
        caption="Soon", targets=[facebook, instagram], assets=images, scheduled_for=day
    )
    later = make_post(caption="Later", scheduled_for=day + timedelta(days=7))
    elsewhere_account = baker.make(
        ConnectedAccount,
        tenant=other_tenant,
        platform="facebook_page",
        status="active",
        platform_id="99",
    )
    elsewhere = make_post(
        caption="Another business",
        membership=make_member(other_tenant),
        targets=[elsewhere_account],
        scheduled_for=day,
    )

    def listed(query: str) -> set[Post]:
        response = admin_client.get(f"{CHANGELIST}?{query}")
        assert response.status_code == 200  # an unknown filter would redirect with ?e=1
        return set(response.context["cl"].result_list)

    assert listed("status__exact=draft") == {draft}
    assert listed("status__exact=pending_review") == {soon, later, elsewhere}
    assert listed(f"tenant__id__exact={other_tenant.pk}") == {elsewhere}
    assert listed("network=instagram_business") == {soon}
    assert listed(
        f"scheduled_for__year={day.year}&scheduled_for__month={day.month}"
        f"&scheduled_for__day={day.day}"
    ) == {soon, elsewhere}
    assert listed("submitted_at__isnull=True") == {draft}
    assert listed("q=Another+business") == {elsewhere}
    assert listed("q=Other+Place") == {elsewhere}  # the tenant's name
    assert later in listed("")


def test_queue_needs_the_same_queries_for_one_post_or_many(
    admin_client, make_post, images, facebook, instagram, django_assert_max_num_queries
):
    make_post(targets=[facebook, instagram], assets=images)
    with CaptureQueriesContext(connection) as one_post:
        assert admin_client.get(CHANGELIST).status_code == 200

    for i in range(5):
        make_post(caption=f"Post {i}", targets=[facebook, instagram], assets=images)
    make_post(caption="A draft", submit=False, assets=images)

    with django_assert_max_num_queries(len(one_post.captured_queries)):
        response = admin_client.get(CHANGELIST)
    assert len(response.context["cl"].result_list) == 7
    assert len(one_post.captured_queries) <= 15


def test_change_page_shows_each_network_as_it_will_look(
    admin_client, make_post, facebook, instagram, images
):
    caption = "Our bouillabaisse is back for the winter, with rouille and croutons. " * 3
    ig_caption = "Bouillabaisse is back! " * 8 + "#bistro #marseille"
    post = make_post(
        caption=caption.strip(),
        overrides={"instagram_business": ig_caption},
        targets=[facebook, instagram],
        assets=images,
    )

    response = admin_client.get(f"{CHANGELIST}{post.pk}/change/")

    assert response.status_code == 200
    html = response.content.decode()
    fb = preview_block(html, "facebook_page")
    ig = preview_block(html, "instagram_business")
    assert caption.strip() in fb  # Facebook shows ~480 characters before "See more"
    assert "… more" not in fb
    assert "Several photos" in fb
    assert ig_caption[:125] in ig  # Instagram folds after 125 characters
    assert ig_caption not in ig.split("<details>")[0]
    assert "… more" in ig
    assert "caption written for Instagram" in ig
    assert "#marseille" in ig
    assert "Carousel" in ig
    assert "Bouillabaisse is back" not in fb
    for block in (fb, ig):
        thumbnails = [reverse("admin:assets_brandasset_thumbnail", args=[a.pk]) for a in images]
        assert block.index(thumbnails[0]) < block.index(thumbnails[1])  # in the post's order
    assert "No problems found" in html
    assert f'action="{reverse("admin:posts_post_approve", args=[post.pk])}"' in html
    assert reverse("admin:posts_post_reject", args=[post.pk]) in html
    assert f'action="{reverse("admin:posts_post_publish_now", args=[post.pk])}"' in html
    assert 'name="_save"' not in html  # nobody edits a business's post here


def test_change_page_lists_the_problems_of_a_post(
    admin_client, make_post, facebook, instagram, images
):
    post = make_post(targets=[facebook, instagram], assets=images)
    PostAsset.objects.filter(post=post).delete()  # e.g. the images went away while it waited

    html = admin_client.get(f"{CHANGELIST}{post.pk}/change/").content.decode()

    assert "Instagram: An Instagram post needs at least one image." in html


# --- Approving ---------------------------------------------------------------------------------


def test_bulk_approve_schedules_waiting_posts_and_skips_the_rest(
    admin_client, staff, make_post, facebook, instagram, images
):
    first = make_post(caption="First", targets=[facebook, instagram], assets=images)
    second = make_post(caption="Second")
    draft = make_post(caption="Draft", submit=False)

    response = run_action(admin_client, "approve_selected", [first, second, draft])

    assert response.status_code == 302
    for post in (first, second):
        post.refresh_from_db()
        assert post.status == Post.Status.SCHEDULED
        assert post.reviewed_by == staff
        assert kinds(post)[-2:] == ["approved", "scheduled"]
        assert set(
            post.events.filter(kind__in=["approved", "scheduled"]).values_list("actor", flat=True)
        ) == {staff.pk}
    assert sorted(first.publications.values_list("account__platform", "status")) == [
        ("facebook_page", "pending"),
        ("instagram_business", "pending"),
    ]
    draft.refresh_from_db()
    assert draft.status == Post.Status.DRAFT
    assert kinds(draft) == ["created"]
    messages = messages_of(response)
    assert "Approved 2 posts; they are scheduled." in messages
    assert any(
        m.startswith("“Draft” (Chez Test) was not approved: Only posts waiting for approval")
        for m in messages
    )


def test_bulk_approve_refuses_a_post_with_problems(
    admin_client, make_post, facebook, instagram, images
):
    post = make_post(caption="Lost its images", targets=[facebook, instagram], assets=images)
    PostAsset.objects.filter(post=post).delete()

    response = run_action(admin_client, "approve_selected", [post])

    post.refresh_from_db()
    assert post.status == Post.Status.PENDING_REVIEW
    assert not post.publications.exists()
    assert messages_of(response) == [
        "“Lost its images” (Chez Test) was not approved: "
        "Instagram: An Instagram post needs at least one image."
    ]


def test_approve_button_on_the_change_page(admin_client, staff, make_post):
    post = make_post()
    url = reverse("admin:posts_post_approve", args=[post.pk])

    assert admin_client.get(url).status_code == 405  # a change happens only on POST
    response = admin_client.post(url)

    assert response.status_code == 302
    assert response.url == reverse("admin:posts_post_change", args=[post.pk])
    post.refresh_from_db()
    assert post.status == Post.Status.SCHEDULED
    assert post.events.get(kind="approved").actor == staff


def test_buttons_need_the_csrf_token(staff, make_post):
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff)
    post = make_post()
    url = reverse("admin:posts_post_approve", args=[post.pk])

    assert client.post(url).status_code == 403
    post.refresh_from_db()
    assert post.status == Post.Status.PENDING_REVIEW

    page = client.get(f"{CHANGELIST}{post.pk}/change/").content.decode()
    form = re.search(rf'<form method="post" action="{url}">(.*?)</form>', page, re.S)
    assert form
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.group(1))
    assert token
    assert client.post(url, {"csrfmiddlewaretoken": token.group(1)}).status_code == 302
    post.refresh_from_db()
    assert post.status == Post.Status.SCHEDULED


# --- Rejecting ---------------------------------------------------------------------------------


def test_bulk_reject_asks_for_a_note_and_emails_the_owner(
    admin_client, staff, owner, make_post, django_capture_on_commit_callbacks
):
    first = make_post(caption="Too blurry")
    second = make_post(caption="Wrong price")

    confirmation = run_action(admin_client, "reject_selected", [first, second])
    assert confirmation.status_code == 200
    assert "Note to the business" in confirmation.content.decode()

    without_note = admin_client.post(
        CHANGELIST,
        {
            "action": "reject_selected",
            "_selected_action": [first.pk, second.pk],
            "apply": "yes",
            "note": "   ",
        },
    )
    assert without_note.status_code == 200
    assert "Say why the post is rejected" in without_note.content.decode()
    for post in (first, second):
        post.refresh_from_db()
        assert post.status == Post.Status.PENDING_REVIEW
        assert "rejected" not in kinds(post)

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            CHANGELIST,
            {
                "action": "reject_selected",
                "_selected_action": [first.pk, second.pk],
                "apply": "yes",
                "note": "Please use a sharper photo of the dish.",
            },
        )

    assert response.status_code == 302
    for post in (first, second):
        post.refresh_from_db()
        assert post.status == Post.Status.REJECTED
        assert post.review_note == "Please use a sharper photo of the dish."
        event = post.events.get(kind="rejected")
        assert (event.actor, event.note) == (staff, "Please use a sharper photo of the dish.")
        assert (event.from_status, event.to_status) == ("pending_review", "rejected")
    assert "Rejected 2 posts; the owners are told by e-mail." in messages_of(response)
    assert len(mail.outbox) == 2
    assert {tuple(m.to) for m in mail.outbox} == {(owner.user.email,)}
    assert all("Please use a sharper photo of the dish." in m.body for m in mail.outbox)


def test_reject_one_post_from_its_page(admin_client, staff, make_post):
    post = make_post()
    url = reverse("admin:posts_post_reject", args=[post.pk])

    assert admin_client.get(url).status_code == 200
    empty = admin_client.post(url, {"note": ""})
    assert empty.status_code == 200
    assert "Say why the post is rejected" in empty.content.decode()
    post.refresh_from_db()
    assert post.status == Post.Status.PENDING_REVIEW

    response = admin_client.post(url, {"note": "The opening hours are wrong."})

    assert response.status_code == 302
    assert response.url == reverse("admin:posts_post_change", args=[post.pk])
    post.refresh_from_db()
    assert post.status == Post.Status.REJECTED
    assert post.events.get(kind="rejected").note == "The opening hours are wrong."


# --- Publishing now and retrying ---------------------------------------------------------------


def test_publish_now_approves_and_makes_publications_due(admin_client, staff, make_post, facebook):
    waiting = make_post(caption="Waiting")
    draft = make_post(caption="Draft", submit=False)
    before = timezone.now()

    response = run_action(admin_client, "publish_now_selected", [waiting, draft])

    waiting.refresh_from_db()
    assert waiting.status == Post.Status.SCHEDULED
    assert kinds(waiting)[-2:] == ["approved", "scheduled"]
    assert waiting.events.get(kind="approved").actor == staff
    publication = waiting.publications.get()
    assert publication.account == facebook
    assert publication.next_attempt_at is not None
    assert before <= publication.next_attempt_at <= timezone.now()
    draft.refresh_from_db()
    assert draft.status == Post.Status.DRAFT
    messages = messages_of(response)
    assert "Publishing 1 post now." in messages
    assert any(m.startswith("“Draft” (Chez Test) was not published:") for m in messages)


def test_publish_now_button_on_a_scheduled_post(admin_client, staff, make_post):
    post = make_post()
    post_approve(reviewer=staff, post=post)

    response = admin_client.post(reverse("admin:posts_post_publish_now", args=[post.pk]))

    assert response.status_code == 302
    post.refresh_from_db()
    assert post.status == Post.Status.SCHEDULED
    event = post.events.order_by("-id").first()
    assert (event.kind, event.note, event.actor) == ("rescheduled", "Publish now", staff)
    assert post.publications.get().next_attempt_at <= timezone.now()


@pytest.fixture
def failed_post(make_post, staff, facebook, instagram, images) -> Post:
    """A post whose Instagram publication failed and whose Facebook one went out."""
    post = make_post(targets=[facebook, instagram], assets=images)
    post_approve(reviewer=staff, post=post)
    # What the publishing engine would have recorded.
    Publication.objects.filter(post=post, account=instagram).update(
        status=Publication.Status.FAILED,
        attempts=3,
        last_error="The account needs to be reconnected.",
        error_code=190,
    )
    Publication.objects.filter(post=post, account=facebook).update(
        status=Publication.Status.PUBLISHED,
        platform_post_id="1_2",
        permalink="https://www.facebook.com/1_2",
        likes=4,
    )
    Post.objects.filter(pk=post.pk).update(status=Post.Status.PARTIALLY_PUBLISHED)
    post.refresh_from_db()
    return post


def test_retry_a_failed_publication_from_the_post_page(admin_client, staff, failed_post, instagram):
    failed = failed_post.publications.get(account=instagram)
    url = reverse("admin:posts_post_retry", args=[failed_post.pk, failed.pk])
    page = admin_client.get(f"{CHANGELIST}{failed_post.pk}/change/").content.decode()
    assert f'formaction="{url}"' in page
    assert page.count('formaction="') == 1  # only the failed publication has a Retry button
    assert "The account needs to be reconnected. (code 190)" in page

    response = admin_client.post(url)

    assert response.status_code == 302
    failed.refresh_from_db()
    assert (failed.status, failed.attempts, failed.last_error) == ("pending", 0, "")
    failed_post.refresh_from_db()
    assert failed_post.status == Post.Status.PUBLISHING
    event = failed_post.events.order_by("-id").first()
    assert (event.kind, event.actor, event.note) == ("retried", staff, str(instagram))
    assert "Publishing to @cheztest (Instagram business account) is tried again now." in (
        messages_of(response)
    )


def test_retry_publications_from_the_publication_list(
    admin_client, failed_post, facebook, instagram
):
    publications = list(failed_post.publications.all())

    response = admin_client.post(
        "/admin/posts/publication/",
        {
            "action": "retry_selected",
            "_selected_action": [p.pk for p in publications],
            "index": 0,
        },
    )

    assert response.status_code == 302
    statuses = dict(failed_post.publications.values_list("account", "status"))
    assert statuses == {facebook.pk: "published", instagram.pk: "pending"}
    assert kinds(failed_post)[-1] == "retried"
    assert messages_of(response) == [
        "Skipped 1 publication that had not failed.",
        "Retrying 1 publication now.",
    ]


def test_retry_refuses_a_publication_that_has_not_failed(admin_client, failed_post, facebook):
    published = failed_post.publications.get(account=facebook)

    response = admin_client.post(
        reverse("admin:posts_post_retry", args=[failed_post.pk, published.pk])
    )

    published.refresh_from_db()
    assert published.status == "published"
    assert messages_of(response) == [
        "Chez Test (Facebook Page) was not retried: Only a failed publication can be retried."
    ]


# --- Who may do it -----------------------------------------------------------------------------


def test_non_staff_are_sent_to_the_admin_login(client_for, owner, make_post):
    post = make_post()
    client = client_for(owner.user)

    for url in (CHANGELIST, f"{CHANGELIST}{post.pk}/change/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith("/admin/login/")
    response = client.post(reverse("admin:posts_post_approve", args=[post.pk]))
    assert response.url.startswith("/admin/login/")
    post.refresh_from_db()
    assert post.status == Post.Status.PENDING_REVIEW


def test_staff_who_may_only_view_cannot_review(client_for, make_user, make_post):
    viewer = make_user(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_post"))
    client = client_for(viewer)
    post = make_post()

    listing = client.get(CHANGELIST)
    page = client.get(f"{CHANGELIST}{post.pk}/change/")

    assert listing.status_code == 200
    assert "approve_selected" not in listing.content.decode()
    assert page.status_code == 200
    assert reverse("admin:posts_post_approve", args=[post.pk]) not in page.content.decode()
    assert client.post(reverse("admin:posts_post_approve", args=[post.pk])).status_code == 403
    post.refresh_from_db()
    assert post.status == Post.Status.PENDING_REVIEW


def test_posts_publications_and_history_are_read_only(admin_client, failed_post):
    assert admin_client.get("/admin/posts/post/add/").status_code == 403
    assert admin_client.post(f"{CHANGELIST}{failed_post.pk}/change/", {}).status_code == 403
    assert admin_client.get(f"{CHANGELIST}{failed_post.pk}/delete/").status_code == 403
    listing = admin_client.get(CHANGELIST).content.decode()
    assert "delete_selected" not in listing

    publication = failed_post.publications.first()
    assert admin_client.get("/admin/posts/publication/").status_code == 200
    failed_only = admin_client.get(
        "/admin/posts/publication/?status__exact=failed&account__platform__exact=instagram_business"
    )
    assert [p.status for p in failed_only.context["cl"].result_list] == ["failed"]
    assert admin_client.get("/admin/posts/publication/add/").status_code == 403
    page = admin_client.get(f"/admin/posts/publication/{publication.pk}/change/")
    assert page.status_code == 200
    assert "claim_token" not in page.content.decode()
    assert (
        admin_client.post(f"/admin/posts/publication/{publication.pk}/change/", {}).status_code
        == 403
    )

    event = ReviewEvent.objects.filter(post=failed_post).first()
    assert admin_client.get("/admin/posts/reviewevent/").status_code == 200
    assert admin_client.get(f"/admin/posts/reviewevent/{event.pk}/change/").status_code == 200
    assert admin_client.get("/admin/posts/reviewevent/add/").status_code == 403


def test_retry_failed_publications_of_selected_posts(admin_client, make_post, failed_post):
    waiting = make_post(caption="Nothing failed here")

    response = run_action(admin_client, "retry_failed", [failed_post, waiting])

    assert response.status_code == 302
    assert sorted(failed_post.publications.values_list("status", flat=True)) == [
        "pending",
        "published",
    ]
    assert kinds(failed_post)[-1] == "retried"
    assert kinds(waiting)[-1] == "submitted"
    assert messages_of(response) == ["Retrying 1 publication now."]


def test_staff_see_caption_usage_and_its_totals_per_business(
    client_for, staff, tenant, other_tenant
):
    baker.make(
        "posts.CaptionUsage",
        tenant=tenant,
        provider="openai",
        prompt_tokens=100,
        completion_tokens=50,
        cost_usd="0.0125",
        _quantity=2,
    )
    baker.make("posts.CaptionUsage", tenant=other_tenant, provider="offline", prompt_tokens=7)
    client = client_for(staff)

    page = client.get(f"/admin/posts/captionusage/?tenant__id__exact={tenant.pk}")

    assert page.status_code == 200
    totals = re.sub(r"\s+", " ", page.content.decode())
    assert "<strong>2</strong> requests" in totals
    assert "<strong>200</strong> prompt + <strong>100</strong> completion tokens" in totals
    assert "<strong>$0.0250</strong>" in totals
    # Read-only: usage is recorded by the caption service, never edited.
    assert client.get("/admin/posts/captionusage/add/").status_code == 403
