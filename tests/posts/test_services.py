"""The post lifecycle's rules, at the service level: bad input changes nothing, illegal moves are
refused, a rejection is explained and can be fixed and resubmitted."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from model_bakery import baker

from apps.posts import services
from apps.posts.models import Post, Publication, ReviewEvent
from apps.posts.services import IllegalTransition, PostInput, PostInvalid
from apps.social.models import ConnectedAccount


@pytest.fixture
def page(tenant):
    return baker.make(
        ConnectedAccount, tenant=tenant, platform="facebook_page", platform_id="1", status="active"
    )


@pytest.fixture
def instagram(tenant):
    return baker.make(
        ConnectedAccount,
        tenant=tenant,
        platform="instagram_business",
        platform_id="2",
        status="active",
    )


def draft(owner, **data):
    return services.post_create(actor=owner, data=PostInput(caption="Hello", **data))


def test_a_post_with_no_target_cannot_be_submitted(owner):
    post = draft(owner)

    with pytest.raises(PostInvalid) as exc:
        services.post_submit(actor=owner, post=post)

    assert [p.code for p in exc.value.problems] == ["no_target"]
    post.refresh_from_db()
    assert post.status == Post.Status.DRAFT


def test_a_target_of_another_tenant_is_refused_and_nothing_is_created(owner, other_tenant):
    foreign = baker.make(
        ConnectedAccount,
        tenant=other_tenant,
        platform="facebook_page",
        platform_id="9",
        status="active",
    )

    with pytest.raises(PostInvalid) as exc:
        draft(owner, target_ids=[foreign.pk])

    assert exc.value.problems[0].code == "target_unknown"
    assert not Post.objects.exists()


def test_instagram_needs_an_image(owner, instagram):
    post = draft(owner, target_ids=[instagram.pk])

    with pytest.raises(PostInvalid) as exc:
        services.post_submit(actor=owner, post=post)

    assert "Instagram: An Instagram post needs at least one image." in exc.value.message
    assert not Publication.objects.exists()


def test_a_schedule_in_the_past_is_refused(owner, page):
    with pytest.raises(PostInvalid) as exc:
        draft(owner, target_ids=[page.pk], scheduled_for=timezone.now() - timedelta(hours=1))

    assert exc.value.problems[0].code == "schedule_past"
    assert not Post.objects.exists()


def test_a_publishing_post_cannot_be_edited_or_cancelled(owner, page):
    post = draft(owner, target_ids=[page.pk])
    Post.objects.filter(pk=post.pk).update(status=Post.Status.PUBLISHING)

    with pytest.raises(IllegalTransition):
        services.post_update(
            actor=owner, post=post, data=PostInput(caption="Changed", target_ids=[page.pk])
        )
    with pytest.raises(IllegalTransition):
        services.post_cancel(actor=owner, post=post)

    post.refresh_from_db()
    assert (post.caption, post.status) == ("Hello", Post.Status.PUBLISHING)


def test_rejection_is_explained_and_the_post_can_be_fixed_and_resubmitted(
    owner, page, staff, django_capture_on_commit_callbacks
):
    post = draft(owner, target_ids=[page.pk])
    services.post_submit(actor=owner, post=post)

    with pytest.raises(Exception, match="Say why"):
        services.post_reject(reviewer=staff, post=post, note="  ")
    with django_capture_on_commit_callbacks(execute=True):
        services.post_reject(reviewer=staff, post=post, note="Please add the price.")

    post.refresh_from_db()
    assert post.status == Post.Status.REJECTED
    assert mail.outbox[-1].to == [owner.user.email]
    assert "Please add the price." in mail.outbox[-1].body

    services.post_update(
        actor=owner, post=post, data=PostInput(caption="Hello — 18 €", target_ids=[page.pk])
    )
    services.post_submit(actor=owner, post=post)
    post.refresh_from_db()
    assert post.status == Post.Status.PENDING_REVIEW
    kinds = list(ReviewEvent.objects.filter(post=post).values_list("kind", flat=True))
    assert kinds == ["created", "submitted", "rejected", "edited", "submitted"]


def test_editing_an_approved_post_sends_it_back_to_draft(owner, page, staff):
    post = draft(owner, target_ids=[page.pk], scheduled_for=timezone.now() + timedelta(days=1))
    services.post_submit(actor=owner, post=post)
    services.post_approve(reviewer=staff, post=post)
    assert Publication.objects.get(post=post).status == Publication.Status.PENDING

    services.post_update(
        actor=owner, post=post, data=PostInput(caption="New text", target_ids=[page.pk])
    )

    post.refresh_from_db()
    assert post.status == Post.Status.DRAFT
    assert Publication.objects.get(post=post).status == Publication.Status.CANCELLED


def test_illegal_transitions_are_refused(owner, page, staff):
    post = draft(owner, target_ids=[page.pk])

    with pytest.raises(IllegalTransition, match="Only posts waiting for approval"):
        services.post_approve(reviewer=staff, post=post)
    services.post_cancel(actor=owner, post=post)
    with pytest.raises(IllegalTransition):
        services.post_submit(actor=owner, post=post)


def test_viewers_cannot_write(viewer, page):
    with pytest.raises(Exception, match="Viewers"):
        services.post_create(actor=viewer, data=PostInput(caption="x", target_ids=[page.pk]))
    assert not Post.objects.exists()
