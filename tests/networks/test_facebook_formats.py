"""Facebook Pages' formats (issue 15): what a Reel, a Story and a video post must be, how they
preview, and the first comment under a published post, against the sandbox over HTTP."""

import httpx
import pytest

from apps.assets.models import BrandAsset
from apps.networks.base import FEED, REEL, STORY, FirstComments, MediaOptions, PostContent
from apps.networks.errors import NeedsReconnection, OutcomeUnknown, Permanent
from apps.networks.meta_facebook import FacebookPage
from apps.posts.models import Publication
from apps.social import graph
from apps.social.models import AccessToken
from tests.posts.conftest import DEMO_BISTRO_PAGE

page = FacebookPage()


def clip(name="clip.mp4", *, width=1080, height=1920, seconds=10.0, status="ready"):
    return BrandAsset(
        kind=BrandAsset.Kind.VIDEO,
        status=status,
        original_filename=name,
        content_type="video/mp4",
        size=4_000_000,
        width=width,
        height=height,
        duration=seconds,
        frame_rate=30,
        video_codec="h264",
        audio_codec="aac",
    )


def still(name="dish.jpg"):
    return BrandAsset(
        kind=BrandAsset.Kind.IMAGE,
        original_filename=name,
        content_type="image/jpeg",
        size=200_000,
        width=1080,
        height=1080,
    )


def content(*assets, fmt=FEED, caption="", link="", first_comment=""):
    return PostContent(
        caption=caption,
        link=link,
        assets=list(assets),
        format=fmt,
        options=MediaOptions(first_comment=first_comment),
    )


def codes(problems):
    return [p.code for p in problems]


# --- Validation per format ------------------------------------------------------------------------


def test_the_page_takes_feed_posts_reels_and_stories_with_a_first_comment():
    assert page.limits.formats == (FEED, REEL, STORY)
    assert page.limits.first_comment
    assert page.limits.collaborators_max == 0
    assert not page.limits.location
    assert isinstance(page, FirstComments)


def test_a_vertical_reel_is_fine():
    assert page.validate(content(clip(), fmt=REEL, caption="Behind the pass")) == []


def test_a_ten_second_wide_reel_is_refused_on_facebook():
    problems = page.validate(content(clip("wide.mp4", width=1920, height=1080), fmt=REEL))

    assert codes(problems) == ["reel_video"]
    message = problems[0].message
    assert message.startswith("“wide.mp4”: Not 9:16 as a Facebook Reel must be (1920")
    assert message.endswith("1080 px).")
    assert problems[0].field == "assets"


def test_a_reel_too_short_or_too_small_says_so_naming_the_file():
    short = page.validate(content(clip("blink.mp4", seconds=2), fmt=REEL))
    small = page.validate(content(clip("tiny.mp4", width=360, height=640), fmt=REEL))

    assert codes(short) == ["reel_video"]
    assert short[0].message.startswith("“blink.mp4”: Too short for a Facebook Reel")
    assert small[0].message.startswith("“tiny.mp4”: Too small for a Facebook Reel")


@pytest.mark.parametrize(
    "assets",
    [(), (still(),), (clip(), clip("second.mp4"))],
    ids=["nothing", "a photo", "two videos"],
)
def test_a_reel_is_exactly_one_video(assets):
    assert codes(page.validate(content(*assets, fmt=REEL))) == ["reel_one_video"]


def test_a_story_with_text_is_refused():
    problems = page.validate(content(still(), fmt=STORY, caption="Tonight only"))

    assert codes(problems) == ["story_no_text"]
    assert problems[0].message.startswith("Facebook Stories carry no text")
    assert problems[0].field == "caption"


def test_a_story_is_one_photo_or_one_video_without_a_comment():
    assert page.validate(content(still(), fmt=STORY)) == []
    assert page.validate(content(clip(seconds=20), fmt=STORY)) == []
    # 9:16 is only recommended for a Story (Facebook letterboxes), never a refusal.
    assert page.validate(content(clip(width=1920, height=1080), fmt=STORY)) == []
    assert codes(page.validate(content(still(), still("two.jpg"), fmt=STORY))) == [
        "story_one_media"
    ]
    assert codes(page.validate(content(clip(seconds=75), fmt=STORY))) == ["story_video"]
    assert codes(page.validate(content(still(), fmt=STORY, first_comment="Hi"))) == [
        "story_no_comment"
    ]


def test_a_video_and_a_photo_in_one_feed_post_are_refused():
    problems = page.validate(content(still(), clip("tour.mp4"), caption="Our place"))

    assert codes(problems) == ["video_with_photos"]
    assert "“tour.mp4” is a video" in problems[0].message


def test_one_video_in_the_feed_is_a_page_video_post():
    wide = clip("tour.mp4", width=1920, height=1080, seconds=120)
    assert page.validate(content(wide, caption="A tour")) == []
    assert codes(page.validate(content(clip(), clip("b.mp4")))) == ["one_video"]
    assert codes(page.validate(content(clip(status="processing")))) == ["video_not_ready"]


def test_text_and_photo_posts_are_checked_as_before():
    assert page.validate(content(still(), still("b.jpg"), caption="Two dishes")) == []
    assert codes(page.validate(content())) == ["empty"]


# --- Preview ------------------------------------------------------------------------------------


def test_the_preview_shows_reels_stories_and_videos_with_their_notes():
    reel = page.preview(content(clip(), fmt=REEL, caption="Hello"))
    story = page.preview(content(still(), fmt=STORY))
    feed_video = page.preview(content(clip(width=1920, height=1080), caption="Tour"))
    photo = page.preview(content(still(), caption="Dish"))

    assert reel.layout == "reel"
    assert any("Facebook Reels need 9:16" in n for n in reel.notes)
    assert story.layout == "story"
    assert story.notes == ["Stories disappear after 24 hours."]
    assert feed_video.layout == "video"
    assert photo.layout == "photo"


# --- The first comment ----------------------------------------------------------------------------


@pytest.fixture
def commenting(accounts, control):
    """The Page's token with the permission to comment (``pages_manage_engagement``)."""
    scopes = ["pages_show_list", "pages_read_engagement", "pages_manage_posts"]
    minted = control(
        "tokens",
        {
            "kind": "page",
            "page_id": DEMO_BISTRO_PAGE,
            "scopes": [*scopes, "pages_manage_engagement"],
        },
    )
    token = AccessToken.objects.get(account=accounts["facebook"])
    token.token = minted["access_token"]
    token.save()
    post = graph.publish_page_post(
        page_id=DEMO_BISTRO_PAGE, page_token=token.token, message="Comment on me"
    )
    return Publication(account=accounts["facebook"], platform_post_id=post.id), token.token


def sandbox_comments(sandbox):
    return httpx.get(f"{sandbox.base_url}/_sandbox/published").json()["facebook_comments"]


def test_the_first_comment_is_posted_as_the_page(commenting, sandbox):
    publication, _ = commenting

    comment_id = page.first_comment_post(publication, "Menu: example.com/menu")

    [comment] = sandbox_comments(sandbox)
    assert comment["id"] == comment_id
    assert comment["target_id"] == publication.platform_post_id
    assert comment["owner_id"] == DEMO_BISTRO_PAGE
    assert comment["message"] == "Menu: example.com/menu"


def test_the_first_comment_is_found_past_the_first_page_of_comments(commenting, sandbox, settings):
    publication, token = commenting
    settings.GRAPH_PAGE_SIZE = 10  # 31 comments: four result pages
    for n in range(30):
        graph.post_comment(
            object_id=publication.platform_post_id, token=token, message=f"Other {n}"
        )
    wanted = page.first_comment_post(publication, "Book a table")

    assert page.first_comment_find(publication, "Book a table") == wanted
    assert page.first_comment_find(publication, "  Book a table ") == wanted
    assert page.first_comment_find(publication, "Never said") is None
    assert len(graph.list_comments(object_id=publication.platform_post_id, token=token)) == 31


def test_no_comment_is_found_under_a_post_without_any(commenting):
    publication, _ = commenting
    assert page.first_comment_find(publication, "Book a table") is None


def test_the_first_comment_raises_only_neutral_errors(commenting, control):
    publication, _ = commenting
    control("faults", {"kind": "error", "match": "POST /*/comments", "code": 100})
    with pytest.raises(Permanent):
        page.first_comment_post(publication, "Refused")

    control("faults", {"kind": "timeout_after_effect", "match": "POST /*/comments", "seconds": 5})
    with pytest.raises(OutcomeUnknown):
        page.first_comment_post(publication, "Lost answer")

    control("faults", {"kind": "rate_limit", "match": "GET /*/comments", "times": None})
    with pytest.raises(OutcomeUnknown):
        page.first_comment_find(publication, "Lost answer")

    control("faults", None, method="DELETE")
    control("faults", {"kind": "error", "match": "GET /*/comments", "code": 190, "subcode": 460})
    with pytest.raises(NeedsReconnection):
        page.first_comment_find(publication, "Lost answer")
