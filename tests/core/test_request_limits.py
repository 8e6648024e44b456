"""The dashboard's forms past the body limits (issue 13, defect 5): a short 413 / 400 page, never a
500 or a problem document, and nothing saved."""

from django.conf import settings
from django.test import Client

from apps.posts.models import Post


def _browser(owner) -> Client:
    browser = Client(enforce_csrf_checks=True)  # the CSRF check is the first to read the form
    browser.force_login(owner.user)
    browser.cookies[settings.CSRF_COOKIE_NAME] = "k" * 32  # a cookie, but no token in the form
    return browser


def test_a_dashboard_form_over_the_limit_is_a_413_page(owner):
    response = _browser(owner).post(
        "/posts/new/",
        "caption=" + "x" * (3 * 1024 * 1024),
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 413
    assert response["Content-Type"].startswith("text/html")
    assert "Payload too large" in response.content.decode()
    assert not Post.objects.exists()


def test_a_dashboard_form_with_too_many_fields_is_a_400_page(owner, client_for):
    body = "&".join(f"field{i}=1" for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1))

    for browser in (_browser(owner), client_for(owner.user)):  # refused in the middleware, the view
        response = browser.post(
            "/posts/new/", body, content_type="application/x-www-form-urlencoded"
        )

        assert response.status_code == 400
        assert response["Content-Type"].startswith("text/html")
        assert "more than 1000 fields" in response.content.decode()
    assert not Post.objects.exists()
