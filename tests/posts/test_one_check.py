"""Preview and submit share one check (issue 14): for each bad post, the problems the compose
preview shows are exactly those submit refuses it for (and those the API and the admin list as
its ``problems``); a post the preview finds fine is submitted."""

from datetime import timedelta

import pytest
from django.utils import timezone
from model_bakery import baker

from apps.assets.models import BrandAsset
from apps.posts import selectors, services
from apps.posts.models import Post
from apps.posts.services import PostInput, PostInvalid
from apps.social.models import ConnectedAccount

pytestmark = pytest.mark.django_db

FACEBOOK, INSTAGRAM = "facebook_page", "instagram_business"


@pytest.fixture
def make_account(tenant):
    def make(platform: str, name: str = "") -> ConnectedAccount:
        return baker.make(
            ConnectedAccount,
            tenant=tenant,
            platform=platform,
            status=ConnectedAccount.Status.ACTIVE,
            name=name or platform,
        )

    return make


@pytest.fixture
def make_image(tenant):
    def make(width: int = 1080, height: int = 1080) -> BrandAsset:
        return baker.make(
            BrandAsset,
            tenant=tenant,
            width=width,
            height=height,
            size=200_000,
            content_type="image/jpeg",
            original_filename=f"{width}x{height}.jpg",
        )

    return make


def tomorrow():
    return timezone.now() + timedelta(days=1)


# name → (platforms of the targets, caption, image sizes, what to break after saving)
CASES = {
    "too long for Instagram": ([FACEBOOK, INSTAGRAM], "a" * 2300, [(1080, 1080)], None),
    "too many hashtags": (
        [INSTAGRAM],
        " ".join(f"#tag{i}" for i in range(31)),
        [(1080, 1080)],
        None,
    ),
    "Instagram without an image": ([FACEBOOK, INSTAGRAM], "Tonight: jazz", [], None),
    "a bad aspect ratio": ([INSTAGRAM], "Wide", [(1080, 300)], None),
    "two Instagram accounts, one problem each rule": (
        [INSTAGRAM, INSTAGRAM],
        "a" * 2300,
        [(1080, 300)],
        None,
    ),
    "no account": ([], "Hello", [], None),
    "nothing to say": ([FACEBOOK], "", [], None),
    "the time has passed": ([FACEBOOK], "Hello", [], "past"),
    "an account disconnected since": ([FACEBOOK, INSTAGRAM], "Hi", [(1080, 1080)], "disconnect"),
}


def compose(owner, make_account, make_image, platforms, caption, sizes):
    targets = [make_account(p, name=f"{p}-{i}") for i, p in enumerate(platforms)]
    images = [make_image(w, h) for w, h in sizes]
    return PostInput(
        caption=caption,
        target_ids=[t.pk for t in targets],
        asset_ids=[a.pk for a in images],
        scheduled_for=tomorrow(),
    )


def shown(preview: selectors.ComposePreview) -> list[tuple[str, str]]:
    """What the preview shows, as (code, field): the post's problems and each network's."""
    found = [(p.code, p.field) for p in preview.problems]
    found += [(p.code, p.field) for network in preview.networks for p in network.problems]
    return sorted(found)


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_the_preview_shows_exactly_what_submit_refuses(
    case, tenant, owner, make_account, make_image
):
    platforms, caption, sizes, breaking = CASES[case]
    data = compose(owner, make_account, make_image, platforms, caption, sizes)
    post = services.post_create(actor=owner, data=data)
    if breaking == "past":
        Post.objects.filter(pk=post.pk).update(scheduled_for=timezone.now() - timedelta(hours=1))
        data.scheduled_for = timezone.now() - timedelta(hours=1)
    elif breaking == "disconnect":
        post.targets.filter(platform=FACEBOOK).update(status=ConnectedAccount.Status.DISCONNECTED)

    preview = selectors.compose_preview(tenant=tenant, data=data)
    listed = services.post_problems(Post.objects.get(pk=post.pk))  # the API's and the admin's
    with pytest.raises(PostInvalid) as refused:
        services.post_submit(actor=owner, post=post)

    refusal = refused.value.problems
    assert refusal, case
    assert shown(preview) == sorted((p.code, p.field) for p in refusal)
    assert preview.problem_count == len(refusal)
    assert preview.submit_problems() == refusal == listed
    assert Post.objects.get(pk=post.pk).status == Post.Status.DRAFT


def test_a_post_the_preview_finds_fine_is_submitted(tenant, owner, make_account, make_image):
    data = compose(owner, make_account, make_image, [FACEBOOK, INSTAGRAM], "Jazz", [(1080, 1350)])
    post = services.post_create(actor=owner, data=data)

    preview = selectors.compose_preview(tenant=tenant, data=data)
    assert preview.problem_count == 0
    assert preview.submit_problems() == services.post_problems(post) == []

    submitted = services.post_submit(actor=owner, post=post)
    assert submitted.status in (Post.Status.PENDING_REVIEW, Post.Status.SCHEDULED)
