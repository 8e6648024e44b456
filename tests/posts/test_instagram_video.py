"""Instagram Reels, Stories and carousels with a video, through the publishing engine against
the sandbox over HTTP, with real MP4s that the sandbox fetches from this site (live_server):
what goes out, once, with the options the post chose (issue 15)."""

import io
import time

import pytest
from django.utils import timezone

from apps.assets.models import BrandAsset
from apps.assets.services import asset_upload, asset_video_probe, asset_video_upload
from apps.networks.base import FEED, REEL, STORY, PostContent
from apps.networks.registry import network_for
from apps.posts import publishing
from apps.posts.models import Post, PostAsset, Publication
from apps.posts.publication_states import publications_create
from tests.posts.test_publishing import drive, jpeg, published
from tests.videos import mp4

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def served(live_server, settings):
    """This site serves the media Meta (the sandbox) fetches."""
    settings.PUBLIC_BASE_URL = live_server.url
    return live_server.url


def video(owner, *, width=360, height=640, seconds=4, name="reel.mp4") -> BrandAsset:
    data = mp4(width, height, seconds=seconds)
    uploaded = asset_video_upload(
        actor=owner, file=io.BytesIO(data), size=len(data), filename=name
    ).asset
    probed = asset_video_probe(asset_id=uploaded.pk)
    assert probed is not None
    assert probed.status == "ready", probed.failure_reason
    return probed


def image(owner, *, colour="tomato", alt_text="", size=(1080, 1080)) -> BrandAsset:
    data = jpeg(*size, colour=colour)
    asset = asset_upload(actor=owner, data=data, filename=f"{colour}.jpg").asset
    if alt_text:
        asset.alt_text = alt_text
        asset.save(update_fields=["alt_text"])
    return asset


def scheduled_post(owner, account, assets, *, format=FEED, caption="", **options) -> Post:
    """A post as the posts app saves it once approved (format and options on the row), with
    its publication due now: what the engine then picks up."""
    post = Post.objects.create(
        tenant=owner.tenant,
        created_by=owner.user,
        format=format,
        caption=caption,
        status=Post.Status.SCHEDULED,
        **options,
    )
    for position, asset in enumerate(assets):
        PostAsset.objects.create(post=post, asset=asset, position=position)
    post.targets.add(account)
    publications_create(post=post, account_ids=[account.pk], due=timezone.now())
    return post


def containers(sandbox) -> list[dict]:
    return published(sandbox)["containers"]


def only_media(sandbox) -> dict:
    out = published(sandbox)
    [media] = out["instagram_media"]
    assert out["summary"]["containers_published_twice"] == []
    return media


# --- Reels ---------------------------------------------------------------------------------------


def test_a_reel_with_cover_audio_and_collaborators_goes_out_once(
    owner, accounts, sandbox, control, served
):
    control("config", {"video_processing_seconds": 0, "processing_seconds": 0})
    reel = video(owner)
    cover = image(owner, colour="gold")
    post = scheduled_post(
        owner,
        accounts["instagram"],
        [reel],
        format=REEL,
        caption="Behind the pass 🎬 #bistro",
        cover=cover,
        share_to_feed=False,
        audio_name="Kitchen sounds",
        collaborators=["chef.anna", "@demo.wines"],
        location_id="110000000000001",
    )

    drive()

    publication = post.publications.get()
    assert publication.status == "published", publication.last_error
    [container] = containers(sandbox)
    assert container["media_type"] == "REELS"
    assert container["caption"] == "Behind the pass 🎬 #bistro"
    assert container["share_to_feed"] is False
    assert container["audio_name"] == "Kitchen sounds"
    assert container["collaborators"] == ["chef.anna", "demo.wines"]
    assert container["location_id"] == "110000000000001"
    assert container["cover_url"].startswith(f"{served}/m/")
    assert container["video"]["duration_seconds"] == pytest.approx(4, abs=0.2)
    media = only_media(sandbox)
    assert (media["media_type"], media["media_product_type"]) == ("VIDEO", "REELS")
    assert publication.platform_post_id == media["id"]
    assert media["video_url"].startswith(f"{served}/m/")


def test_a_single_feed_video_goes_out_as_a_reel_shared_to_the_feed(
    owner, accounts, sandbox, control, served
):
    control("config", {"video_processing_seconds": 0})
    post = scheduled_post(owner, accounts["instagram"], [video(owner)], caption="Tonight")

    drive()

    assert post.publications.get().status == "published"
    [container] = containers(sandbox)
    assert (container["media_type"], container["share_to_feed"]) == ("REELS", True)
    assert container["thumb_offset"] is None
    assert only_media(sandbox)["media_product_type"] == "REELS"


def test_a_reel_cover_frame_offset_is_sent_as_thumb_offset(
    owner, accounts, sandbox, control, served
):
    control("config", {"video_processing_seconds": 0})
    post = scheduled_post(
        owner, accounts["instagram"], [video(owner)], format=REEL, cover_offset_ms=1500
    )

    drive()

    assert post.publications.get().status == "published"
    [container] = containers(sandbox)
    assert (container["thumb_offset"], container["cover_url"]) == (1500, None)


def test_a_reel_through_instagram_login(owner, accounts, sandbox, control, served):
    control("config", {"video_processing_seconds": 0})
    post = scheduled_post(
        owner,
        accounts["instagram_login"],
        [video(owner)],
        format=REEL,
        caption="From the bar",
        collaborators=["chef.anna"],
    )

    drive()

    publication = post.publications.get()
    assert publication.status == "published", publication.last_error
    media = only_media(sandbox)
    assert (media["login"], media["media_product_type"]) == ("instagram", "REELS")
    assert publication.platform_post_id == media["id"]
    [container] = containers(sandbox)
    assert container["collaborators"] == ["chef.anna"]


# --- Stories -------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["image", "video"])
def test_a_story_goes_out_once_and_is_listed_as_a_story(
    owner, accounts, sandbox, control, served, kind
):
    control("config", {"video_processing_seconds": 0, "processing_seconds": 0})
    asset = video(owner) if kind == "video" else image(owner)
    post = scheduled_post(owner, accounts["instagram"], [asset], format=STORY)

    drive()

    publication = post.publications.get()
    assert publication.status == "published", publication.last_error
    [container] = containers(sandbox)
    assert container["media_type"] == "STORIES"
    assert container["caption"] is None
    out = published(sandbox)
    assert out["summary"]["instagram_stories"] == 1
    [media] = out["instagram_media"]
    assert media["media_product_type"] == "STORY"
    assert media["media_type"] == ("VIDEO" if kind == "video" else "IMAGE")
    assert publication.platform_post_id == media["id"]


def test_a_phone_tall_story_photo_goes_out_and_the_same_photo_is_refused_in_the_feed(
    owner, accounts, sandbox, control, served
):
    control("config", {"processing_seconds": 0})
    tall = image(owner, colour="gold", size=(1080, 1920))  # 9:16, as a phone shoots it
    feed = network_for("instagram_business").validate(PostContent("x", "", [tall]))
    assert [p.code for p in feed] == ["image_unfit"]  # the feed takes 4:5 at the tallest
    post = scheduled_post(owner, accounts["instagram"], [tall], format=STORY)

    drive()

    publication = post.publications.get()
    assert publication.status == "published", publication.last_error
    [container] = containers(sandbox)
    assert container["media_type"] == "STORIES"
    assert container["image"]["height"] > container["image"]["width"] * 1.7  # sent whole


# --- Carousels -----------------------------------------------------------------------------------


def test_a_carousel_mixing_an_image_and_a_video_carries_the_alt_text(
    owner, accounts, sandbox, control, served
):
    control("config", {"video_processing_seconds": 0, "processing_seconds": 0})
    photo = image(owner, alt_text="Fish soup in a blue bowl")
    clip = video(owner, width=320, height=320, name="clip.mp4")
    post = scheduled_post(
        owner,
        accounts["instagram"],
        [photo, clip],
        caption="Both",
        collaborators=["chef.anna"],
    )

    drive()

    publication = post.publications.get()
    assert publication.status == "published", publication.last_error
    by_type = {c["media_type"]: c for c in containers(sandbox)}
    assert set(by_type) == {"IMAGE", "VIDEO", "CAROUSEL"}
    assert by_type["IMAGE"]["alt_text"] == "Fish soup in a blue bowl"
    assert by_type["IMAGE"]["is_carousel_item"]
    assert by_type["VIDEO"]["is_carousel_item"]
    assert by_type["VIDEO"]["video"]["duration_seconds"] == pytest.approx(4, abs=0.2)
    assert by_type["CAROUSEL"]["collaborators"] == ["chef.anna"]
    assert by_type["CAROUSEL"]["children"] == [by_type["IMAGE"]["id"], by_type["VIDEO"]["id"]]
    media = only_media(sandbox)
    assert media["media_type"] == "CAROUSEL_ALBUM"
    assert len(media["children"]) == 2


# --- Processing, refusals, reconciliation --------------------------------------------------------


def test_a_video_still_processing_waits_with_the_reason_then_publishes(
    owner, accounts, sandbox, control, served
):
    control("config", {"video_processing_seconds": 3})
    post = scheduled_post(owner, accounts["instagram"], [video(owner)], format=REEL)
    publication = post.publications.get()

    for _ in range(2):  # the container is made, then found still IN_PROGRESS
        Publication.objects.filter(pk=publication.pk).update(next_attempt_at=timezone.now())
        for claim in publishing.publications_claim_due():
            publishing.publication_run(claim=claim)
    publication.refresh_from_db()
    assert publication.status == "waiting"
    assert publication.wait_reason == "Instagram is processing the video."
    assert published(sandbox)["instagram_media"] == []

    time.sleep(3.2)
    drive()

    publication.refresh_from_db()
    assert publication.status == "published"
    assert only_media(sandbox)["id"] == publication.platform_post_id


def test_meta_refusing_the_video_fails_with_a_clear_reason(
    owner, accounts, sandbox, control, served
):
    control("config", {"video_processing_seconds": 0})
    control(
        "faults",
        {"kind": "container_error", "match": "POST /*/media", "code": 352, "subcode": 2207026},
    )
    post = scheduled_post(owner, accounts["instagram"], [video(owner)], format=REEL)

    drive()

    publication = post.publications.get()
    assert publication.status == "failed"
    assert "does not accept this video's format" in publication.last_error
    assert "H.264" in publication.last_error
    assert published(sandbox)["instagram_media"] == []


@pytest.mark.parametrize("format", [REEL, STORY])
def test_an_unanswered_media_publish_is_reconciled_without_a_duplicate(
    owner, accounts, sandbox, control, served, format
):
    control("config", {"video_processing_seconds": 0})
    control(
        "faults",
        {"kind": "timeout_after_effect", "match": "POST /*/media_publish", "seconds": 5},
    )
    caption = "Reconcile the reel" if format == REEL else ""
    post = scheduled_post(
        owner, accounts["instagram"], [video(owner)], format=format, caption=caption
    )

    drive()

    publication = post.publications.get()
    assert publication.status == "published", publication.last_error
    media = only_media(sandbox)
    assert publication.platform_post_id == media["id"]
    assert media["media_product_type"] == ("REELS" if format == REEL else "STORY")
    assert published(sandbox)["summary"]["instagram_media_with_repeated_content"] in (0, [])
