"""Instagram per format (issue 15): what validation refuses and the preview notes, for Reels,
Stories and carousels with videos; and the first-comment network methods against the sandbox
over HTTP (post, find on any page, the neutral errors)."""

import pytest

from apps.assets.models import BrandAsset
from apps.networks.base import FEED, REEL, STORY, MediaOptions, PostContent
from apps.networks.errors import NeedsReconnection, OutcomeUnknown, Permanent
from apps.networks.instagram.login import InstagramLogin
from apps.networks.instagram.network import InstagramBusiness
from apps.social import graph
from apps.social.models import AccessToken
from tests.posts.conftest import DEMO_BISTRO_PAGE
from tests.posts.test_publishing import drive, make_post, published

INSTAGRAM = InstagramBusiness()


def a_video(name="kitchen.mp4", *, seconds=10.0, width=1080, height=1920, **extra) -> BrandAsset:
    facts = {
        "status": BrandAsset.Status.READY,
        "frame_rate": 30.0,
        "video_codec": "h264",
        "audio_codec": "aac",
        "size": 5_000_000,
        **extra,
    }
    return BrandAsset(
        kind=BrandAsset.Kind.VIDEO,
        original_filename=name,
        content_type="video/mp4",
        duration=seconds,
        width=width,
        height=height,
        **facts,
    )


def an_image(name="soup.jpg", width=1080, height=1080) -> BrandAsset:
    return BrandAsset(
        kind=BrandAsset.Kind.IMAGE,
        original_filename=name,
        content_type="image/jpeg",
        width=width,
        height=height,
        size=300_000,
    )


def content(assets, *, format=FEED, caption="", **options) -> PostContent:
    return PostContent(
        caption=caption, link="", assets=assets, format=format, options=MediaOptions(**options)
    )


def messages(post: PostContent) -> list[str]:
    return [p.message for p in INSTAGRAM.validate(post)]


# --- Validation and preview ---------------------------------------------------------------------


def test_instagram_takes_every_format_and_option():
    limits = INSTAGRAM.limits
    assert limits.formats == (FEED, REEL, STORY)
    assert (limits.first_comment, limits.collaborators_max) == (True, 3)
    assert limits.location
    assert limits.alt_text


def test_a_ten_second_16_9_reel_is_allowed_with_a_letterbox_note():
    post = content([a_video(width=1920, height=1080)], format=REEL, caption="Service")

    assert INSTAGRAM.validate(post) == []
    preview = INSTAGRAM.preview(post)
    assert preview.layout == "reel"
    assert "Shown 9:16; the video is 16:9, Instagram letterboxes it." in preview.notes
    assert "Also shared to the feed grid." in preview.notes


def test_a_four_hour_video_is_refused_as_a_reel_naming_the_file():
    [problem] = INSTAGRAM.validate(content([a_video("service.mp4", seconds=4 * 3600)], format=REEL))

    assert problem.code == "video_unfit"
    assert problem.message.startswith("“service.mp4”: Too long for an Instagram Reel (4 h")
    assert problem.message.endswith("at most 15 min).")


def test_a_reel_is_one_video_and_its_cover_an_image():
    assert messages(content([an_image()], format=REEL)) == [
        "An Instagram Reel is exactly one video."
    ]
    problems = INSTAGRAM.validate(
        content([a_video()], format=REEL, cover=a_video("cover.mp4"), cover_offset_ms=None)
    )
    assert [(p.code, p.field) for p in problems] == [("cover_not_image", "cover")]
    late = messages(content([a_video(seconds=10)], format=REEL, cover_offset_ms=12_000))
    assert late == ["The cover frame at 12 s is past the end of the video (10 s)."]


def test_a_video_still_being_probed_cannot_be_published():
    processing = a_video(seconds=None, width=0, height=0, status=BrandAsset.Status.PROCESSING)

    assert messages(content([processing], format=REEL)) == [
        "“kitchen.mp4” is still being processed; wait until it is ready."
    ]


def test_a_story_with_a_caption_is_refused():
    problems = INSTAGRAM.validate(content([an_image()], format=STORY, caption="Tonight!"))

    assert [(p.code, p.field) for p in problems] == [("story_caption", "caption")]
    assert problems[0].message.startswith("Instagram Stories carry no caption")


def test_a_story_with_two_items_is_refused():
    assert messages(content([an_image(), a_video()], format=STORY)) == [
        "An Instagram Story is exactly one photo or video (2 chosen)."
    ]


def test_a_story_takes_no_collaborators_or_location_and_a_video_story_is_60_s_at_most():
    problems = INSTAGRAM.validate(
        content(
            [a_video(seconds=75)],
            format=STORY,
            collaborators=("chef.anna",),
            location_id="110000000000001",
        )
    )

    assert [p.code for p in problems] == ["video_unfit", "story_collaborators", "story_location"]
    assert "Too long for an Instagram Story" in problems[0].message


def test_a_story_preview_says_it_disappears():
    preview = INSTAGRAM.preview(content([an_image()], format=STORY))

    assert preview.layout == "story"
    assert "Stories disappear after 24 hours." in preview.notes


def test_a_carousel_of_eleven_is_refused():
    assets = [an_image(f"{n}.jpg") for n in range(10)] + [a_video()]

    assert messages(content(assets)) == [
        "A carousel holds at most 10 photos and videos (11 chosen)."
    ]


def test_a_carousel_mixes_images_and_videos_of_at_most_60_seconds():
    mixed = content([an_image(), a_video(seconds=20, width=1080, height=1080)], caption="Both")
    too_long = content([an_image(), a_video("long.mp4", seconds=90)])

    assert INSTAGRAM.validate(mixed) == []
    assert INSTAGRAM.preview(mixed).layout == "carousel"
    [problem] = messages(too_long)
    assert problem.startswith("“long.mp4”: Too long for an Instagram carousel video")


def test_a_single_feed_video_is_previewed_as_a_reel_shared_to_the_feed():
    preview = INSTAGRAM.preview(content([a_video()], caption="Tonight"))

    assert preview.layout == "reel"
    assert any("goes out as a Reel, also shared to the feed grid" in n for n in preview.notes)
    assert INSTAGRAM.preview(content([an_image()])).layout == "photo"


def test_a_feed_image_too_tall_is_refused_naming_the_file():
    [message] = messages(content([an_image("tall.jpg", 1080, 1920)]))

    assert message.startswith("“tall.jpg”: Too tall for Instagram")


# --- First comments -------------------------------------------------------------------------------


PAGE_COMMENT_SCOPES = [
    "pages_show_list",
    "pages_read_engagement",
    "pages_manage_posts",
    "instagram_basic",
    "instagram_content_publish",
    "instagram_manage_comments",
]
LOGIN_COMMENT_SCOPES = [
    "instagram_business_basic",
    "instagram_business_content_publish",
    "instagram_business_manage_comments",
]


def grant_comments(control, accounts) -> None:
    """Tokens that may comment (the default connection asks for publishing only)."""
    page = control(
        "tokens", {"kind": "page", "page_id": DEMO_BISTRO_PAGE, "scopes": PAGE_COMMENT_SCOPES}
    )["access_token"]
    for stored in AccessToken.objects.filter(
        account__in=[accounts["instagram"], accounts["facebook"]]
    ):
        stored.token = page
        stored.save()
    login = control("instagram_login/tokens", {"kind": "long", "scopes": LOGIN_COMMENT_SCOPES})
    token = AccessToken.objects.get(account=accounts["instagram_login"])
    token.token = login["access_token"]
    token.save()


@pytest.fixture
def live_publication(owner, accounts, sandbox, control, no_media_fetch):
    grant_comments(control, accounts)
    post = make_post(owner, [accounts["instagram"]], images=1, caption="Comment on me")
    drive()
    publication = post.publications.get()
    assert publication.status == "published"
    assert publication.platform_post_id
    return publication


def ig_comments(sandbox) -> list[dict]:
    return published(sandbox)["instagram_comments"]


def test_a_first_comment_is_posted_under_the_media(live_publication, sandbox):
    comment_id = INSTAGRAM.first_comment_post(live_publication, "Book at bistro.example")

    [comment] = ig_comments(sandbox)
    assert comment["id"] == comment_id
    assert comment["target_id"] == live_publication.platform_post_id
    assert comment["message"] == "Book at bistro.example"


def test_the_first_comment_is_found_beyond_the_first_page(live_publication, sandbox):
    token = AccessToken.objects.get(account=live_publication.account).token
    media_id = live_publication.platform_post_id
    ours = INSTAGRAM.first_comment_post(live_publication, "Book at bistro.example")
    for n in range(30):  # others comment after it (as the account, so only the text tells)
        graph.post_comment(object_id=media_id, token=token, message=f"Later {n}")
    first_page = graph.get_client().request(
        "GET", "/{id}/comments", ids=(media_id,), token=token, params={"fields": "id"}
    )

    found = INSTAGRAM.first_comment_find(live_publication, "Book at bistro.example")

    assert found == ours
    assert len(ig_comments(sandbox)) == 31
    assert len(first_page.body["data"]) == 25
    assert ours not in {c["id"] for c in first_page.body["data"]}


def test_no_first_comment_is_found_when_none_was_posted(live_publication, sandbox):
    token = AccessToken.objects.get(account=live_publication.account).token
    graph.post_comment(
        object_id=live_publication.platform_post_id, token=token, message="Something else"
    )

    assert INSTAGRAM.first_comment_find(live_publication, "Book at bistro.example") is None


def test_an_unanswered_comment_is_unknown_then_found(live_publication, sandbox, control):
    control("faults", {"kind": "timeout_after_effect", "match": "POST /*/comments", "seconds": 5})

    with pytest.raises(OutcomeUnknown):
        INSTAGRAM.first_comment_post(live_publication, "Book at bistro.example")

    found = INSTAGRAM.first_comment_find(live_publication, "Book at bistro.example")
    assert found == ig_comments(sandbox)[0]["id"]


def test_a_token_without_the_comment_permission_needs_reconnection(
    owner, accounts, sandbox, control, no_media_fetch
):
    post = make_post(owner, [accounts["instagram"]], images=1, caption="No comments")
    drive()
    # An account connected before first comments existed: its token lacks the permission.
    scopes = [
        "pages_show_list",
        "pages_read_engagement",
        "pages_manage_posts",
        "instagram_basic",
        "instagram_content_publish",
    ]
    old = control("tokens", {"kind": "page", "page_id": DEMO_BISTRO_PAGE, "scopes": scopes})
    AccessToken.objects.filter(account=accounts["instagram"]).update(token=old["access_token"])

    with pytest.raises(NeedsReconnection):
        INSTAGRAM.first_comment_post(post.publications.get(), "Book at bistro.example")


@pytest.mark.parametrize(
    ("fault", "raised"),
    [
        ({"status": 400, "code": 190, "subcode": 460}, NeedsReconnection),
        ({"status": 400, "code": 100}, Permanent),
    ],
)
def test_a_refused_comment_raises_the_neutral_error(
    live_publication, sandbox, control, fault, raised
):
    control("faults", {"kind": "error", "match": "POST /*/comments", **fault})

    with pytest.raises(raised) as caught:
        INSTAGRAM.first_comment_post(live_publication, "Book at bistro.example")

    assert AccessToken.objects.get(account=live_publication.account).token not in str(caught.value)
    assert ig_comments(sandbox) == []


def test_comments_that_cannot_be_read_are_unknown(live_publication, sandbox, control):
    control(
        "faults",
        {"kind": "error", "match": "GET /*/comments", "status": 500, "code": 2, "times": None},
    )

    with pytest.raises(OutcomeUnknown):
        INSTAGRAM.first_comment_find(live_publication, "Book at bistro.example")


def test_first_comments_with_instagram_login(owner, accounts, sandbox, control, no_media_fetch):
    grant_comments(control, accounts)
    post = make_post(owner, [accounts["instagram_login"]], images=1, caption="At the bar")
    drive()
    publication = post.publications.get()
    network = InstagramLogin()

    comment_id = network.first_comment_post(publication, "Happy hour 17-19h")

    assert network.first_comment_find(publication, "Happy hour 17-19h") == comment_id
    assert [c["message"] for c in ig_comments(sandbox)] == ["Happy hour 17-19h"]


# --- The Graph client's guards (nothing is sent) ------------------------------------------------


@pytest.mark.parametrize(
    "arguments",
    [
        {"media_type": "STORIES", "image_url": "https://x/a.jpg", "caption": "No"},
        {"media_type": "STORIES", "video_url": "https://x/a.mp4", "collaborators": ("a",)},
        {"media_type": "VIDEO", "video_url": "https://x/a.mp4"},  # VIDEO is a carousel item
        {"media_type": "REELS", "video_url": "https://x/a.mp4", "is_carousel_item": True},
        {"video_url": "https://x/a.mp4"},  # a video needs its type
        {"image_url": "https://x/a.jpg", "cover_url": "https://x/c.jpg"},  # a Reel's only
        {"media_type": "REELS", "video_url": "https://x/a.mp4", "alt_text": "Alt"},
        {"image_url": "https://x/a.jpg", "collaborators": ("a", "b", "c", "d")},
        {"image_url": "https://x/a.jpg", "is_carousel_item": True, "location_id": "1"},
        {"image_url": "https://x/a.jpg", "video_url": "https://x/a.mp4", "media_type": "REELS"},
        {"media_type": "REELS", "video_url": "https://x/a.mp4", "thumb_offset_ms": -1},
    ],
)
def test_the_client_refuses_containers_meta_would_refuse(arguments):
    with pytest.raises(ValueError):  # noqa: PT011  (each guard says its own words)
        graph.create_ig_container(ig_user_id="1", token="t", **arguments)
