"""Meta's deauthorize and data-deletion callbacks, over HTTP with real signed_requests."""

import base64
import hashlib
import hmac
import json
import logging

import pytest
from allauth.socialaccount.models import SocialAccount
from django.conf import settings
from django.test import Client
from model_bakery import baker

from apps.social.models import AccessToken, ConnectedAccount, DataDeletionRequest, TokenEvent
from apps.social.signed_request import SignedRequestError, make_signed_request, parse_signed_request

FB_USER = "100200300"
ISSUED_AT = 1_767_225_600
CALLBACKS = ["/facebook/deauthorize/", "/facebook/data-deletion/"]


def signed(payload: dict, secret: str | None = None) -> str:
    return make_signed_request(payload, app_secret=secret or settings.FACEBOOK_APP_SECRET)


def signed_json(text: str) -> str:
    """A signed_request over any JSON text, signed with the app secret (the HMAC passes)."""
    body = base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()
    digest = hmac.new(settings.FACEBOOK_APP_SECRET.encode(), body.encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()).rstrip(b"=").decode() + "." + body


def genuine(**changes: object) -> dict:
    return {"algorithm": "HMAC-SHA256", "user_id": FB_USER, "issued_at": ISSUED_AT, **changes}


def assert_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"] == f"urn:social-automation:problem:{code}"
    return body


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
        signed(genuine(issued_at=1)),
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
            {"signed_request": signed(genuine())},
        )

    assert response.status_code == 200
    connected.refresh_from_db()
    assert connected.status == ConnectedAccount.Status.NEEDS_REAUTH
    assert not AccessToken.objects.filter(facebook_user_id=FB_USER).exists()
    assert TokenEvent.objects.filter(account=connected, kind=TokenEvent.Kind.DEAUTHORIZED).exists()


def test_a_forged_callback_changes_nothing(client: Client, connected):
    forged = signed(genuine(), secret="not-the-app-secret")

    for url in CALLBACKS:
        response = client.post(url, {"signed_request": forged})
        assert "signature" in assert_problem(response, 400, "invalid_signed_request")["detail"]

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
            {"signed_request": signed(genuine())},
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


# --- Issue 13, defect 6: validly signed, malformed payloads -----------------------------------

HUGE = "9" * 5_000  # past Python's 4,300-digit limit of int(str)
MALFORMED = {
    "5000-digit number elsewhere": '{"algorithm": "HMAC-SHA256", "user_id": "1", '
    f'"issued_at": 1, "expires": {HUGE}}}',
    "5000-digit user_id number": f'{{"algorithm": "HMAC-SHA256", "user_id": {HUGE}, '
    '"issued_at": 1}',
    "5000-digit issued_at": f'{{"algorithm": "HMAC-SHA256", "user_id": "1", "issued_at": {HUGE}}}',
    "100,000-deep nesting": '{"algorithm": "HMAC-SHA256", "user_id": "1", "issued_at": 1, '
    '"user": ' + "[" * 100_000 + "]" * 100_000 + "}",
    "2,000-deep nesting": '{"algorithm": "HMAC-SHA256", "user_id": "1", "issued_at": 1, '
    '"user": ' + "[" * 2_000 + "]" * 2_000 + "}",
    "300-digit user_id": genuine(user_id="7" * 300),
    "33-digit user_id": genuine(user_id="7" * 33),
    "Arabic-Indic digits": genuine(user_id="\u0661\u0662\u0663"),
    "superscript digits": genuine(user_id="\u00b2\u00b3"),
    "fullwidth digits": genuine(user_id="\uff11\uff12"),
    "user_id with a newline": genuine(user_id=FB_USER + "\n"),
    "negative user_id": genuine(user_id=-5),
    "boolean user_id": genuine(user_id=True),
    "user_id in a list": genuine(user_id=[FB_USER]),
    "empty user_id": genuine(user_id=""),
    "no issued_at": {"algorithm": "HMAC-SHA256", "user_id": FB_USER},
    "issued_at as text": genuine(issued_at="1767225600"),
    "issued_at a float": genuine(issued_at=1.5),
    "issued_at a boolean": genuine(issued_at=True),
    "issued_at negative": genuine(issued_at=-1),
    "issued_at past 2106": genuine(issued_at=2**32),
    "algorithm not a string": genuine(algorithm=["HMAC-SHA256"]),
    "algorithm none": genuine(algorithm="none"),
    "NaN": '{"algorithm": "HMAC-SHA256", "user_id": "1", "issued_at": NaN}',
    "a list at the top": [genuine()],
    "a string at the top": '"HMAC-SHA256"',
}


def _signed_malformed(case: object) -> str:
    return signed_json(case if isinstance(case, str) else json.dumps(case))


@pytest.mark.parametrize("case", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_signed_but_malformed_payload_is_refused(case):
    with pytest.raises(SignedRequestError):
        parse_signed_request(_signed_malformed(case), app_secret=settings.FACEBOOK_APP_SECRET)


@pytest.mark.parametrize("url", CALLBACKS)
@pytest.mark.parametrize("case", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_callback_refuses_a_signed_but_malformed_payload_and_records_nothing(
    client: Client, connected, caplog, url, case
):
    caplog.set_level(logging.DEBUG)
    signed_request = _signed_malformed(case)

    response = client.post(url, {"signed_request": signed_request})

    assert_problem(response, 400, "invalid_signed_request")
    assert not DataDeletionRequest.objects.exists()
    assert not TokenEvent.objects.exists()
    connected.refresh_from_db()
    assert connected.status == ConnectedAccount.Status.ACTIVE
    assert AccessToken.objects.filter(facebook_user_id=FB_USER).count() == 2
    payload_part = signed_request.split(".")[1]
    logged = caplog.text + "".join(str(r.msg) for r in caplog.records)
    assert payload_part[:32] not in logged
    assert "9" * 40 not in logged
    assert "7" * 33 not in logged


@pytest.mark.parametrize(
    "signed_request",
    [
        "A" * 45 + "." + signed(genuine()).split(".")[1],  # longer than an HMAC-SHA256
        signed(genuine(padding="x" * 9_000)),  # a payload part past 8 KiB
        signed(genuine()).replace("A", "+", 1).replace("a", "/", 1),  # base64, not base64url
    ],
    ids=["long signature", "long payload", "wrong alphabet"],
)
def test_encoded_parts_are_checked_before_decoding(signed_request):
    with pytest.raises(SignedRequestError):
        parse_signed_request(signed_request, app_secret=settings.FACEBOOK_APP_SECRET)


def test_a_user_id_sent_as_a_number_is_read_as_its_digits():
    payload = parse_signed_request(
        signed(genuine(user_id=100200300)), app_secret=settings.FACEBOOK_APP_SECRET
    )

    assert payload["user_id"] == FB_USER


@pytest.mark.parametrize("url", CALLBACKS)
def test_a_callback_body_over_the_limit_is_a_413_problem(client: Client, connected, url):
    body = "signed_request=" + "x" * (3 * 1024 * 1024)

    response = client.post(url, body, content_type="application/x-www-form-urlencoded")

    assert_problem(response, 413, "request_too_large")
    assert not DataDeletionRequest.objects.exists()
    assert not TokenEvent.objects.exists()


@pytest.mark.parametrize("url", CALLBACKS)
def test_a_callback_with_too_many_fields_is_a_400_problem(client: Client, connected, url):
    body = "&".join(f"f{i}=1" for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1))

    response = client.post(url, body, content_type="application/x-www-form-urlencoded")

    assert_problem(response, 400, "too_many_fields")
    assert not DataDeletionRequest.objects.exists()
