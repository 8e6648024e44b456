"""The format and media options of a post (issue 15) as the one post check sees them: what a
network cannot take is refused before submit, with a clear reason, and nothing changes."""

import pytest
from model_bakery import baker

from apps.assets.models import BrandAsset
from apps.posts import services
from apps.posts.models import Post
from apps.social.models import ConnectedAccount

pytestmark = pytest.mark.django_db


@pytest.fixture
def threads(tenant) -> ConnectedAccount:
    return baker.make(
        ConnectedAccount,
        tenant=tenant,
        platform="threads",
        platform_id="th-1",
        name="Chez Test Threads",
        username="cheztest",
        status="active",
    )


def codes(post: Post) -> set[str]:
    return {problem.code for problem in services.post_problems(post)}


def test_a_first_comment_on_a_network_without_it_is_refused_at_submit(owner, threads):
    post = services.post_create(
        actor=owner,
        data=services.PostInput(caption="Hi", target_ids=[threads.pk], first_comment="#tag"),
    )

    assert "first_comment_unsupported" in codes(post)
    with pytest.raises(services.PostInvalid) as refused:
        services.post_submit(actor=owner, post=post)
    assert any("takes no first comment" in p.message for p in refused.value.problems)
    post.refresh_from_db()
    assert post.status == Post.Status.DRAFT


def test_a_format_the_network_does_not_publish_is_refused(owner, threads):
    post = services.post_create(
        actor=owner,
        data=services.PostInput(caption="", target_ids=[threads.pk], format="story"),
    )

    assert "format_unsupported" in codes(post)


def test_a_cover_must_be_an_image_of_this_business(owner, tenant, other_tenant):
    video = baker.make(BrandAsset, tenant=tenant, kind="video", content_type="video/mp4", size=1)
    foreign = baker.make(BrandAsset, tenant=other_tenant, content_type="image/jpeg", size=1)

    for cover, code in ((video, "cover_not_image"), (foreign, "cover_unknown")):
        with pytest.raises(services.PostInvalid) as refused:
            services.post_create(
                actor=owner, data=services.PostInput(caption="x", format="reel", cover_id=cover.pk)
            )
        assert code in {p.code for p in refused.value.problems}
    assert not Post.objects.exists()


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"collaborators": ["a", "b", "c", "d"]}, "too_many_collaborators"),
        ({"collaborators": ["a", "A"]}, "collaborator_repeated"),
        ({"collaborators": ["bad name"]}, "collaborator_invalid"),
        ({"location_id": "Paris"}, "location_invalid"),
        ({"format": "tiktok"}, "format_unknown"),
        ({"first_comment": "x" * 2201}, "first_comment_too_long"),
        ({"audio_name": "x" * 101}, "audio_name_too_long"),
        ({"cover_offset_ms": -1}, "cover_offset_invalid"),
    ],
)
def test_options_of_the_wrong_shape_are_refused_and_nothing_is_written(owner, fields, code):
    with pytest.raises(services.PostInvalid) as refused:
        services.post_create(actor=owner, data=services.PostInput(caption="x", **fields))

    assert code in {p.code for p in refused.value.problems}
    assert not Post.objects.exists()


def test_editing_keeps_the_options_and_a_cover_replaces_the_frame_offset(owner, tenant):
    cover = baker.make(BrandAsset, tenant=tenant, content_type="image/jpeg", size=1)
    post = services.post_create(
        actor=owner,
        data=services.PostInput(caption="x", format="reel", cover_offset_ms=1500),
    )
    assert (post.cover, post.cover_offset_ms) == (None, 1500)

    post = services.post_update(
        actor=owner,
        post=post,
        data=services.PostInput(
            caption="x", format="reel", cover_id=cover.pk, cover_offset_ms=1500, audio_name=" a "
        ),
    )

    post.refresh_from_db()
    assert (post.cover, post.cover_offset_ms, post.audio_name) == (cover, None, "a")
    assert post.media_options().cover == cover


def test_a_video_still_being_converted_cannot_be_submitted(owner, tenant, threads):
    video = baker.make(
        BrandAsset,
        tenant=tenant,
        kind="video",
        content_type="video/quicktime",
        size=1,
        original_filename="clip.mov",
        transcode_status="converting",
        transcode_progress=40,
    )
    post = services.post_create(
        actor=owner,
        data=services.PostInput(caption="x", target_ids=[threads.pk], asset_ids=[video.pk]),
    )

    problems = {p.code: p.message for p in services.post_problems(post)}
    assert "(40 %)" in problems["video_converting"]
