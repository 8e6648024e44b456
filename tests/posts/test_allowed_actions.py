"""The actions a post offers come from the transition table (issue 14): for every status, what
``allowed_actions`` offers is what TRANSITIONS allows, each action offered is one its service
accepts, each one it refuses is not offered, and the detail page shows exactly those buttons."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from model_bakery import baker

from apps.posts import services
from apps.posts.models import Post, Publication
from apps.posts.services import (
    ACTION_MOVES,
    TRANSITIONS,
    Action,
    IllegalTransition,
    PostInput,
    allowed_actions,
)
from apps.social.models import ConnectedAccount

pytestmark = pytest.mark.django_db

S = Post.Status


@pytest.fixture
def page(tenant):
    return baker.make(
        ConnectedAccount,
        tenant=tenant,
        platform="facebook_page",
        status=ConnectedAccount.Status.ACTIVE,
        name="Demo Bistro",
    )


def make_post(tenant, owner, page, status, *, failed_publication=False):
    post = baker.make(
        Post,
        tenant=tenant,
        created_by=owner.user,
        status=status,
        caption="Tonight: live jazz",
        scheduled_for=timezone.now() + timedelta(days=2),
    )
    post.targets.set([page])
    if failed_publication:
        baker.make(
            Publication, tenant=tenant, post=post, account=page, status=Publication.Status.FAILED
        )
    return post


def perform(action, post, actor, page):
    """Take ``action`` through its service; whether the service accepted it."""
    calls = {
        Action.EDIT: lambda: services.post_update(
            actor=actor,
            post=post,
            data=PostInput(
                caption="Edited", target_ids=[page.pk], scheduled_for=post.scheduled_for
            ),
        ),
        Action.RESCHEDULE: lambda: services.post_reschedule(
            actor=actor, post=post, scheduled_for=timezone.now() + timedelta(days=3)
        ),
        Action.SUBMIT: lambda: services.post_submit(actor=actor, post=post),
        Action.CANCEL: lambda: services.post_cancel(actor=actor, post=post),
        Action.RETRY: lambda: services.publication_retry(
            actor=actor, publication=post.publications.get(status=Publication.Status.FAILED)
        ),
    }
    try:
        with transaction.atomic():
            calls[action]()
            transaction.set_rollback(True)
    except IllegalTransition:
        return False
    except Publication.DoesNotExist:  # no failed publication to retry
        return False
    return True


def table_allows(status):
    return {action for action, to in ACTION_MOVES.items() if to in TRANSITIONS[status]}


@pytest.mark.parametrize("status", S.values)
def test_the_offered_actions_are_the_transitions_the_table_allows(status, tenant, owner, page):
    plain = make_post(tenant, owner, page, status)
    with_failure = make_post(tenant, owner, page, status, failed_publication=True)

    assert allowed_actions(plain, actor=owner) == table_allows(status) - {Action.RETRY}
    # A failed publication makes a retry possible, and means publishing has started.
    assert allowed_actions(with_failure, actor=owner) == table_allows(status) - {Action.CANCEL}


@pytest.mark.parametrize("failed_publication", [False, True], ids=["no publication", "failed"])
@pytest.mark.parametrize("status", S.values)
def test_an_action_is_offered_exactly_when_its_service_accepts_it(
    status, failed_publication, tenant, owner, page
):
    for action in Action:
        post = make_post(tenant, owner, page, status, failed_publication=failed_publication)
        offered = action in allowed_actions(post, actor=owner)

        assert perform(action, post, owner, page) == offered, (action, status)


def test_a_viewer_is_offered_nothing(tenant, owner, viewer, page):
    post = make_post(tenant, owner, page, S.DRAFT)

    assert allowed_actions(post, actor=viewer) == frozenset()
    assert allowed_actions(post, actor=None) == frozenset()


@pytest.mark.parametrize("status", S.values)
def test_the_detail_page_shows_the_allowed_actions(status, tenant, owner, page, client_for):
    post = make_post(tenant, owner, page, status, failed_publication=status == S.FAILED)

    response = client_for(owner.user).get(f"/posts/{post.pk}/")

    assert response.status_code == 200
    context = response.context
    assert context["actions"] == allowed_actions(post, actor=owner)
    shown = {action for action in Action if context[f"can_{action}"]}
    assert shown == set(context["actions"])
