"""The library's resumable upload in Chromium: a video larger than one chunk goes up in parts
with a progress bar, and after a dropped connection and a reload, the same file chosen again
continues from the server's offset instead of starting over."""

import re

import pytest
from model_bakery import baker

from apps.accounts.models import Role, Tenant
from apps.assets.models import AssetUpload, BrandAsset
from tests.videos import mp4

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

PASSWORD = "a long and unguessable passphrase"
CHUNK = 2048


@pytest.fixture
def signed_in(new_page, make_user, make_member, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.ASSET_UPLOAD_CHUNK_MAX_BYTES = CHUNK
    user = make_user("chef@restaurant-example.com", PASSWORD)
    make_member(baker.make(Tenant, name="Trattoria", slug="trattoria"), Role.OWNER, user=user)
    page = new_page()
    page.set_viewport_size({"width": 390, "height": 800})  # a phone
    page.goto("/accounts/login/")
    page.fill("input[name=login]", user.email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("main form [type=submit]").last.click()
    page.wait_for_load_state()
    return page


def test_a_video_goes_up_in_chunks_with_progress(signed_in, tmp_path, screenshot):
    page = signed_in
    video = tmp_path / "terrace.mp4"
    video.write_bytes(mp4(seconds=2))
    assert video.stat().st_size > 3 * CHUNK
    chunks: list[str] = []
    page.on(
        "request",
        lambda r: chunks.append(r.headers["upload-offset"]) if r.method == "PATCH" else None,
    )

    page.goto("/assets/")
    page.set_input_files("#files", str(video))

    row = page.locator("#upload-progress li", has_text="terrace.mp4")
    row.locator(".status", has_text="uploaded").wait_for()
    assert row.locator("[role=progressbar]").get_attribute("aria-valuenow") == "100"
    page.locator("#asset-grid", has_text="terrace.mp4").wait_for()  # the new card
    assert len(chunks) == -(-video.stat().st_size // CHUNK)
    asset = BrandAsset.objects.get()
    assert asset.is_video
    assert asset.size == video.stat().st_size
    assert AssetUpload.objects.get().status == AssetUpload.Status.COMPLETE
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "resumable-upload-done")


def test_an_interrupted_upload_resumes_after_a_reload(signed_in, tmp_path):
    page = signed_in
    video = tmp_path / "menu-tour.mp4"
    video.write_bytes(mp4(seconds=2))
    offsets: list[int] = []

    def drop_after_two_chunks(route):
        if route.request.method == "PATCH" and len(offsets) >= 2:
            route.abort()  # the connection drops
            return
        if route.request.method == "PATCH":
            offsets.append(int(route.request.headers["upload-offset"]))
        route.continue_()

    page.route(re.compile(r"/assets/uploads/\d+/$"), drop_after_two_chunks)
    page.goto("/assets/")
    page.set_input_files("#files", str(video))
    row = page.locator("#upload-progress li", has_text="menu-tour.mp4")
    row.locator(".status", has_text="retrying").wait_for()
    assert AssetUpload.objects.get().received == 2 * CHUNK
    progress = int(row.locator("[role=progressbar]").get_attribute("aria-valuenow") or 0)
    assert 0 < progress < 100

    # The page is reloaded (the connection is back) and the same file is chosen again.
    page.unroute(re.compile(r"/assets/uploads/\d+/$"))
    sent: list[int] = []
    page.on(
        "request",
        lambda r: sent.append(int(r.headers["upload-offset"])) if r.method == "PATCH" else None,
    )
    page.reload()
    page.set_input_files("#files", str(video))

    row = page.locator("#upload-progress li", has_text="menu-tour.mp4")
    row.locator(".status", has_text="uploaded").wait_for()
    assert offsets == [0, CHUNK]
    assert sent[0] == 2 * CHUNK  # it continued where the server stood, not from the start
    assert AssetUpload.objects.count() == 1  # the same session
    assert BrandAsset.objects.get().size == video.stat().st_size
    page.locator("#asset-grid", has_text="menu-tour.mp4").wait_for()
