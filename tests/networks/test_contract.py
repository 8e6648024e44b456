"""The contract of the network interface (apps/networks/base.py): the same assertions for every
registered network, against the sandbox over HTTP. A new network passes these before anything
else is written for it."""

from datetime import timedelta

import httpx
import pytest

from apps.networks import errors, registry
from apps.networks.base import Engagement, Preview, Problem, Published, TokenCheck, Window
from apps.posts.models import Publication
from apps.posts.services import post_content
from apps.social.graph import GraphError
from apps.social.models import AccessToken, Platform
from tests.posts.test_publishing import drive, make_post

# Which of the accounts fixture's accounts each network publishes to.
ACCOUNT_OF = {
    "facebook_page": "facebook",
    "instagram_business": "instagram",
    "threads": "threads",
    "instagram_login": "instagram_login",
}
NETWORKS = [pytest.param(network, id=network.id) for network in registry.networks()]
NEUTRAL = (
    errors.NeedsReconnection,
    errors.RetryLater,
    errors.OutcomeUnknown,
    errors.Permanent,
)


def test_the_registry_lists_each_platform_once_and_only_those():
    ids = [network.id for network in registry.networks()]

    assert sorted(ids) == sorted(Platform.values)
    assert len(set(ids)) == len(ids)
    assert registry.choices() == [(n.id, n.label) for n in registry.networks()]
    with pytest.raises(LookupError):
        registry.network_for("myspace")
    assert set(ACCOUNT_OF) == set(ids), "add the new network's account to the contract"


@pytest.fixture
def account(accounts, network):
    return accounts[ACCOUNT_OF[network.id]]


def post_to(owner, account, network, *, caption):
    """A post the network accepts: as many images as it needs (none if it needs none)."""
    return make_post(owner, [account], caption=caption, images=network.limits.media_min)


def sandbox_posts(sandbox) -> list[dict]:
    out = httpx.get(f"{sandbox.base_url}/_sandbox/published").json()
    return out["page_posts"] + out["instagram_media"] + out["threads"]


@pytest.mark.parametrize("network", NETWORKS)
def test_validate_refuses_an_over_limit_caption_with_a_clear_problem(network, owner, account):
    post = post_to(owner, account, network, caption="Fine")
    content = post_content(post, network.id)
    too_long = type(content)(
        caption="x" * (network.limits.caption_chars + 1), link="", assets=content.assets
    )

    assert network.validate(content) == []
    problems = network.validate(too_long)

    assert [p.code for p in problems] == ["caption_too_long"]
    (problem,) = problems
    assert isinstance(problem, Problem)
    assert problem.field == "caption"
    assert str(network.limits.caption_chars) in problem.message
    assert str(network.limits.caption_chars + 1) in problem.message


@pytest.mark.parametrize("network", NETWORKS)
def test_validate_counts_hashtags_and_media_against_the_limits(network, owner, account):
    post = post_to(owner, account, network, caption="Fine")
    content = post_content(post, network.id)
    if network.limits.hashtags is not None:
        tags = " ".join(f"#t{i}" for i in range(network.limits.hashtags + 1))
        over = type(content)(caption=tags, link="", assets=content.assets)
        assert "too_many_hashtags" in [p.code for p in network.validate(over)]
    if network.limits.requires_media:
        bare = type(content)(caption="Fine", link="", assets=[])
        assert [p.field for p in network.validate(bare)] == ["assets"]


@pytest.mark.parametrize("network", NETWORKS)
def test_preview_shape(network, owner, account):
    # As long as the network allows (a network that shows all it allows never truncates).
    story = ("A long story. " * 100)[: network.limits.caption_chars - len(" #bistro @chef")]
    long_caption = story.rstrip() + " #bistro @chef"
    post = post_to(owner, account, network, caption=long_caption)

    preview = network.preview(post_content(post, network.id))

    assert isinstance(preview, Preview)
    assert preview.network == network.label
    assert preview.caption == long_caption
    assert preview.caption_shown == long_caption[: network.limits.caption_shown]
    assert preview.truncated == (len(long_caption) > network.limits.caption_shown)
    assert preview.hashtags == ["bistro"]
    assert preview.mentions == ["chef"]
    assert len(preview.asset_ids) == network.limits.media_min
    assert preview.layout in {"text", "link", "photo", "multi_photo", "carousel"}


@pytest.mark.parametrize("network", NETWORKS)
def test_publish_over_http_ends_published_exactly_once(
    network, owner, account, sandbox, no_media_fetch
):
    post = post_to(owner, account, network, caption=f"Contract {network.id}")

    drive()

    publication = post.publications.get()
    assert publication.status == Publication.Status.PUBLISHED, publication.last_error
    assert not publication.outcome_unknown
    live = [
        p
        for p in sandbox_posts(sandbox)
        if (p.get("message") or p.get("caption") or p.get("text")) == f"Contract {network.id}"
    ]
    assert [p["id"] for p in live] == [publication.platform_post_id]
    assert publication.events.filter(to_status="published").count() == 1


@pytest.mark.parametrize("network", NETWORKS)
def test_reconcile_finds_a_post_published_before_a_crash(
    network, owner, account, sandbox, no_media_fetch
):
    post = post_to(owner, account, network, caption=f"Crash {network.id}")
    drive()
    publication = Publication.objects.select_related("account").get(post=post)
    post_id = publication.platform_post_id
    # The worker "died" after the network acted and before the outcome was recorded.
    Publication.objects.filter(pk=publication.pk).update(
        status="publishing", platform_post_id="", outcome_unknown=True
    )
    publication.refresh_from_db()

    found = network.reconcile(
        publication, post_content(post, network.id), Window.for_publication(publication)
    )

    assert isinstance(found, Published)
    assert found.platform_post_id == post_id
    # Another publication's post is never taken as this one's.
    window = Window.for_publication(publication, taken=frozenset({post_id}))
    taken = network.reconcile(publication, post_content(post, network.id), window)
    assert taken is None or taken.platform_post_id == ""


@pytest.mark.parametrize("network", NETWORKS)
def test_reconcile_of_a_post_that_never_went_out_finds_nothing(
    network, owner, account, sandbox, no_media_fetch
):
    post = post_to(owner, account, network, caption=f"Never sent {network.id}")
    publication = Publication.objects.select_related("account").get(post=post)
    Publication.objects.filter(pk=publication.pk).update(
        sent_at=publication.created_at - timedelta(minutes=1)
    )
    publication.refresh_from_db()

    window = Window.for_publication(publication)
    assert network.reconcile(publication, post_content(post, network.id), window) is None


@pytest.mark.parametrize("network", NETWORKS)
def test_engagement_reads_counts(network, owner, account, sandbox, control, no_media_fetch):
    post = post_to(owner, account, network, caption=f"Counts {network.id}")
    drive()
    control("clock", {"advance_seconds": 6 * 3600})
    publication = Publication.objects.select_related("account").get(post=post)

    counts = network.fetch_engagement(publication)

    assert isinstance(counts, Engagement)
    assert counts.likes is not None
    assert counts.likes >= 0
    assert counts.comments is not None
    assert counts.comments >= 0
    assert counts.permalink


@pytest.mark.parametrize("network", NETWORKS)
def test_token_check_of_a_good_and_a_revoked_token(network, account, sandbox, control):
    good = AccessToken.objects.get(account=account)
    assert good.kind in network.token_kinds

    checked = network.token_check(good)
    assert isinstance(checked, TokenCheck)
    assert checked.state == "valid"
    assert checked.reason == ""
    good.token = "revoked-" + good.token[-6:]
    refused = network.token_check(good)
    assert refused.state == "refused"
    assert "Reconnect" in refused.reason
    assert good.token not in refused.reason


@pytest.mark.parametrize("network", NETWORKS)
def test_token_check_when_the_network_cannot_answer_is_no_verdict(
    network, account, sandbox, control
):
    control("faults", {"kind": "error", "match": "GET /*", "code": 100, "times": None})

    checked = network.token_check(AccessToken.objects.get(account=account))

    assert checked.state == "unknown"
    assert checked.reason


@pytest.mark.parametrize("network", NETWORKS)
@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        ({"code": 190, "subcode": 463}, errors.NeedsReconnection),
        ({"code": 100}, errors.Permanent),
        ({"kind": "rate_limit", "code": 32, "minutes": 5}, errors.RetryLater),
    ],
    ids=["token", "invalid", "rate_limit"],
)
def test_errors_are_only_the_neutral_ones(
    network, fault, expected, owner, account, sandbox, control, no_media_fetch
):
    post = post_to(owner, account, network, caption=f"Errors {network.id}")
    drive()
    publication = Publication.objects.select_related("account").get(post=post)
    control("faults", {"kind": "error", "match": "GET /*", "times": None, **fault})
    content = post_content(post, network.id)
    window = Window.for_publication(publication)

    with pytest.raises(NEUTRAL) as engagement_error:
        network.fetch_engagement(publication)
    assert isinstance(engagement_error.value, expected)
    assert not isinstance(engagement_error.value, GraphError)
    assert not isinstance(engagement_error.value.__cause__, NEUTRAL)
    with pytest.raises(NEUTRAL) as reconcile_error:
        network.reconcile(publication, content, window)
    # Reading what the account got: lost access says so, anything else is "cannot say now".
    reading = (
        errors.NeedsReconnection if expected is errors.NeedsReconnection else errors.OutcomeUnknown
    )
    assert isinstance(reconcile_error.value, reading)


@pytest.mark.parametrize("network", NETWORKS)
def test_an_account_without_a_token_needs_reconnection(network, owner, account, sandbox):
    post = post_to(owner, account, network, caption="No token")
    publication = Publication.objects.select_related("account").get(post=post)
    AccessToken.objects.filter(account=account).delete()

    with pytest.raises(errors.NeedsReconnection) as missing:
        network.fetch_engagement(publication)

    assert missing.value.token_missing
