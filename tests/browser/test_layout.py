"""Every dashboard page fits a phone and a laptop: nothing makes the page wider than the window
(long names, tables, the navigation), and no page logs an error or breaks the CSP."""

import pytest
from model_bakery import baker

from apps.accounts.models import Role, Tenant

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

PASSWORD = "a long and unguessable passphrase"
PAGES = [
    "/",
    "/assets/",
    "/posts/",
    "/posts/new/",
    "/calendar/",
    "/calendar/?view=week",
    "/connections/",
    "/team/",
    "/brand/",
    "/api-keys/",
    "/webhooks/",
    "/business/settings/",
]


@pytest.mark.parametrize("width", [390, 1024, 1280])
def test_no_page_is_wider_than_the_window(new_page, make_user, make_member, width):
    user = make_user("someone.with.a.rather.long.address@restaurant-example.com", PASSWORD)
    tenant = baker.make(
        Tenant, name="La Trattoria del Ponte Vecchio e della Piazza", slug="ponte-vecchio"
    )
    make_member(tenant, Role.OWNER, user=user)
    page = new_page()
    page.set_viewport_size({"width": width, "height": 800})
    page.goto("/accounts/login/")
    page.fill("input[name=login]", user.email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("main form [type=submit]").last.click()
    page.wait_for_load_state()

    too_wide = {}
    for path in PAGES:
        page.goto(path)
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        if scroll_width > width:
            too_wide[path] = scroll_width
    assert not too_wide, f"wider than {width}px: {too_wide}"
