""" "Draft with AI" on the compose page (SPEC 10): the htmx partial and the page without
JavaScript, "Use this", "Ask again", roles, tenancy, the monthly limit and a failing provider
(the fake OpenAI-compatible server of test_captions, over HTTP)."""

import html
import re
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.urls import reverse
from model_bakery import baker

from apps.accounts.models import Tenant
from apps.posts.captions import is_near_duplicate
from apps.posts.models import CaptionUsage, Post
from apps.social.models import ConnectedAccount
from tests.posts.test_captions import FakeOpenAI

DETAILS = "Truffle risotto, 14 euros, this week only"
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def empty_cache() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def brand(tenant: Tenant) -> Tenant:
    tenant.name = "Trattoria Luca"
    tenant.description = "Family-run Italian kitchen in the old town since 1998."
    tenant.category = "Italian"
    tenant.tone_of_voice = "warm and playful"
    tenant.default_hashtags = "#trattorialuca #italianfood #oldtown #dinner"
    tenant.save()
    return tenant


@pytest.fixture
def instagram(brand: Tenant) -> ConnectedAccount:
    return baker.make(
        ConnectedAccount,
        tenant=brand,
        platform="instagram_business",
        name="Trattoria IG",
        username="trattorialuca",
        status="active",
    )


@pytest.fixture
def facebook(brand: Tenant) -> ConnectedAccount:
    return baker.make(
        ConnectedAccount, tenant=brand, platform="facebook_page", name="Trattoria", status="active"
    )


@pytest.fixture
def fake_openai(settings: Any) -> Iterator[FakeOpenAI]:
    """The OpenAI-compatible provider configured, against a local fake server."""
    fake = FakeOpenAI()
    thread = threading.Thread(target=fake.server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    settings.OPENAI_API_KEY = "sk-test-secret-123456"
    settings.OPENAI_BASE_URL = fake.base_url
    settings.CAPTION_MAX_RETRIES = 0
    settings.CAPTION_TIMEOUT_SECONDS = 2.0
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


def draft(*, targets=(), details=DETAILS, caption="", action="suggest", avoid=(), **extra) -> dict:
    data: dict[str, Any] = {
        "targets": [t.pk for t in targets],
        "caption": caption,
        "item_details": details,
        "action": action,
        "avoid": list(avoid),
    }
    data.update(extra)
    return data


def text(response) -> str:
    return html.unescape(response.content.decode())


def suggestions_in(response) -> list[str]:
    """The full texts the "Use this" buttons would put in the caption."""
    page = response.content.decode()
    return [html.unescape(v) for v in re.findall(r'name="use_caption" value="([^"]*)"', page)]


def caption_field(response) -> str:
    match = re.search(
        r'<textarea name="caption"[^>]*>(.*?)</textarea>', response.content.decode(), re.S
    )
    assert match, "no caption field"
    return html.unescape(match.group(1)).strip("\r\n")


# --- The panel -----------------------------------------------------------------------------------


def test_the_compose_page_has_the_panel_and_shows_the_usage(client_for, editor, brand):
    CaptionUsage.objects.create(tenant=brand, provider="offline")

    response = client_for(editor.user).get(reverse("posts:create"))

    page = text(response)
    assert response.status_code == 200
    assert "What is this post about?" in page
    assert f'hx-post="{reverse("posts:caption_suggest")}"' in page
    assert 'hx-indicator="#caption-drafting-status"' in page
    assert "hx-disabled-elt=" in page
    assert "Drafting…" in page
    assert "1 of 100 AI drafts used this month." in page
    # Content-Security-Policy friendly: the behaviour is in a static file.
    assert "js/caption_drafts.js" in page
    assert "onclick" not in page
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page)


# --- htmx ----------------------------------------------------------------------------------------


def test_draft_with_ai_answers_three_suggestions_and_records_the_usage(
    client_for, editor, brand, instagram
):
    response = client_for(editor.user).post(
        reverse("posts:caption_suggest"), draft(targets=[instagram]), **HTMX
    )

    page = text(response)
    suggestions = suggestions_in(response)
    assert response.status_code == 200
    assert "<html" not in page  # a partial
    assert len(suggestions) == 3
    assert all(DETAILS in s and "#trattorialuca" in s for s in suggestions)
    assert page.count(">Use this<") == 3
    assert "Ask again" in page
    assert "1 of 100 AI drafts used this month." in page
    usage = CaptionUsage.objects.get(tenant=brand)
    assert usage.provider == "offline"
    assert not Post.objects.exists()


def test_asking_again_gives_different_suggestions(client_for, editor, brand, instagram):
    client = client_for(editor.user)
    url = reverse("posts:caption_suggest")
    first = suggestions_in(client.post(url, draft(targets=[instagram]), **HTMX))

    same = suggestions_in(client.post(url, draft(targets=[instagram]), **HTMX))
    shown = [s.split("\n\n")[0] for s in first]
    again = client.post(
        url, draft(targets=[instagram], action="suggest_again", avoid=shown), **HTMX
    )

    assert same == first  # the same question again is answered from the cache
    fresh = suggestions_in(again)
    assert again.status_code == 200
    assert len(fresh) == 3
    assert not any(is_near_duplicate(a, b) for a in fresh for b in first)
    assert CaptionUsage.objects.filter(tenant=brand).count() == 2
    # The next "Ask again" avoids both rounds.
    assert text(again).count('name="avoid"') == 6


def test_the_accounts_ticked_choose_the_platform_and_other_tenants_accounts_are_ignored(
    client_for, editor, brand, facebook, other_tenant
):
    foreign_facebook = baker.make(
        ConnectedAccount, tenant=other_tenant, platform="facebook_page", status="active"
    )
    client = client_for(editor.user)
    url = reverse("posts:caption_suggest")

    for_facebook = suggestions_in(client.post(url, draft(targets=[facebook]), **HTMX))
    foreign = client.post(url, draft(targets=[foreign_facebook], details="Tiramisu"), **HTMX)

    def hashtags(full_text: str) -> list[str]:
        return full_text.split("\n\n")[-1].split()

    assert all(len(hashtags(s)) <= 3 for s in for_facebook)  # Facebook: at most 3
    assert foreign.status_code == 200
    # The foreign id counted for nothing: written as for no account (Instagram's rules).
    assert all(len(hashtags(s)) > 3 for s in suggestions_in(foreign))
    assert "Trattoria Luca" in text(foreign)


def test_no_details_is_a_clear_message(client_for, editor, brand, instagram):
    response = client_for(editor.user).post(
        reverse("posts:caption_suggest"), draft(targets=[instagram], details="   "), **HTMX
    )

    assert response.status_code == 400
    assert "Tell us what the post is about" in text(response)
    assert suggestions_in(response) == []
    assert not CaptionUsage.objects.exists()


def test_the_monthly_limit_is_a_clear_message(client_for, editor, brand, instagram, settings):
    settings.CAPTION_MONTHLY_LIMITS = {"basic": 2, "pro": 2, "enterprise": 2}
    CaptionUsage.objects.bulk_create(
        [CaptionUsage(tenant=brand, provider="offline") for _ in range(2)]
    )

    response = client_for(editor.user).post(
        reverse("posts:caption_suggest"), draft(targets=[instagram]), **HTMX
    )

    page = text(response)
    assert response.status_code == 429
    assert "Your plan includes 2 AI caption drafts a month and they are used up" in page
    assert 'role="alert"' in page
    assert "2 of 2 AI drafts used this month." in page
    assert "Ask again" not in page
    assert CaptionUsage.objects.filter(tenant=brand).count() == 2


def test_a_failing_provider_is_a_clear_message(
    client_for, editor, brand, instagram, fake_openai: FakeOpenAI
):
    fake_openai.answer(503, {"error": "overloaded"})

    response = client_for(editor.user).post(
        reverse("posts:caption_suggest"), draft(targets=[instagram], caption="Mine"), **HTMX
    )

    page = text(response)
    assert response.status_code == 502
    assert "The caption service is unavailable (HTTP 503)" in page
    assert "Your caption is unchanged" in page
    assert suggestions_in(response) == []
    assert "sk-test-secret" not in page
    assert len(fake_openai.requests) == 1
    assert not CaptionUsage.objects.exists()  # a failure is not counted


def test_the_openai_provider_answers_through_the_panel(
    client_for, editor, brand, instagram, fake_openai: FakeOpenAI
):
    from tests.posts.test_captions import CAPTIONS, completion

    fake_openai.answer(200, completion())

    response = client_for(editor.user).post(
        reverse("posts:caption_suggest"), draft(targets=[instagram]), **HTMX
    )

    assert response.status_code == 200
    assert [s.split("\n\n")[0] for s in suggestions_in(response)] == [
        CAPTIONS[0].replace(" #risotto", ""),
        CAPTIONS[1],
        CAPTIONS[2],
    ]
    assert CaptionUsage.objects.get(tenant=brand).provider == "openai"


def test_viewers_may_not_draft(client_for, viewer, brand, instagram):
    response = client_for(viewer.user).post(
        reverse("posts:caption_suggest"), draft(targets=[instagram]), **HTMX
    )

    assert response.status_code == 403
    assert not CaptionUsage.objects.exists()


# --- Without JavaScript --------------------------------------------------------------------------


def test_without_javascript_the_page_comes_back_with_the_suggestions_and_what_was_typed(
    client_for, editor, brand, instagram
):
    response = client_for(editor.user).post(
        reverse("posts:create"),
        draft(targets=[instagram], caption="My own words", link="https://example.com/menu"),
    )

    page = text(response)
    assert response.status_code == 200
    assert "<html" in page
    assert len(suggestions_in(response)) == 3
    assert caption_field(response) == "My own words"
    assert f">{DETAILS}</textarea>" in page
    assert 'value="https://example.com/menu"' in page
    assert f'id="target-{instagram.pk}" checked' in page
    assert not Post.objects.exists()
    assert CaptionUsage.objects.count() == 1


def test_without_javascript_use_this_puts_the_suggestion_in_the_caption(
    client_for, editor, brand, instagram
):
    client = client_for(editor.user)
    suggestion = suggestions_in(client.post(reverse("posts:create"), draft(targets=[instagram])))[0]

    response = client.post(
        reverse("posts:create"),
        draft(targets=[instagram], caption="My own words", use_caption=suggestion),
    )

    assert response.status_code == 200
    assert caption_field(response) == suggestion
    assert not Post.objects.exists()
    # The preview shows the chosen caption.
    assert suggestion.split("\n\n")[0] in text(response)


def test_without_javascript_on_the_edit_page_the_form_still_edits_that_post(
    client_for, editor, brand, instagram
):
    from apps.posts import services

    post = services.post_create(
        actor=editor, data=services.PostInput(caption="Hello", target_ids=[instagram.pk])
    )
    url = reverse("posts:edit", kwargs={"post_id": post.pk})

    response = client_for(editor.user).post(url, draft(targets=[instagram], caption="Hello"))

    assert response.status_code == 200
    assert f'action="{url}"' in response.content.decode()
    assert len(suggestions_in(response)) == 3
    post.refresh_from_db()
    assert post.caption == "Hello"


def test_without_javascript_errors_keep_everything(client_for, editor, brand, instagram, settings):
    settings.CAPTION_MONTHLY_LIMITS = {"basic": 0, "pro": 0, "enterprise": 0}

    response = client_for(editor.user).post(
        reverse("posts:create"), draft(targets=[instagram], caption="My own words")
    )

    assert response.status_code == 429
    assert "they are used up" in text(response)
    assert caption_field(response) == "My own words"
    assert f">{DETAILS}</textarea>" in text(response)
    assert not Post.objects.exists()


def test_saving_the_draft_ignores_the_drafting_fields(client_for, editor, brand, instagram):
    response = client_for(editor.user).post(
        reverse("posts:create"),
        draft(targets=[instagram], caption="Soup", action="draft", avoid=["Old suggestion"]),
    )

    assert response.status_code == 302
    assert Post.objects.get().caption == "Soup"
    assert not CaptionUsage.objects.exists()
