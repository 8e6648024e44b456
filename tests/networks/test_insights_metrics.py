"""The one table of insights metric names (apps/networks/meta_insights.py): no retired metric,
for any subject and any Graph version the product knows."""

import ast
from pathlib import Path

import pytest

from apps.networks import meta_insights
from apps.networks.meta_insights import InsightsSubject, is_retired, metrics_for
from apps.social.graph.versions import VERSIONS

APPS = Path(__file__).resolve().parent.parent.parent / "apps"


@pytest.mark.parametrize("version", sorted(VERSIONS))
@pytest.mark.parametrize("subject", list(InsightsSubject))
def test_no_retired_metric_for_any_subject_and_version(
    subject: InsightsSubject, version: str
) -> None:
    metrics = metrics_for(subject, version=version)

    assert [m for m in metrics if is_retired(m)] == []
    assert len(set(metrics)) == len(metrics)


def test_the_configured_versions_are_in_range(settings) -> None:  # type: ignore[no-untyped-def]
    for name in ("FACEBOOK_GRAPH_VERSION", "INSTAGRAM_LOGIN_GRAPH_VERSION"):
        version = getattr(settings, name)
        assert version in VERSIONS
        assert metrics_for(InsightsSubject.FB_PAGE, version=version)


@pytest.mark.parametrize(
    "name",
    [
        "impressions",
        "plays",
        "video_views",
        "page_impressions",
        "page_impressions_unique",
        "page_impressions_organic_unique_v2",
        "post_impressions_unique",
        "page_fans",
        "page_fans_country",
        "page_fan_adds_unique",
        "page_posts_impressions_paid_unique",
        "page_posts_served_impressions_organic_unique",
        "page_engaged_users",
    ],
)
def test_the_retired_families_are_recognised(name: str) -> None:
    assert is_retired(name)


@pytest.mark.parametrize(
    "name",
    [
        "views",
        "reach",
        "post_media_view",
        "post_total_media_view_unique",
        "page_media_view",
        "page_total_media_view_unique",
        "page_follows",
    ],
)
def test_current_metrics_are_not_retired(name: str) -> None:
    assert not is_retired(name)


def test_the_replacements_meta_names_are_asked_for() -> None:
    v = "v25.0"
    assert {"post_media_view", "post_total_media_view_unique"} <= set(
        metrics_for(InsightsSubject.FB_POST, version=v)
    )
    assert {"page_media_view", "page_follows"} <= set(
        metrics_for(InsightsSubject.FB_PAGE, version=v)
    )
    for subject in (
        InsightsSubject.IG_IMAGE,
        InsightsSubject.IG_CAROUSEL,
        InsightsSubject.IG_REEL,
        InsightsSubject.IG_STORY,
        InsightsSubject.IG_ACCOUNT_TOTALS,
    ):
        assert "views" in metrics_for(subject, version=v)
    assert metrics_for(InsightsSubject.IG_STORY, version=v) == (
        "reach",
        "views",
        "replies",
        "navigation",
        "shares",
        "total_interactions",
    )
    assert metrics_for(InsightsSubject.IG_CAROUSEL_CHILD, version=v) == ()


def test_a_retired_name_in_the_table_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    broken = meta_insights.MetricSet(InsightsSubject.FB_PAGE, "v24.0", ("page_impressions",))
    monkeypatch.setattr(meta_insights, "TABLE", (*meta_insights.TABLE, broken))

    assert metrics_for(InsightsSubject.FB_PAGE, version="v23.0")  # the older row still serves
    with pytest.raises(ValueError, match="Retired"):
        metrics_for(InsightsSubject.FB_PAGE, version="v25.0")


@pytest.mark.parametrize("version", ["25.0", "v25", "vX.0", "", "latest"])
def test_a_version_that_is_not_one_is_refused(version: str) -> None:
    with pytest.raises(ValueError, match="Not a Graph API version"):
        metrics_for(InsightsSubject.FB_POST, version=version)


@pytest.mark.parametrize(
    ("media_type", "product", "in_album", "subject"),
    [
        ("IMAGE", "FEED", False, InsightsSubject.IG_IMAGE),
        ("CAROUSEL_ALBUM", "FEED", False, InsightsSubject.IG_CAROUSEL),
        ("IMAGE", None, True, InsightsSubject.IG_CAROUSEL_CHILD),
        ("VIDEO", "REELS", False, InsightsSubject.IG_REEL),
        ("VIDEO", "STORY", False, InsightsSubject.IG_STORY),
        ("IMAGE", "STORY", False, InsightsSubject.IG_STORY),
    ],
)
def test_the_subject_of_an_instagram_media_item(
    media_type: str, product: str | None, in_album: bool, subject: InsightsSubject
) -> None:
    assert meta_insights.ig_media_subject(media_type, product, in_album=in_album) == subject


def test_no_other_module_of_apps_names_a_retired_metric() -> None:
    """The table is the only place metric names live; a retired one anywhere else in apps/ (a
    string constant) is a request Meta will refuse. Only the names with an underscore: "plays"
    or "engagement" are also plain words of the product's texts."""
    offenders = []
    for path in sorted(APPS.rglob("*.py")):
        if path.name == "meta_insights.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                words = node.value.replace(",", " ").split()
                offenders += [f"{path}: {w}" for w in words if "_" in w and is_retired(w)]
    assert offenders == []
