"""The whole journey of SPEC 1 in a real browser: sign up → create the business → connect
Facebook in the sandbox → upload photos → compose with AI → submit → staff approve in the admin
→ a real Celery worker publishes to the sandbox → engagement shows on the overview."""

import io
import re

import httpx
import pytest
from django.core import mail
from PIL import Image

from apps.accounts.models import User
from apps.posts.models import Post, Publication
from apps.posts.tasks import engagement_sync
from tests.conftest import wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

PASSWORD = "a long and unguessable passphrase"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def photo(path, color: tuple[int, int, int], size=(1080, 1080)) -> str:
    image = Image.new("RGB", size, color)
    for x in range(0, size[0], 60):  # some structure, so it is not a flat colour
        for y in range(size[1] // 3, size[1] // 3 + 40):
            image.putpixel((x, y), (255, 255, 255))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    path.write_bytes(buffer.getvalue())
    return str(path)


def sign_in_to_admin(page, email: str) -> None:
    """The admin sends staff to a login form; fill whichever one it is."""
    if page.locator("input[name=login]").count():
        page.fill("input[name=login]", email)
    else:
        page.fill("input[name=username]", email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form [type=submit]").last.click()


def test_sign_up_connect_upload_compose_with_ai_approve_publish_and_see_engagement(
    new_page, screenshot, sandbox, worker, live_server, tmp_path, make_user
):
    page = new_page()

    # Sign up and confirm the e-mail address.
    page.goto("/accounts/signup/")
    page.fill("input[name=email]", "maria@trattoria.example")
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    page.locator("form [type=submit]").last.click()
    page.wait_for_load_state()
    assert len(mail.outbox) == 1
    [link] = re.findall(r"https?://\S+/accounts/confirm-email/\S+/", mail.outbox[0].body)
    page.goto(link)
    page.get_by_role("button", name=re.compile("Confirm", re.I)).click()

    # No business yet: create one.
    page.wait_for_url(re.compile(r"/business/new/"))
    page.get_by_label("Business name").fill("Trattoria Uno")
    page.get_by_label("Timezone").select_option("Europe/Rome")
    screenshot(page, "01-create-business")
    page.locator("main form [type=submit]").last.click()
    page.wait_for_url(re.compile(r"/$"))

    # The brand profile the AI drafts from.
    page.goto("/brand/")
    page.get_by_label("Description").fill(
        "Family trattoria in the old town: fresh pasta every morning, wood-fired pizza at night."
    )
    page.get_by_label("Category").fill("Italian restaurant")
    page.get_by_label("Tone of voice").fill("warm, playful, short sentences")
    page.get_by_label("Default hashtags").fill("#trattoria #freshpasta")
    screenshot(page, "02-brand-profile")
    page.locator("main form [type=submit]").last.click()
    page.wait_for_load_state()
    assert page.get_by_text("saved", exact=False).count()

    # Connect Facebook: the sandbox's own login dialog, then choose the Page and its Instagram.
    page.goto("/connections/")
    page.get_by_role("button", name="Connect Facebook").click()
    page.wait_for_url(re.compile(re.escape(sandbox.base_url)))
    assert "SANDBOX" in page.content().upper()
    screenshot(page, "03-sandbox-facebook-dialog")
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url(re.compile(r"/connections/new/"))
    page.get_by_label("Demo Bistro Facebook Page").check()
    page.get_by_label(re.compile(r"@demobistro")).check()
    screenshot(page, "04-choose-accounts")
    page.get_by_role("button", name="Connect selected").click()
    page.get_by_text("Connected 2 account").wait_for()
    assert page.get_by_text("@demobistro").count()
    screenshot(page, "05-connections")

    # Upload two photos by the library's upload control (with per-file progress).
    page.goto("/assets/")
    page.set_input_files(
        "#files",
        [
            photo(tmp_path / "carbonara.jpg", (200, 120, 40)),
            photo(tmp_path / "tiramisu.jpg", (90, 60, 30)),
        ],
    )
    page.get_by_text("carbonara.jpg").first.wait_for()
    wait_until(lambda: page.locator("img[alt]").count() >= 2 or False, timeout=30)
    page.reload()
    assert page.get_by_text("tiramisu.jpg").count()
    screenshot(page, "06-asset-library")

    # Compose: both accounts, one photo, a caption drafted with AI and then edited.
    page.goto("/posts/new/")
    page.get_by_label(re.compile(r"Demo Bistro")).first.check()
    page.get_by_label(re.compile(r"@demobistro")).check()
    page.locator("input[name=assets]").first.check()
    page.get_by_label(re.compile(r"What is this post about", re.I)).fill(
        "Spaghetti carbonara, 12 euros, lunch special until Friday"
    )
    page.get_by_role("button", name=re.compile(r"Draft with AI", re.I)).click()
    suggestions = page.locator("[data-caption-suggestion]")
    suggestions.first.wait_for()
    assert suggestions.count() == 3
    screenshot(page, "07-compose-ai-suggestions")
    suggestions.first.get_by_role("button", name=re.compile(r"Use this", re.I)).click()
    caption = page.locator("textarea[name=caption]")
    assert "carbonara" in caption.input_value().lower()
    caption.fill(caption.input_value() + "\nBook a table: 055 123 456")
    page.locator("#preview-instagram_business").wait_for()
    screenshot(page, "08-compose-preview")
    page.get_by_role("button", name=re.compile(r"Submit", re.I)).click()
    page.wait_for_url(re.compile(r"/posts/\d+/$"))
    post = Post.objects.get()
    assert post.status == Post.Status.PENDING_REVIEW
    assert "Book a table" in post.caption

    # Platform staff approve it in the admin.
    make_user("staff@platform.example", PASSWORD, is_staff=True, is_superuser=True)
    admin = new_page()
    admin.goto(f"/admin/posts/post/{post.pk}/change/")
    sign_in_to_admin(admin, "staff@platform.example")
    admin.wait_for_url(re.compile(rf"/admin/posts/post/{post.pk}/change/"))
    screenshot(admin, "09-admin-review")
    admin.get_by_role("button", name=re.compile(r"^Approve", re.I)).first.click()
    admin.wait_for_load_state()

    # The worker publishes it to the Page and to Instagram (Meta fetches the photo from us).
    assert wait_until(lambda: Post.objects.get(pk=post.pk).status == "published", timeout=90), list(
        Publication.objects.values("status", "wait_reason", "last_error")
    )
    published = httpx.get(f"{sandbox.base_url}/_sandbox/published").json()
    assert published["summary"]["posts_with_repeated_content"] == 0
    assert len(published["instagram_media"]) == 1
    page.goto(f"/posts/{post.pk}/")
    assert page.get_by_text("Published").count()
    screenshot(page, "10-post-published")

    # A day later people have liked and commented; the engagement sync brings it in.
    httpx.post(f"{sandbox.base_url}/_sandbox/clock", json={"advance_seconds": 86_400})
    engagement_sync.apply_async(queue=worker.queue)
    assert wait_until(
        lambda: all(
            p.engagement_synced_at is not None for p in Publication.objects.filter(post=post)
        ),
        timeout=60,
    )
    total = sum(
        (p.likes or 0) + (p.comments or 0) + (p.shares or 0)
        for p in Publication.objects.filter(post=post)
    )
    assert total > 0
    page.goto("/")
    chart = page.get_by_role("img", name=re.compile(r"engagement", re.I))
    chart.wait_for()
    assert str(total) in page.locator("main").inner_text()
    screenshot(page, "11-overview")

    # The calendar shows it on the day it went out.
    page.goto("/calendar/")
    assert page.locator("main").get_by_text("Published").count()
    screenshot(page, "12-calendar")
    assert User.objects.filter(email="maria@trattoria.example").exists()
