"""Meta's deauthorize and data-deletion callbacks, over HTTP with real signed_requests."""

import pytest
from allauth.socialaccount.models import SocialAccount
from django.conf import settings
from django.test import Client
from model_bakery import baker

from apps.social.models import AccessToken, ConnectedAccount, DataDeletionRequest, TokenEvent
from apps.social.signed_request import SignedRequestError, make_signed_request, parse_signed_request

FB_USER = "100200300"


def signed(payload: dict, secret: str | None = None) -> str:
    return make_signed_request(payload, app_secret=secret or settings.FACEBOOK_APP_SECRET)


@pytest.fixture
def connected(tenant, owner):
    account = baker.make(
        ConnectedAccount,
        tenant=tenant,
        platform="facebook_page",
        platform_id="55",
        facebook_user_id=FB_USER,
    )
    AccessToken.objects.create(
        tenant=tenant, account=account, kind="page", facebook_user_id=FB_USER, token="page-token"
    )
    AccessToken.objects.create(
        tenant=tenant, kind="user_long_lived", facebook_user_id=FB_USER, token="user-token"
    )
    baker.make(SocialAccount, provider="facebook", uid=FB_USER, user=owner.user)
    return account


def test_parse_signed_request_round_trip():
    payload = parse_signed_request(
        signed({"algorithm": "HMAC-SHA256", "user_id": FB_USER, "issued_at": 1}),
        app_secret=settings.FACEBOOK_APP_SECRET,
    )

    assert payload["user_id"] == FB_USER


@pytest.mark.parametrize(
    "value",
    [
        "",
        "no-dot",
        "a.b.c",
        "%%%.%%%",
        signed({"algorithm": "HMAC-SHA256", "user_id": FB_USER}, secret="someone-else"),
        signed({"algorithm": "RSA", "user_id": FB_USER}),
        signed({"algorithm": "HMAC-SHA256"}),
        signed({"algorithm": "HMAC-SHA256", "user_id": "../etc"}),
    ],
)
def test_bad_signed_requests_are_refused(value):
    with pytest.raises(SignedRequestError):
        parse_signed_request(value, app_secret=settings.FACEBOOK_APP_SECRET)


def test_deauthorize_deletes_tokens_and_asks_for_reconnection(
    client: Client, connected, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/facebook/deauthorize/",
            {"signed_request": signed({"algorithm": "HMAC-SHA256", "user_id": FB_USER})},
        )

    assert response.status_code == 200
    connected.refresh_from_db()
    assert connected.status == ConnectedAccount.Status.NEEDS_REAUTH
    assert not AccessToken.objects.filter(facebook_user_id=FB_USER).exists()
    assert TokenEvent.objects.filter(account=connected, kind=TokenEvent.Kind.DEAUTHORIZED).exists()


def test_a_forged_callback_changes_nothing(client: Client, connected):
    forged = signed({"algorithm": "HMAC-SHA256", "user_id": FB_USER}, secret="not-the-app-secret")

    for url in ["/facebook/deauthorize/", "/facebook/data-deletion/"]:
        response = client.post(url, {"signed_request": forged})
        assert response.status_code == 400
        assert "signature" in response.json()["error"]

    connected.refresh_from_db()
    assert connected.status == ConnectedAccount.Status.ACTIVE
    assert AccessToken.objects.filter(facebook_user_id=FB_USER).count() == 2
    assert not DataDeletionRequest.objects.exists()


def test_data_deletion_answers_with_a_status_url_and_code(
    client: Client, connected, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(
            "/facebook/data-deletion/",
            {"signed_request": signed({"algorithm": "HMAC-SHA256", "user_id": FB_USER})},
        )

    body = response.json()
    assert response.status_code == 200
    deletion = DataDeletionRequest.objects.get(confirmation_code=body["confirmation_code"])
    assert body["url"] == f"http://testserver/facebook/data-deletion/{deletion.confirmation_code}/"
    assert "In progress" in client.get(body["url"]).content.decode()
    assert len(callbacks) == 1  # the deletion job is queued on commit

    # The job itself (run here directly; the Celery path is covered by the worker tests).
    from apps.social import services

    services.data_deletion_run(request_id=deletion.pk)
    services.data_deletion_run(request_id=deletion.pk)  # idempotent

    page = client.get(body["url"]).content.decode()
    assert "Completed" in page
    assert not AccessToken.objects.filter(facebook_user_id=FB_USER).exists()
    assert not SocialAccount.objects.filter(uid=FB_USER).exists()
    connected.refresh_from_db()
    assert connected.status == ConnectedAccount.Status.NEEDS_REAUTH


def test_unknown_deletion_code_is_404(client: Client, db):
    assert client.get("/facebook/data-deletion/nope/").status_code == 404
