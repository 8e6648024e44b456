"""A warning in /readyz and on the admin index when FACEBOOK_GRAPH_VERSION is within 90 days of
Meta's end of life, has ended, or is not in the table (apps/social/graph/versions.py)."""

from datetime import date

import pytest
from django.urls import reverse

from apps.social.graph import versions

V25_END = date(2028, 7, 29)


@pytest.fixture
def on(monkeypatch):
    """Freeze the day the check sees."""

    def freeze(day: date) -> None:
        monkeypatch.setattr(versions, "today", lambda: day)

    return freeze


def warning_codes() -> list[str]:
    return [w.code for w in versions.graph_version_warnings()]


@pytest.mark.parametrize(
    ("day", "codes"),
    [
        (date(2026, 6, 1), []),
        (date(2028, 4, 29), []),  # 91 days left
        (date(2028, 4, 30), ["graph_version_ending"]),  # 90 days left
        (date(2028, 7, 29), ["graph_version_ending"]),  # the last day
        (date(2028, 7, 30), ["graph_version_ended"]),
    ],
)
def test_the_default_version_warns_within_90_days_of_its_end(settings, on, day, codes):
    settings.FACEBOOK_GRAPH_VERSION = "v25.0"
    on(day)

    assert warning_codes() == codes


def test_the_warning_says_the_date_and_the_days_left(settings, on):
    settings.FACEBOOK_GRAPH_VERSION = "v25.0"
    on(date(2028, 7, 28))

    (warning,) = versions.graph_version_warnings()

    assert (
        "v25.0 (FACEBOOK_GRAPH_VERSION and INSTAGRAM_LOGIN_GRAPH_VERSION) reaches its end of "
        "life on 2028-07-29, in 1 day:" in warning.message
    )
    assert "Upgrading the Graph API version" in warning.message


def test_an_unknown_version_is_a_warning_and_a_version_without_an_end_is_not(settings, on):
    on(date(2026, 8, 1))
    settings.FACEBOOK_GRAPH_VERSION = "v99.0"
    assert warning_codes() == ["graph_version_unknown"]
    settings.FACEBOOK_GRAPH_VERSION = "v26.0"  # Meta has not announced its end yet
    assert warning_codes() == []


def test_the_instagram_login_version_is_checked_too(settings, on):
    settings.FACEBOOK_GRAPH_VERSION = "v26.0"
    settings.INSTAGRAM_LOGIN_GRAPH_VERSION = "v24.0"
    on(date(2028, 1, 1))

    (warning,) = versions.graph_version_warnings()

    assert warning.code == "graph_version_ending"
    assert "v24.0 (INSTAGRAM_LOGIN_GRAPH_VERSION) reaches its end of life on 2028-02-18" in (
        warning.message
    )


def test_the_table_is_ordered_and_each_version_outlives_its_release():
    releases = [released for released, _ in versions.VERSIONS.values()]
    assert releases == sorted(releases, reverse=True)
    assert versions.VERSIONS["v25.0"] == (date(2026, 2, 18), V25_END)
    for released, end in versions.VERSIONS.values():
        assert end is None or end > released


@pytest.mark.django_db
def test_readyz_stays_ready_and_lists_the_warning(client, settings, on):
    settings.FACEBOOK_GRAPH_VERSION = "v25.0"
    on(date(2026, 6, 1))
    assert client.get("/readyz").json()["warnings"] == []

    on(date(2028, 6, 1))
    response = client.get("/readyz")

    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "ok"
    assert [w["code"] for w in body["warnings"]] == ["graph_version_ending"]
    assert "2028-07-29" in body["warnings"][0]["message"]


def test_the_admin_index_shows_the_banner(client, staff, settings, on):
    client.force_login(staff)
    settings.FACEBOOK_GRAPH_VERSION = "v25.0"
    on(date(2026, 6, 1))
    assert 'id="system-warnings"' not in client.get(reverse("admin:index")).content.decode()

    settings.FACEBOOK_GRAPH_VERSION = "v24"
    page = client.get(reverse("admin:index")).content.decode()

    assert 'id="system-warnings"' in page
    assert 'data-code="graph_version_unknown"' in page
    assert "FACEBOOK_GRAPH_VERSION=v24 is not a Graph API version" in page
