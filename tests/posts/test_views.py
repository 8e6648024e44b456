"""The posts pages through HTTP: compose and submit, the live preview, edit rules, the detail
page's actions, the filtered list and its query count, and what viewers may not do. Nothing
publishes here: tenants need approval, so a submitted post waits for staff."""

import html
import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from model_bakery import baker
from PIL import Image

from apps.assets.models import BrandAsset
from apps.assets.services import asset_upload
from apps.posts import services
from apps.posts.models import Post, PostAsset, Publication, PublicationEvent, ReviewEvent
from apps.social.models import ConnectedAccount

S = Post.Status


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path: Path) -> Path:
    """Every test stores its uploads in its own empty directory."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def jpeg(width: int = 1080, height: int = 1080, colour: str = "tomato") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, format="JPEG")
    return buffer.getvalue()


@pytest.fixture
def facebook(tenant) -> ConnectedAccount:
    return baker.make(
        ConnectedAccount,
        tenant=tenant,
        platform="facebook_page",
        platform_id="page-1",
        name="Chez Test",
        status="active",
    )


@pytest.fixture
def instagram(tenant) -> ConnectedAccount:
    return baker.make(
        ConnectedAccount,
        tenant=tenant,
        platform="instagram_business",
        platform_id="ig-1",
        name="Chez Test IG",
        username="cheztest",
        status="active",
    )


@pytest.fixture
def photo(editor):
    colours = iter(["red", "green", "blue", "orange", "purple", "olive", "navy", "teal"])

    def make(name: str = "dish.jpg", width: int = 1080, height: int = 1080) -> BrandAsset:
        data = jpeg(width, height, next(colours))
        return asset_upload(actor=editor, data=data, filename=name).asset

    return make


def compose(*, targets=(), assets=(), caption="", action="draft", **extra) -> dict:
    data = {
        "targets": [t.pk for t in targets],
        "assets": [a.pk for a in assets],
        "caption": caption,
        "action": action,
    }
    for position, asset in enumerate(assets, start=1):
        data[f"position_{asset.pk}"] = position
    data.update(extra)
    return data


def errors_of(response, element_id: str) -> str:
    """The text of the error block with this id (what is shown next to a field)."""
    page = response.content.decode()
    match = re.search(rf'id="{re.escape(element_id)}">(.*?)</div>', page, re.S)
    return html.unescape(match.group(1)) if match else ""


def text(response) -> str:
    return html.unescape(response.content.decode())


def make_post(membership, **fields) -> Post:
    data = services.PostInput(**fields)
    return services.post_create(actor=membership, data=data)


# --- Compose and submit -------------------------------------------------------------------------


def test_compose_saves_a_draft(client_for, editor, facebook, photo):
    image = photo()

    response = client_for(editor.user).post(
        reverse("posts:create"),
        compose(targets=[facebook], assets=[image], caption="Soup of the day #soup"),
    )

    post = Post.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("posts:detail", kwargs={"post_id": post.pk})
    assert post.status == S.DRAFT
    assert post.tenant == editor.tenant
    assert post.created_by == editor.user
    assert post.caption == "Soup of the day #soup"
    assert list(post.targets.all()) == [facebook]
    assert [pa.asset for pa in post.post_assets.all()] == [image]
    assert post.events.get().kind == ReviewEvent.Kind.CREATED


def test_the_position_numbers_set_the_order_of_the_images(client_for, editor, instagram, photo):
    first, second, third = photo("a.jpg"), photo("b.jpg"), photo("c.jpg")
    data = compose(targets=[instagram], assets=[first, second, third], caption="Three dishes")
    data |= {f"position_{first.pk}": 3, f"position_{second.pk}": 1, f"position_{third.pk}": 2}

    client_for(editor.user).post(reverse("posts:create"), data)

    post = Post.objects.get()
    assert [pa.asset for pa in post.post_assets.order_by("position")] == [second, third, first]


def test_submit_sends_the_post_for_approval(client_for, editor, facebook, instagram, photo):
    editor.tenant.requires_approval = True
    editor.tenant.save()
    client = client_for(editor.user)

    response = client.post(
        reverse("posts:create"),
        compose(
            targets=[facebook, instagram], assets=[photo()], caption="Brunch!", action="submit"
        ),
        follow=True,
    )

    post = Post.objects.get()
    assert post.status == S.PENDING_REVIEW
    assert post.submitted_at is not None
    submitted = post.events.get(kind=ReviewEvent.Kind.SUBMITTED)
    assert submitted.actor == editor.user
    assert submitted.from_status == S.DRAFT
    assert "Submitted for approval" in text(response)


def test_the_submit_button_says_schedule_when_no_approval_is_needed(client_for, editor, tenant):
    client = client_for(editor.user)
    assert "Submit for approval" in text(client.get(reverse("posts:create")))

    tenant.requires_approval = False
    tenant.save()

    assert ">Schedule</button>" in text(client.get(reverse("posts:create")))


@pytest.mark.parametrize(
    ("case", "error_id", "message"),
    [
        ("instagram_without_image", "assets-errors", "An Instagram post needs at least one image."),
        ("no_target", "targets-errors", "Choose at least one account to post to."),
        ("caption_too_long", "id_caption_errors", "The caption is 2201 characters"),
        ("too_many_hashtags", "id_caption_errors", "31 hashtags; Instagram allows 30."),
    ],
)
def test_submit_with_problems_keeps_the_draft_and_shows_them_next_to_their_fields(
    client_for, editor, instagram, photo, case, error_id, message
):
    data = {
        "instagram_without_image": compose(targets=[instagram], caption="No photo"),
        "no_target": compose(assets=[photo()], caption="To nobody"),
        "caption_too_long": compose(targets=[instagram], assets=[photo()], caption="x" * 2201),
        "too_many_hashtags": compose(
            targets=[instagram],
            assets=[photo()],
            caption=" ".join(f"#tag{i}" for i in range(31)),
        ),
    }[case]
    data["action"] = "submit"

    response = client_for(editor.user).post(reverse("posts:create"), data, follow=True)

    post = Post.objects.get()
    assert post.status == S.DRAFT
    assert not post.events.filter(kind=ReviewEvent.Kind.SUBMITTED).exists()
    assert response.redirect_chain[-1][0] == (
        reverse("posts:edit", kwargs={"post_id": post.pk}) + "?check=1"
    )
    assert "Draft saved, but it cannot be submitted yet" in text(response)
    assert message in errors_of(response, error_id)


def test_a_problem_of_an_overridden_caption_is_shown_next_to_that_caption(
    client_for, editor, facebook, instagram, photo
):
    data = compose(
        targets=[facebook, instagram],
        assets=[photo()],
        caption="Fine everywhere",
        caption_instagram="y" * 2300,
        action="submit",
    )

    response = client_for(editor.user).post(reverse("posts:create"), data, follow=True)

    assert Post.objects.get().status == S.DRAFT
    assert "2300 characters" in errors_of(response, "id_caption_instagram_errors")
    assert errors_of(response, "id_caption_errors") == ""


def test_a_schedule_in_the_past_is_refused_and_nothing_is_saved(
    client_for, editor, facebook, tenant
):
    tenant.timezone = "Europe/Paris"
    tenant.save()
    yesterday = timezone.localtime(timezone.now(), timezone=None) - timedelta(days=1)
    data = compose(
        targets=[facebook],
        caption="Too late",
        action="submit",
        scheduled_date=yesterday.date().isoformat(),
        scheduled_time="12:00",
    )

    response = client_for(editor.user).post(reverse("posts:create"), data)

    assert response.status_code == 400
    assert "The scheduled time is in the past" in errors_of(response, "id_scheduled_date_errors")
    assert not Post.objects.exists()


def test_an_edit_with_a_past_schedule_changes_nothing(client_for, editor, facebook):
    post = make_post(editor, caption="Before", target_ids=[facebook.pk])
    data = compose(
        targets=[facebook],
        caption="After",
        scheduled_date="2001-01-01",
        scheduled_time="12:00",
    )

    response = client_for(editor.user).post(
        reverse("posts:edit", kwargs={"post_id": post.pk}), data
    )

    post.refresh_from_db()
    assert response.status_code == 400
    assert post.caption == "Before"
    assert post.scheduled_for is None
    assert post.status == S.DRAFT


def test_a_target_of_another_tenant_is_refused_and_nothing_changes(
    client_for, editor, facebook, other_tenant
):
    foreign = baker.make(
        ConnectedAccount,
        tenant=other_tenant,
        platform="facebook_page",
        platform_id="their-page",
        status="active",
    )
    client = client_for(editor.user)

    response = client.post(
        reverse("posts:create"), compose(targets=[facebook, foreign], caption="Mine")
    )

    assert response.status_code == 400
    assert "not one of this business" in errors_of(response, "targets-errors")
    assert not Post.objects.exists()

    post = make_post(editor, caption="Mine", target_ids=[facebook.pk])
    response = client.post(
        reverse("posts:edit", kwargs={"post_id": post.pk}),
        compose(targets=[foreign], caption="Changed"),
    )

    post.refresh_from_db()
    assert response.status_code == 400
    assert post.caption == "Mine"
    assert list(post.targets.all()) == [facebook]


def test_an_image_of_another_tenant_is_refused(client_for, editor, facebook, other_tenant):
    foreign = baker.make(BrandAsset, tenant=other_tenant, width=1080, height=1080, size=1000)

    response = client_for(editor.user).post(
        reverse("posts:create"), compose(targets=[facebook], assets=[foreign], caption="x")
    )

    assert response.status_code == 400
    assert "not in this business's library" in errors_of(response, "assets-errors")
    assert not Post.objects.exists()


def test_a_reel_is_composed_with_its_cover_audio_collaborators_and_first_comment(
    client_for, editor, facebook, tenant
):
    video = baker.make(
        BrandAsset, tenant=tenant, kind="video", content_type="video/mp4", size=1000, duration=12
    )
    cover = baker.make(BrandAsset, tenant=tenant, content_type="image/jpeg", size=10)

    response = client_for(editor.user).post(
        reverse("posts:create"),
        compose(
            targets=[facebook],
            assets=[video],
            caption="Tonight",
            format="reel",
            cover=cover.pk,
            audio_name="Kitchen sounds",
            collaborators="@chef.anna, bistro_two",
            first_comment="#coqauvin",
            caption_ai_generated="on",
        ),
    )

    assert response.status_code == 302
    post = Post.objects.get()
    assert (post.format, post.cover, post.audio_name) == ("reel", cover, "Kitchen sounds")
    assert post.collaborators == ["chef.anna", "bistro_two"]
    assert post.first_comment == "#coqauvin"
    assert post.caption_ai_generated
    assert not post.share_to_feed
    page = text(client_for(editor.user).get(reverse("posts:detail", args=[post.pk])))
    assert "Drafted with AI" in page
    assert "#coqauvin" in page
    assert "@chef.anna" in page


@pytest.mark.parametrize(
    ("extra", "element", "message"),
    [
        ({"collaborators": "a b c d"}, "id_collaborators_errors", "At most 3 collaborators"),
        ({"collaborators": "not a/name"}, "id_collaborators_errors", "is not a username"),
        ({"location_id": "Paris"}, "id_location_id_errors", "digits only"),
        ({"format": "tiktok"}, "format-errors", "Select a valid choice"),
    ],
)
def test_bad_post_options_are_refused_next_to_their_field_and_nothing_is_saved(
    client_for, editor, facebook, extra, element, message
):
    response = client_for(editor.user).post(
        reverse("posts:create"), compose(targets=[facebook], caption="x", **extra)
    )

    assert response.status_code == 400
    assert message in errors_of(response, element)
    assert not Post.objects.exists()


def test_the_schedule_is_entered_in_the_tenants_timezone(client_for, editor, facebook, tenant):
    tenant.timezone = "Asia/Tokyo"
    tenant.save()
    client = client_for(editor.user)

    client.post(
        reverse("posts:create"),
        compose(
            targets=[facebook], caption="Lunch", scheduled_date="2031-01-15", scheduled_time="09:00"
        ),
    )

    post = Post.objects.get()
    assert post.scheduled_for == datetime(2031, 1, 15, 0, 0, tzinfo=UTC)
    edit = client.get(reverse("posts:edit", kwargs={"post_id": post.pk}))
    assert 'value="2031-01-15"' in text(edit)
    assert 'value="09:00"' in text(edit)
    assert "In Asia/Tokyo" in text(edit)
    detail = client.get(reverse("posts:detail", kwargs={"post_id": post.pk}))
    assert "Wed 15 Jan 2031, 09:00" in text(detail)


def test_a_time_skipped_by_the_clocks_going_forward_is_refused(
    client_for, editor, facebook, tenant
):
    tenant.timezone = "Europe/Paris"
    tenant.save()

    response = client_for(editor.user).post(
        reverse("posts:create"),
        compose(
            targets=[facebook], caption="x", scheduled_date="2031-03-30", scheduled_time="02:30"
        ),
    )

    assert response.status_code == 400
    assert "does not exist" in errors_of(response, "id_scheduled_time_errors")
    assert not Post.objects.exists()


def test_update_preview_without_javascript_saves_nothing(client_for, editor, instagram, photo):
    response = client_for(editor.user).post(
        reverse("posts:create"),
        compose(targets=[instagram], assets=[photo()], caption="Draft #one", action="preview"),
    )

    assert response.status_code == 200
    assert not Post.objects.exists()
    assert 'id="preview-instagram_business"' in text(response)
    assert "#one" in text(response)


# --- The live preview ---------------------------------------------------------------------------


def test_the_preview_shows_each_network_and_its_problems(client_for, editor, facebook, instagram):
    response = client_for(editor.user).post(
        reverse("posts:preview"),
        compose(targets=[facebook, instagram], caption="Tonight: live jazz #jazz @bandname"),
        HTTP_HX_REQUEST="true",
    )

    page = text(response)
    assert response.status_code == 200
    assert "<html" not in page  # a partial
    assert 'id="preview-facebook_page"' in page
    assert 'id="preview-instagram_business"' in page
    assert "Text post" in page
    assert "#jazz" in page
    assert "1 mention" in page
    assert "An Instagram post needs at least one image." in page
    assert "1 problem to fix" in page


def test_the_preview_shows_layouts_truncation_and_general_problems(
    client_for, editor, facebook, instagram, photo
):
    client = client_for(editor.user)
    images = [photo("a.jpg"), photo("b.jpg")]

    carousel = text(
        client.post(
            reverse("posts:preview"),
            compose(targets=[facebook, instagram], assets=images, caption="word " * 40),
        )
    )
    empty = text(client.post(reverse("posts:preview"), compose()))

    assert "Carousel · 2 images" in carousel
    assert "Multi-photo post · 2 photos" in carousel
    assert "… more" in carousel
    for image in images:
        assert reverse("assets:thumbnail", args=[image.pk]) in carousel
    assert "Choose at least one account to post to." in empty
    assert "Write a caption, add a link or choose images." in empty


def test_the_compose_page_renders_the_preview_without_javascript(
    client_for, editor, instagram, photo
):
    post = make_post(editor, caption="Hello", target_ids=[instagram.pk])

    response = client_for(editor.user).get(reverse("posts:edit", kwargs={"post_id": post.pk}))

    page = text(response)
    assert 'aria-live="polite"' in page
    assert 'hx-post="/posts/preview/"' in page
    assert 'id="preview-instagram_business"' in page
    assert "An Instagram post needs at least one image." in page


# --- Edit rules ---------------------------------------------------------------------------------


def test_editing_a_submitted_post_returns_it_to_draft(client_for, editor, facebook):
    post = make_post(editor, caption="Before", target_ids=[facebook.pk])
    services.post_submit(actor=editor, post=post)

    response = client_for(editor.user).post(
        reverse("posts:edit", kwargs={"post_id": post.pk}),
        compose(targets=[facebook], caption="After"),
        follow=True,
    )

    post.refresh_from_db()
    assert post.status == S.DRAFT
    assert post.caption == "After"
    assert post.events.filter(kind=ReviewEvent.Kind.BACK_TO_DRAFT).exists()
    assert "it is a draft again" in text(response)


def test_editing_a_scheduled_post_returns_it_to_draft(client_for, editor, facebook, tenant):
    tenant.requires_approval = False
    tenant.save()
    post = make_post(editor, caption="Before", target_ids=[facebook.pk])
    services.post_submit(actor=editor, post=post)
    assert Post.objects.get().status == S.SCHEDULED

    client_for(editor.user).post(
        reverse("posts:edit", kwargs={"post_id": post.pk}),
        compose(targets=[facebook], caption="After"),
    )

    post.refresh_from_db()
    assert post.status == S.DRAFT
    assert post.publications.get().status == Publication.Status.CANCELLED


def test_a_publishing_post_cannot_be_edited(client_for, editor, facebook):
    post = make_post(editor, caption="Going out", target_ids=[facebook.pk])
    Post.objects.filter(pk=post.pk).update(status=S.PUBLISHING)
    client = client_for(editor.user)
    url = reverse("posts:edit", kwargs={"post_id": post.pk})

    page = client.get(url)
    response = client.post(url, compose(targets=[facebook], caption="Changed"))

    post.refresh_from_db()
    assert "This post can no longer be edited" in text(page)
    assert 'name="caption"' not in text(page)
    assert response.status_code == 409
    assert "Nothing was changed" in text(response)
    assert post.caption == "Going out"
    assert post.status == S.PUBLISHING


# --- Detail actions -----------------------------------------------------------------------------


def test_submit_from_the_detail_page(client_for, editor, facebook):
    post = make_post(editor, caption="Hello", target_ids=[facebook.pk])

    response = client_for(editor.user).post(reverse("posts:submit", kwargs={"post_id": post.pk}))

    post.refresh_from_db()
    assert response.status_code == 302
    assert post.status == S.PENDING_REVIEW


def test_submit_from_the_detail_page_with_problems_leads_to_them(client_for, editor):
    post = make_post(editor, caption="To nobody")

    response = client_for(editor.user).post(
        reverse("posts:submit", kwargs={"post_id": post.pk}), follow=True
    )

    post.refresh_from_db()
    assert post.status == S.DRAFT
    assert "Choose at least one account" in errors_of(response, "targets-errors")


def test_cancel(client_for, editor, facebook):
    post = make_post(editor, caption="Hello", target_ids=[facebook.pk])
    services.post_submit(actor=editor, post=post)

    response = client_for(editor.user).post(
        reverse("posts:cancel", kwargs={"post_id": post.pk}), follow=True
    )

    post.refresh_from_db()
    assert post.status == S.CANCELLED
    assert post.events.filter(kind=ReviewEvent.Kind.CANCELLED, actor=editor.user).exists()
    assert "Cancelled" in text(response)


def test_cancel_of_a_published_post_is_refused(client_for, editor, facebook):
    post = make_post(editor, caption="Hello", target_ids=[facebook.pk])
    Post.objects.filter(pk=post.pk).update(status=S.PUBLISHED)

    response = client_for(editor.user).post(
        reverse("posts:cancel", kwargs={"post_id": post.pk}), follow=True
    )

    assert Post.objects.get().status == S.PUBLISHED
    assert "can no longer be cancelled" in text(response)


def test_reschedule_in_the_tenants_timezone(client_for, editor, facebook, tenant):
    tenant.requires_approval = False
    tenant.timezone = "Asia/Tokyo"
    tenant.save()
    post = make_post(editor, caption="Hello", target_ids=[facebook.pk])
    services.post_submit(actor=editor, post=post)

    response = client_for(editor.user).post(
        reverse("posts:reschedule", kwargs={"post_id": post.pk}),
        {"scheduled_date": "2031-06-01", "scheduled_time": "18:30"},
        follow=True,
    )

    post.refresh_from_db()
    expected = datetime(2031, 6, 1, 9, 30, tzinfo=UTC)
    assert post.status == S.SCHEDULED
    assert post.scheduled_for == expected
    assert post.publications.get().next_attempt_at == expected
    assert post.events.filter(kind=ReviewEvent.Kind.RESCHEDULED).exists()
    assert "Rescheduled" in text(response)


def test_reschedule_into_the_past_changes_nothing(client_for, editor, facebook):
    post = make_post(editor, caption="Hello", target_ids=[facebook.pk])

    response = client_for(editor.user).post(
        reverse("posts:reschedule", kwargs={"post_id": post.pk}),
        {"scheduled_date": "2001-06-01", "scheduled_time": "18:30"},
        follow=True,
    )

    post.refresh_from_db()
    assert post.scheduled_for is None
    assert "Not rescheduled: The scheduled time is in the past" in text(response)


def test_retry_of_a_failed_publication(client_for, editor, facebook):
    post = make_post(editor, caption="Hello", target_ids=[facebook.pk])
    Post.objects.filter(pk=post.pk).update(status=S.FAILED)
    publication = baker.make(
        Publication,
        tenant=editor.tenant,
        post=post,
        account=facebook,
        status=Publication.Status.FAILED,
        attempts=6,
        last_error="Facebook is unavailable.",
    )

    response = client_for(editor.user).post(
        reverse("posts:retry_publication", kwargs={"publication_id": publication.pk}), follow=True
    )

    publication.refresh_from_db()
    post.refresh_from_db()
    assert publication.status == Publication.Status.PENDING
    assert publication.attempts == 0
    assert publication.last_error == ""
    assert post.status == S.PUBLISHING
    assert post.events.filter(kind=ReviewEvent.Kind.RETRIED, actor=editor.user).exists()
    assert "Trying again" in text(response)


# --- The detail page ----------------------------------------------------------------------------


def test_the_detail_page_shows_each_accounts_outcome_and_engagement(
    client_for, editor, facebook, instagram, tenant
):
    tenant.timezone = "Asia/Tokyo"
    tenant.save()
    third = baker.make(
        ConnectedAccount,
        tenant=tenant,
        platform="facebook_page",
        platform_id="page-2",
        name="Second Page",
        status="needs_reauth",
    )
    post = make_post(editor, caption="Out there", target_ids=[facebook.pk, instagram.pk, third.pk])
    Post.objects.filter(pk=post.pk).update(status=S.PUBLISHING)
    now = timezone.now()
    baker.make(
        Publication,
        tenant=tenant,
        post=post,
        account=facebook,
        status=Publication.Status.PUBLISHED,
        permalink="https://facebook.example/posts/1",
        published_at=now,
        likes=12,
        comments=3,
        shares=2,
        reactions=15,
        engagement_synced_at=now,
    )
    baker.make(
        Publication,
        tenant=tenant,
        post=post,
        account=instagram,
        status=Publication.Status.WAITING,
        wait_reason="Instagram's limit of 50 posts in 24 hours is reached.",
        next_attempt_at=datetime(2031, 1, 1, 3, 0, tzinfo=UTC),
    )
    baker.make(
        Publication,
        tenant=tenant,
        post=post,
        account=third,
        status=Publication.Status.FAILED,
        last_error="The Page's access has expired: reconnect it.",
        error_code=190,
    )

    page = text(client_for(editor.user).get(reverse("posts:detail", kwargs={"post_id": post.pk})))

    assert 'href="https://facebook.example/posts/1"' in page
    assert "12 likes" in page
    assert "Waiting: Instagram's limit of 50 posts in 24 hours is reached." in page
    assert "Next attempt 1 Jan 2031, 12:00" in page  # 03:00 UTC in Tokyo
    assert "Failed: The Page's access has expired: reconnect it." in page
    assert "(code 190)" in page
    assert "Reconnect the account first" in page
    assert reverse("posts:retry_publication", args=[post.publications.get(account=third).pk]) in (
        page
    )
    assert 'id="engagement"' in page
    assert "Publishing" in page


def test_the_detail_page_shows_each_publications_history(
    client_for, editor, facebook, tenant, django_assert_max_num_queries
):
    post = make_post(editor, caption="Checked", target_ids=[facebook.pk])
    Post.objects.filter(pk=post.pk).update(status=S.FAILED)
    publication = baker.make(
        Publication,
        tenant=tenant,
        post=post,
        account=facebook,
        status=Publication.Status.FAILED,
        last_error="Could not confirm whether the post went out (no answer). Look at the "
        "account's recent posts before retrying: https://www.facebook.com/page-1",
    )
    for attempt, (kind, answer) in enumerate(
        [("checking", "GraphTimeoutError"), ("checking", "CannotTell"), ("failed", "CannotTell")],
        start=1,
    ):
        baker.make(
            PublicationEvent,
            tenant=tenant,
            publication=publication,
            kind=kind,
            from_status="publishing",
            to_status="waiting" if kind == "checking" else "failed",
            attempt=attempt,
            graph_call="POST /{id}/feed",
            answer=answer,
            note=f"step {attempt}",
        )
    client = client_for(editor.user)
    url = reverse("posts:detail", kwargs={"post_id": post.pk})
    client.get(url)

    with django_assert_max_num_queries(20):
        page = text(client.get(url))

    assert "(3 steps)" in page
    history = page.split("(3 steps)")[1]
    assert history.count("Checking whether it went out") == 2
    assert "attempt 3" in history
    assert "<code>POST /{id}/feed</code> → GraphTimeoutError" in history
    assert "step 3" in history
    # "Could not confirm" links where to look.
    assert '<a href="https://www.facebook.com/page-1"' in page


def test_the_detail_page_shows_the_rejection_note_and_history(client_for, editor, facebook, staff):
    post = make_post(editor, caption="Hello", target_ids=[facebook.pk])
    services.post_submit(actor=editor, post=post)
    services.post_reject(reviewer=staff, post=post, note="The photo is blurry.")

    page = text(client_for(editor.user).get(reverse("posts:detail", kwargs={"post_id": post.pk})))

    assert "note: “The photo is blurry.”" in page
    history = page.split('id="history"')[1]
    assert "Created" in history
    assert "Submitted for approval" in history
    assert "Rejected" in history
    assert staff.email in history


# --- The list -----------------------------------------------------------------------------------


def _post_with_everything(editor, accounts, images, **fields) -> Post:
    post = make_post(
        editor,
        caption=fields.pop("caption", "A post"),
        target_ids=[a.pk for a in accounts],
        asset_ids=[i.pk for i in images],
    )
    for account in accounts:
        baker.make(
            Publication,
            tenant=editor.tenant,
            post=post,
            account=account,
            status=Publication.Status.PUBLISHED,
            likes=2,
            comments=1,
            engagement_synced_at=timezone.now(),
        )
    if fields:
        Post.objects.filter(pk=post.pk).update(**fields)
    return post


def test_the_list_needs_the_same_queries_whatever_the_page_size(
    client_for, editor, facebook, instagram, photo, django_assert_max_num_queries
):
    images = [photo("a.jpg"), photo("b.jpg"), photo("c.jpg"), photo("d.jpg")]
    client = client_for(editor.user)
    _post_with_everything(editor, [facebook, instagram], images)
    client.get(reverse("posts:list"))  # warm the session
    with CaptureQueriesContext(connection) as one_post:
        client.get(reverse("posts:list"))
    for _ in range(19):
        _post_with_everything(editor, [facebook, instagram], images)

    with django_assert_max_num_queries(len(one_post.captured_queries)):
        response = client.get(reverse("posts:list"))

    page = text(response)
    assert page.count("posts/") >= 20
    assert "+1" in page  # three thumbnails, then the count of the others
    assert "4 likes" in page  # summed over both accounts


def test_the_list_filters_by_status_account_and_date(
    client_for, editor, facebook, instagram, tenant
):
    tenant.timezone = "Asia/Tokyo"
    tenant.save()
    only_facebook = make_post(editor, caption="Only facebook", target_ids=[facebook.pk])
    both = make_post(editor, caption="Both networks", target_ids=[facebook.pk, instagram.pk])
    Post.objects.filter(pk=both.pk).update(
        status=S.PENDING_REVIEW,
        # 10 Jan 2031, 08:00 in Tokyo
        scheduled_for=datetime(2031, 1, 9, 23, 0, tzinfo=UTC),
    )
    client = client_for(editor.user)

    def captions(**params) -> set[str]:
        response = client.get(reverse("posts:list"), params)
        assert response.status_code == 200
        page = text(response)
        return {p.caption for p in (only_facebook, both) if p.caption in page}

    assert captions() == {"Only facebook", "Both networks"}
    assert captions(status="pending_review") == {"Both networks"}
    assert captions(status="draft") == {"Only facebook"}
    assert captions(account=instagram.pk) == {"Both networks"}
    assert captions(date_field="scheduled", date_from="2031-01-10", date_to="2031-01-10") == {
        "Both networks"
    }
    assert captions(date_field="scheduled", date_from="2031-01-11") == set()
    today = timezone.localdate(timezone=None)
    assert captions(date_field="created", date_from=today.isoformat()) == {
        "Only facebook",
        "Both networks",
    }


def test_the_list_shows_each_targets_publication_status(client_for, editor, facebook, photo):
    post = make_post(editor, caption="Hello", target_ids=[facebook.pk])
    baker.make(
        Publication,
        tenant=editor.tenant,
        post=post,
        account=facebook,
        status=Publication.Status.WAITING,
    )

    page = text(client_for(editor.user).get(reverse("posts:list")))

    assert 'Chez Test <span class="text-secondary">· Facebook</span>' in page
    assert ">Waiting</span>" in page


def test_the_list_shows_only_this_tenants_posts(client_for, editor, other_tenant):
    make_post(editor, caption="Ours")
    baker.make(Post, tenant=other_tenant, caption="Theirs")

    page = text(client_for(editor.user).get(reverse("posts:list")))

    assert "Ours" in page
    assert "Theirs" not in page


# --- Roles --------------------------------------------------------------------------------------


def test_a_viewer_reads_but_cannot_change_anything(client_for, viewer, editor, facebook, photo):
    post = make_post(editor, caption="Hello", target_ids=[facebook.pk])
    publication = baker.make(
        Publication, tenant=editor.tenant, post=post, account=facebook, status="failed"
    )
    client = client_for(viewer.user)
    detail = reverse("posts:detail", kwargs={"post_id": post.pk})

    assert client.get(reverse("posts:list")).status_code == 200
    page = text(client.get(detail))
    assert "Hello" in page
    assert 'id="post-actions"' not in page
    assert "Retry" not in page
    assert "Reschedule" not in page
    assert "New post" not in text(client.get(reverse("posts:list")))

    refused = [
        client.get(reverse("posts:create")),
        client.post(reverse("posts:create"), compose(targets=[facebook], caption="x")),
        client.get(reverse("posts:edit", kwargs={"post_id": post.pk})),
        client.post(
            reverse("posts:edit", kwargs={"post_id": post.pk}),
            compose(targets=[facebook], caption="Changed"),
        ),
        client.post(reverse("posts:preview"), compose()),
        client.post(reverse("posts:submit", kwargs={"post_id": post.pk})),
        client.post(reverse("posts:cancel", kwargs={"post_id": post.pk})),
        client.post(
            reverse("posts:reschedule", kwargs={"post_id": post.pk}),
            {"scheduled_date": "2031-01-01", "scheduled_time": "10:00"},
        ),
        client.post(reverse("posts:retry_publication", kwargs={"publication_id": publication.pk})),
    ]

    assert [r.status_code for r in refused] == [403] * len(refused)
    post.refresh_from_db()
    publication.refresh_from_db()
    assert post.caption == "Hello"
    assert post.status == S.DRAFT
    assert post.scheduled_for is None
    assert publication.status == Publication.Status.FAILED
    assert Post.objects.count() == 1


def test_editors_see_the_actions_their_post_allows(client_for, editor, facebook):
    post = make_post(editor, caption="Hello", target_ids=[facebook.pk])
    client = client_for(editor.user)
    detail = reverse("posts:detail", kwargs={"post_id": post.pk})

    draft = text(client.get(detail))
    Post.objects.filter(pk=post.pk).update(status=S.PUBLISHED)
    published = text(client.get(detail))

    assert reverse("posts:edit", kwargs={"post_id": post.pk}) in draft
    assert reverse("posts:submit", kwargs={"post_id": post.pk}) in draft
    assert reverse("posts:cancel", kwargs={"post_id": post.pk}) in draft
    assert 'id="post-actions"' not in published
    assert reverse("posts:reschedule", kwargs={"post_id": post.pk}) not in published


def test_post_assets_survive_a_failed_edit(client_for, editor, instagram, photo):
    image = photo()
    post = make_post(editor, caption="x", target_ids=[instagram.pk], asset_ids=[image.pk])

    client_for(editor.user).post(
        reverse("posts:edit", kwargs={"post_id": post.pk}),
        compose(targets=[instagram], assets=[image], caption="y", link="not a link"),
    )

    assert PostAsset.objects.filter(post=post, asset=image).exists()
    assert Post.objects.get().caption == "x"
