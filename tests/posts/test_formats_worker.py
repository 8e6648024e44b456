"""Every format (issue 15) through a real Celery worker, the sandbox over HTTP and this site
serving the media Meta fetches: posts composed through the services (format, options, first
comment), submitted, published once each in the format asked, with their first comments once."""

import io

import httpx
import pytest

from apps.assets.services import asset_upload, asset_video_probe, asset_video_upload
from apps.posts.models import Post, Publication
from apps.posts.services import PostInput, post_create, post_submit
from tests.conftest import wait_until
from tests.posts.test_publishing import jpeg
from tests.posts.test_worker import queue, worker_env, workers  # noqa: F401  (fixtures)
from tests.videos import mp4

pytestmark = pytest.mark.django_db(transaction=True)


def test_each_format_goes_out_once_through_a_real_worker(
    owner,
    accounts,
    sandbox,
    control,
    workers,  # noqa: F811
):
    control("config", {"processing_seconds": 1, "video_processing_seconds": 2})
    owner.tenant.requires_approval = False
    owner.tenant.save()
    data = mp4(540, 960, seconds=4)
    clip = asset_video_upload(actor=owner, file=io.BytesIO(data), size=len(data), filename="r.mp4")
    video = asset_video_probe(asset_id=clip.asset.pk)
    assert video is not None
    assert video.status == "ready", video.failure_reason
    square = asset_upload(actor=owner, data=jpeg(), filename="square.jpg").asset
    tall = asset_upload(actor=owner, data=jpeg(1080, 1920, colour="gold"), filename="t.jpg").asset
    ig, fb = accounts["instagram"], accounts["facebook"]
    wanted = {
        "ig reel": (ig, "reel", [video], "Reel night", "#reel"),
        "ig story": (ig, "story", [tall], "", ""),
        "ig carousel": (ig, "feed", [square, video], "Carousel night", "#carousel"),
        "fb reel": (fb, "reel", [video], "Facebook Reel night", "#fbreel"),
        "fb video": (fb, "feed", [video], "Facebook video night", ""),
        "fb story": (fb, "story", [tall], "", ""),
    }
    workers()
    posts = {}
    for name, (account, format, assets, caption, comment) in wanted.items():
        post = post_create(
            actor=owner,
            data=PostInput(
                caption=caption,
                target_ids=[account.pk],
                asset_ids=[a.pk for a in assets],
                format=format,
                first_comment=comment,
            ),
        )
        posts[name] = post_submit(actor=owner, post=post)

    def done() -> bool:
        rows = Publication.objects.all()
        return (
            all(p.status == "published" for p in rows)
            and not rows.filter(comment_status__in=["pending", "sending"]).exists()
        )

    assert wait_until(done, timeout=240), list(
        Publication.objects.values("status", "wait_reason", "last_error", "comment_status")
    )
    out = httpx.get(f"{sandbox.base_url}/_sandbox/published").json()
    summary = out["summary"]
    assert (summary["instagram_reels"], summary["instagram_stories"]) == (1, 1)
    assert summary["containers_published_twice"] == []
    assert (summary["facebook_reels"], summary["facebook_reels_draft"]) == (1, 0)
    assert summary["facebook_videos"] == 1
    assert summary["facebook_stories"] == 1
    assert summary["reels_published_twice"] == summary["videos_published_twice"] == []
    comments = out["instagram_comments"] + out["facebook_comments"]
    assert sorted(c["message"] for c in comments) == ["#carousel", "#fbreel", "#reel"]
    for name, post in posts.items():
        publication = post.publications.get()
        assert publication.platform_post_id, name
        assert (publication.comment_status == "posted") == bool(wanted[name][4]), name
    assert set(Post.objects.values_list("status", flat=True)) == {"published"}
