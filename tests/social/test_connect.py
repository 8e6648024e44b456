"""Connect → choose → connected → disconnect, end to end: django-allauth's Facebook provider and
the sandbox Graph API over real HTTP, driven as a person would."""

import pytest
from django.conf import settings
from django.core import mail
from django.db import connection
from django.test import Client

from apps.social import graph
from apps.social.models import AccessToken, ConnectedAccount, PendingConnection, TokenEvent
from tests.social.conftest import consent, path_of

CONNECT = "/accounts/facebook/login/?process=connect&next=/connections/new/&scope=" + ",".join(
    settings.FACEBOOK_SCOPES
)


def start_connect(client: Client) -> str:
    """Press "Connect Facebook": allauth sends the browser to the (sandbox) login dialog."""
    response = client.post(CONNECT)
    assert response.status_code == 302
    dialog = response["Location"]
    assert dialog.startswith(
        f"{settings.SANDBOX_GRAPH_URL}/{settings.FACEBOOK_GRAPH_VERSION}/dialog/oauth"
    )
    return dialog


def connect(client: Client, decision: str = "allow"):
    back = consent(start_connect(client), decision)
    assert back.startswith("http://testserver/accounts/facebook/login/callback/")
    return client.get(path_of(back))


def choices(client: Client) -> list[dict]:
    page = client.get("/connections/new/")
    assert page.status_code == 200
    return page.context["choices"]


def raw_tokens() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT token FROM social_accesstoken "
            "UNION ALL SELECT token FROM social_pendingconnection"
        )
        return [row[0] for row in cursor.fetchall()]


def test_connect_choose_connected_disconnect(client_for, owner, sandbox):
    client = client_for(owner.user)

    # Allow in the sandbox's dialog: back through allauth's callback to the choice.
    response = connect(client)
    assert response.status_code == 302
    assert response["Location"] == "/connections/new/"

    found = choices(client)
    names = sorted(c["page"].name for c in found)
    assert names == [
        "Demo Bistro",
        "Demo Bistro Bakery",
        "Demo Bistro Catering",
    ]  # one only via a portfolio
    bistro = next(c["page"] for c in found if c["page"].name == "Demo Bistro")
    assert bistro.instagram is not None
    assert bistro.instagram.username == "demobistro"

    response = client.post(
        "/connections/new/", {"page": [bistro.id], "instagram": [bistro.instagram.id]}
    )
    assert response.status_code == 302

    page = ConnectedAccount.objects.get(platform="facebook_page")
    instagram = ConnectedAccount.objects.get(platform="instagram_business")
    assert (page.tenant, page.status, page.name) == (owner.tenant, "active", "Demo Bistro")
    assert (instagram.username, instagram.parent) == ("demobistro", page)
    assert not PendingConnection.objects.exists()
    kinds = sorted(AccessToken.objects.values_list("kind", flat=True))
    assert kinds == ["page", "page", "user_long_lived"]

    # The stored Page token is a real one: the sandbox accepts it.
    page_token = AccessToken.objects.get(account=page).token
    assert (
        graph.get_instagram_account(page_id=page.platform_id, page_token=page_token).id
        == instagram.platform_id
    )
    # ...and the database holds no plaintext.
    assert all(
        token.token not in raw for token in AccessToken.objects.all() for raw in raw_tokens()
    )

    listing = client.get("/connections/").content.decode()
    assert "Demo Bistro" in listing
    assert "@demobistro" in listing
    assert "Active" in listing

    # Disconnect the Page: token gone, row and history kept; the Instagram account goes on.
    response = client.post(f"/connections/{page.pk}/disconnect/")
    assert response.status_code == 302
    page.refresh_from_db()
    assert page.status == ConnectedAccount.Status.DISCONNECTED
    assert not AccessToken.objects.filter(account=page).exists()
    assert TokenEvent.objects.filter(account=page, kind="disconnected").exists()
    assert ConnectedAccount.objects.get(pk=instagram.pk).status == "active"

    # Disconnect the last account of that grant: the user token is deleted and revoked at Facebook.
    user_token = AccessToken.objects.get(kind="user_long_lived").token
    client.post(f"/connections/{instagram.pk}/disconnect/")
    assert not AccessToken.objects.exists()
    assert graph.debug_token(input_token=user_token).is_valid is False


def test_denied_consent_comes_back_with_a_message_and_stores_nothing(client_for, owner, sandbox):
    client = client_for(owner.user)

    response = connect(client, decision="deny")

    assert response.status_code == 302
    assert response["Location"] == "/connections/"
    page = client.get("/connections/").content.decode()
    assert "Facebook access was not granted" in page
    assert not PendingConnection.objects.exists()
    assert not ConnectedAccount.objects.exists()
    assert not AccessToken.objects.exists()


def test_a_replayed_callback_is_refused(client_for, owner, sandbox):
    client = client_for(owner.user)
    back = consent(start_connect(client))
    client.get(path_of(back))
    PendingConnection.objects.all().delete()

    response = client.get(path_of(back))  # the same code and state again

    assert response.status_code == 302
    assert response["Location"] == "/connections/"
    assert not PendingConnection.objects.exists()


def test_a_forged_state_is_refused(client_for, owner, sandbox):
    client = client_for(owner.user)
    back = consent(start_connect(client))
    forged = back.replace("state=", "state=forged")

    response = client.get(path_of(forged))

    assert response.status_code == 302
    assert response["Location"] == "/connections/"
    assert not PendingConnection.objects.exists()


def test_an_account_held_by_another_tenant_is_refused(
    client_for, owner, sandbox, other_tenant, make_member
):
    first = client_for(owner.user)
    connect(first)
    bistro = next(c["page"] for c in choices(first) if c["page"].name == "Demo Bistro")
    first.post("/connections/new/", {"page": [bistro.id]})

    rival = make_member(other_tenant, "owner")
    second = client_for(rival.user)
    connect(second)
    row = next(c for c in choices(second) if c["page"].id == bistro.id)
    assert row["page_taken"]  # shown as connected to another business

    response = second.post("/connections/new/", {"page": [bistro.id]})

    assert response.status_code == 400
    assert "Already connected to another business" in response.content.decode()
    assert ConnectedAccount.objects.filter(tenant=other_tenant).count() == 0
    assert AccessToken.objects.filter(tenant=other_tenant).count() == 0


def test_viewers_and_editors_cannot_connect(client_for, viewer, editor, sandbox):
    for member in (viewer, editor):
        client = client_for(member.user)
        assert client.get("/connections/new/").status_code == 403
        assert "Connect Facebook" not in client.get("/connections/").content.decode()


def test_a_revoked_token_marks_the_account_for_reconnection_and_reconnecting_heals_it(
    client_for, owner, sandbox, django_capture_on_commit_callbacks
):
    from apps.social import services

    client = client_for(owner.user)
    connect(client)
    bistro = next(c["page"] for c in choices(client) if c["page"].name == "Demo Bistro")
    client.post("/connections/new/", {"page": [bistro.id]})
    account = ConnectedAccount.objects.get()

    # The person removes the app on Facebook: every token of that grant dies.
    graph.revoke_permissions(user_token=AccessToken.objects.get(kind="user_long_lived").token)
    with django_capture_on_commit_callbacks(execute=True):
        counts = services.token_check_all()

    assert counts == {"valid": 0, "invalid": 2}
    account.refresh_from_db()
    assert account.status == ConnectedAccount.Status.NEEDS_REAUTH
    assert TokenEvent.objects.filter(account=account, kind="needs_reauth").exists()
    assert mail.outbox[-1].to == [owner.user.email]
    assert "need" in mail.outbox[-1].subject
    assert "reconnection" in mail.outbox[-1].subject
    assert "Needs reconnection" in client.get("/connections/").content.decode()

    # Reconnect: the same flow, the account ticked again.
    connect(client)
    row = next(c for c in choices(client) if c["page"].id == bistro.id)
    assert row["page_checked"]  # accounts of this business come pre-ticked
    client.post("/connections/new/", {"page": [bistro.id]})
    account.refresh_from_db()
    assert account.status == ConnectedAccount.Status.ACTIVE
    assert services.token_check(token=AccessToken.objects.get(account=account))


def test_refresh_re_exchanges_user_tokens_close_to_expiry(client_for, owner, sandbox):
    from datetime import timedelta

    from django.utils import timezone

    from apps.social import services

    client = client_for(owner.user)
    connect(client)
    bistro = next(c["page"] for c in choices(client) if c["page"].name == "Demo Bistro")
    client.post("/connections/new/", {"page": [bistro.id]})
    user_token = AccessToken.objects.get(kind="user_long_lived")
    AccessToken.objects.filter(pk=user_token.pk).update(
        expires_at=timezone.now() + timedelta(days=2)
    )

    assert services.token_refresh_due() == 1

    refreshed = AccessToken.objects.get(pk=user_token.pk)
    assert refreshed.token != user_token.token
    assert refreshed.expires_at > timezone.now() + timedelta(days=50)
    assert TokenEvent.objects.filter(kind="refreshed").count() == 1
    assert services.token_refresh_due() == 0  # nothing is due any more


@pytest.mark.parametrize(
    "fault",
    [
        {"kind": "error", "match": "GET /me/accounts", "status": 500, "code": 2, "times": None},
        {"kind": "malformed", "match": "GET /me/accounts", "variant": "wrong_shape", "times": None},
        {
            "kind": "error",
            "match": "GET /oauth/access_token",
            "status": 400,
            "code": 190,
            "subcode": 463,
        },
    ],
    ids=["graph-500", "malformed-answer", "expired-token"],
)
def test_a_failure_during_discovery_is_explained_and_connects_nothing(
    client_for, owner, sandbox, fault
):
    import httpx

    client = client_for(owner.user)
    connect(client)
    httpx.post(f"{sandbox.base_url}/_sandbox/faults", json=fault).raise_for_status()

    response = client.get("/connections/new/", follow=True)

    assert response.redirect_chain[-1][0] == "/connections/"
    messages = [str(m) for m in response.context["messages"]]
    assert any(m.startswith("Facebook did not list your Pages:") for m in messages), messages
    assert not ConnectedAccount.objects.exists()
    assert not AccessToken.objects.exists()
    assert PendingConnection.objects.get().discovery_error  # kept until the hourly clean-up


def test_log_in_with_facebook_signs_up_a_new_person(client, db, sandbox):
    from allauth.socialaccount.models import SocialAccount

    response = client.post("/accounts/facebook/login/?process=login")
    back = consent(response["Location"])
    response = client.get(path_of(back))

    assert response.status_code == 302
    account = SocialAccount.objects.get(provider="facebook")
    assert account.user.email == "sandy@sandbox.example"
    assert client.get("/").status_code == 302  # logged in, sent on to create a business
    assert not AccessToken.objects.exists()  # a login keeps no token


def test_log_in_with_facebook_reaches_the_account_with_the_same_verified_email(
    client, sandbox, make_user
):
    from allauth.socialaccount.models import SocialAccount

    existing = make_user("sandy@sandbox.example")

    response = client.post("/accounts/facebook/login/?process=login")
    response = client.get(path_of(consent(response["Location"])))

    assert response.status_code == 302
    assert SocialAccount.objects.get(provider="facebook").user == existing
    assert int(client.session["_auth_user_id"]) == existing.pk
