"""Fuzz of Meta's signed_request parser and of the two callbacks that receive one (deauthorize,
data deletion): random and mutated input gives a clear `SignedRequestError` / a 4xx answer,
never a crash, and nothing is stored."""

import base64
import hashlib
import hmac
import json
import re
import string

import pytest
from django.conf import settings
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from apps.social.models import DataDeletionRequest, TokenEvent
from apps.social.signed_request import (
    SignedRequestError,
    make_signed_request,
    parse_signed_request,
)

SECRET = "fuzz-secret"
B64URL = string.ascii_letters + string.digits + "-_"

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=10,
)
# Digits str.isdigit() takes but a Facebook id never has (Arabic-Indic, superscript, fullwidth).
NOT_ASCII_DIGITS = "\u0661\u0662\u0663\u00b2\u00b3\uff11\u0966"
user_ids = st.one_of(
    json_values,
    st.integers(0, 10**20).map(str),
    st.integers(0, 10**20),
    st.integers(10**32, 10**400).map(str),  # past the 32 digits we take
    st.text(alphabet=string.digits + NOT_ASCII_DIGITS, min_size=1, max_size=40),
)
issued_ats = st.one_of(
    json_values, st.integers(-(2**40), 2**40), st.integers(10**32, 10**400), st.booleans()
)
payloads = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {"algorithm": st.sampled_from(["HMAC-SHA256", "hmac-sha256", "none", ""])},
        optional={"user_id": user_ids, "issued_at": issued_ats, "extra": json_values},
    ),
)


def _parse(text: str, secret: str = SECRET) -> dict | None:
    try:
        return parse_signed_request(text, app_secret=secret)
    except SignedRequestError as exc:
        error = str(exc)
    assert error  # a sentence saying what is wrong
    return None


@st.composite
def mutated_requests(draw: st.DrawFn) -> str:
    valid = make_signed_request(
        {"algorithm": "HMAC-SHA256", "user_id": "100200300", "issued_at": 1}, app_secret=SECRET
    )
    chars = list(valid)
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(chars) - 1))
        chars[at] = draw(st.sampled_from(B64URL + ".=+/ \x00é"))
    return "".join(chars)


@given(text=st.one_of(st.text(max_size=300), st.text(alphabet=B64URL + ".", max_size=300)))
def test_random_text_is_refused_clearly(text: str) -> None:
    assert _parse(text) is None  # forging an HMAC-SHA256 by chance is not on the table


@given(text=mutated_requests())
def test_a_mutated_request_is_refused_unless_it_still_reads_the_same(text: str) -> None:
    parsed = _parse(text)
    if parsed is not None:  # a change base64 ignores (padding of the last group)
        assert parsed["user_id"] == "100200300"


@given(payload=payloads)
def test_any_correctly_signed_payload_is_accepted_only_when_complete(payload: object) -> None:
    text = make_signed_request(payload, app_secret=SECRET)  # type: ignore[arg-type]
    parsed = _parse(text)
    if parsed is not None:
        assert parsed["algorithm"].upper() == "HMAC-SHA256"
        assert re.fullmatch(r"[0-9]{1,32}", parsed["user_id"])
        assert type(parsed["issued_at"]) is int
        assert 0 <= parsed["issued_at"] < 2**32
    assert _parse(text, secret="another-secret") is None


def _sign_text(text: str, secret: str) -> str:
    body = base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()
    digest = hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode() + "." + body


VALID = '{"algorithm": "HMAC-SHA256", "user_id": "100200300", "issued_at": 1}'
# Each one breaks a valid payload in one way a correct signature does not excuse (issue 13).
malformed_texts = st.one_of(
    st.integers(2_000, 6_000).map(lambda n: VALID[:-1] + f', "expires": {"9" * n}}}'),
    st.integers(5, 3_000).map(lambda n: VALID[:-1] + f', "user": {"[" * n}{"]" * n}}}'),
    st.integers(1, 100_000).map(lambda n: "[" * n + "]" * n),
    st.text(alphabet=NOT_ASCII_DIGITS, min_size=1, max_size=30).map(
        lambda uid: VALID.replace('"100200300"', json.dumps(uid))
    ),
    st.integers(33, 400).map(lambda n: VALID.replace("100200300", "7" * n)),
    st.sampled_from(['"1"', "1.5", "true", "-1", "4294967296", "NaN", "null", "[1]"]).map(
        lambda at: VALID.replace('"issued_at": 1', f'"issued_at": {at}')
    ),
)


@given(text=malformed_texts)
def test_a_correctly_signed_but_malformed_payload_is_refused(text: str) -> None:
    assert _parse(_sign_text(text, SECRET)) is None


CONTENT_TYPES = [
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=fuzz",
    "application/json",
    "text/plain",
]
bodies = st.one_of(
    st.binary(max_size=512),
    st.text(max_size=200).map(lambda s: f"signed_request={s}".encode()),
    mutated_requests().map(lambda s: f"signed_request={s}".encode()),
    st.builds(lambda p: json.dumps({"signed_request": p}).encode(), st.text(max_size=100)),
    # Signed with the app secret: the HMAC passes and the payload's shape is what refuses.
    malformed_texts.map(
        lambda t: b"signed_request=" + _sign_text(t, settings.FACEBOOK_APP_SECRET).encode()
    ),
)


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/facebook/deauthorize/", "/facebook/data-deletion/"])
def test_callbacks_answer_4xx_to_garbage_and_store_nothing(url: str) -> None:
    client = Client(raise_request_exception=True)

    @given(body=bodies, content_type=st.sampled_from(CONTENT_TYPES))
    def check(body: bytes, content_type: str) -> None:
        response = client.generic("POST", url, data=body, content_type=content_type)
        assert 400 <= response.status_code < 500, response.status_code
        assert not DataDeletionRequest.objects.exists()
        assert not TokenEvent.objects.exists()

    check()
    # A genuine request is accepted (the callbacks are reachable; the fuzz is not vacuous).
    genuine = make_signed_request(
        {"algorithm": "HMAC-SHA256", "user_id": "100200300", "issued_at": 1},
        app_secret=settings.FACEBOOK_APP_SECRET,
    )
    assert client.post(url, {"signed_request": genuine}).status_code == 200
