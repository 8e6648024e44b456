"""Connection health in a real browser: a Page the person may only analyze is shown but cannot be
chosen; a connected Page that loses "Create content" says so after the daily check and comes back
with "Check again"; an expired Facebook login is announced while the accounts stay active."""

import re

import httpx
import pytest
from model_bakery import baker

from apps.accounts.models import Role, Tenant
from apps.social import services
from apps.social.models import ConnectedAccount
from sandbox import BISTRO_PAGE_ID

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

PASSWORD = "a long and unguessable passphrase"
ALL_TASKS = ["ADVERTISE", "ANALYZE", "CREATE_CONTENT", "MESSAGING", "MODERATE"]


def test_missing_create_content_and_an_expired_login_in_the_dashboard(
    new_page, screenshot, sandbox, make_user, make_member
):
    def control(path: str, payload: dict) -> dict:
        response = httpx.post(f"{sandbox.base_url}/_sandbox/{path}", json=payload)
        response.raise_for_status()
        return response.json()

    [analyst_only] = control(
        "pages", {"count": 1, "tasks": ["ANALYZE"], "name_prefix": "Friends' Cafe"}
    )["pages"]
    user = make_user("owner@bistro.example", PASSWORD)
    make_member(baker.make(Tenant, name="Demo Bistro", slug="demo-bistro"), Role.OWNER, user=user)
    page = new_page()
    page.goto("/accounts/login/")
    page.fill("input[name=login]", user.email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("main form [type=submit]").last.click()
    page.wait_for_load_state()

    # Connect: the Page that may only be analyzed is listed, greyed out, with the reason.
    page.goto("/connections/")
    page.get_by_role("button", name="Connect Facebook").click()
    page.wait_for_url(re.compile(re.escape(sandbox.base_url)))
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url(re.compile(r"/connections/new/"))
    assert page.locator(f"#page-{analyst_only['id']}").is_disabled()
    ig_id = analyst_only["instagram_business_account"]["id"]
    assert page.locator(f"#ig-{ig_id}").is_disabled()
    page.get_by_text("You can only analyze this Page").wait_for()
    screenshot(page, "health-01-choose-with-a-page-that-cannot-be-posted-to")
    page.get_by_label("Demo Bistro Facebook Page").check()
    page.get_by_label(re.compile(r"@demobistro")).check()
    page.get_by_role("button", name="Connect selected").click()
    page.get_by_text("Connected 2 account").wait_for()

    # A Page admin takes "Create content" away; the daily check notices.
    control(f"pages/{BISTRO_PAGE_ID}", {"tasks": ["ANALYZE"]})
    services.token_check_all()
    page.goto("/connections/")
    assert page.get_by_text("No permission to post", exact=True).count() == 2
    page.get_by_text("Reconnecting does not fix this").wait_for()
    screenshot(page, "health-02-no-permission-to-post")
    page.goto("/")
    assert page.get_by_text("No permission to post", exact=True).count() == 2
    page.get_by_role("link", name=re.compile("How to fix")).first.click()

    # The task is back: "Check again" makes the accounts active again.
    control(f"pages/{BISTRO_PAGE_ID}", {"tasks": ALL_TASKS})
    page.get_by_role("button", name=re.compile("Check again")).first.click()
    page.get_by_text("can be published to").wait_for()
    assert set(ConnectedAccount.objects.values_list("status", flat=True)) == {"active"}

    # Sixty-one days on, the Facebook login has expired; the accounts keep publishing.
    control("clock", {"advance_seconds": 61 * 86400})
    services.token_check_all()
    page.goto("/connections/")
    page.get_by_text("has expired or was refused").wait_for()
    assert page.get_by_text("Active", exact=True).count() == 2
    screenshot(page, "health-03-facebook-login-expired")
