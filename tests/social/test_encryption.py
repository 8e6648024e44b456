"""Tokens are encrypted at rest, a wrong key fails loudly, and rotation re-encrypts."""

import pytest
from cryptography.fernet import Fernet, MultiFernet
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from encrypted_model_fields import fields as encrypted_fields
from model_bakery import baker

from apps.social.fields import TokenDecryptionError
from apps.social.models import AccessToken, ConnectedAccount

PLAINTEXT = "EAAB-very-secret-page-token-1234567890"


def _raw_token(pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT token FROM social_accesstoken WHERE id = %s", [pk])
        return cursor.fetchone()[0]


@pytest.fixture
def stored_token(tenant):
    account = baker.make(ConnectedAccount, tenant=tenant, platform="facebook_page", platform_id="1")
    return AccessToken.objects.create(
        tenant=tenant, account=account, kind="page", facebook_user_id="42", token=PLAINTEXT
    )


def test_the_database_holds_no_plaintext_token(stored_token):
    raw = _raw_token(stored_token.pk)

    assert PLAINTEXT not in raw
    assert AccessToken.objects.get(pk=stored_token.pk).token == PLAINTEXT


def test_a_wrong_key_fails_loudly_instead_of_returning_ciphertext(stored_token, monkeypatch):
    monkeypatch.setattr(encrypted_fields, "CRYPTER", MultiFernet([Fernet(Fernet.generate_key())]))

    with pytest.raises(TokenDecryptionError, match="FIELD_ENCRYPTION_KEY"):
        AccessToken.objects.get(pk=stored_token.pk)


def test_rotation_re_encrypts_every_token_under_the_newest_key(stored_token, monkeypatch):
    old_keys = [Fernet(k) for k in settings.FIELD_ENCRYPTION_KEY]
    new_key = Fernet(Fernet.generate_key())
    before = _raw_token(stored_token.pk)

    # New key first, old keys after it: reads still work, writes use the new key.
    monkeypatch.setattr(encrypted_fields, "CRYPTER", MultiFernet([new_key, *old_keys]))
    call_command("rotate_token_encryption")

    after = _raw_token(stored_token.pk)
    assert after != before
    assert new_key.decrypt(after.encode()).decode() == PLAINTEXT
    # With only the new key the token still reads: the old keys can be retired.
    monkeypatch.setattr(encrypted_fields, "CRYPTER", MultiFernet([new_key]))
    assert AccessToken.objects.get(pk=stored_token.pk).token == PLAINTEXT


def test_tokens_never_appear_in_repr_or_str(stored_token):
    assert PLAINTEXT not in repr(stored_token)
    assert PLAINTEXT not in str(stored_token)


def test_staff_see_token_health_but_never_the_token(client_for, staff, stored_token):
    client = client_for(staff)

    for url in [
        f"/admin/social/connectedaccount/{stored_token.account_id}/change/",
        "/admin/social/connectedaccount/",
        "/admin/social/accesstoken/",
        f"/admin/social/accesstoken/{stored_token.pk}/change/",
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert PLAINTEXT not in response.content.decode(), url
        assert _raw_token(stored_token.pk) not in response.content.decode(), url


def test_readyz_fails_when_the_key_cannot_decrypt_stored_tokens(client, stored_token, monkeypatch):
    assert client.get("/readyz").json()["checks"]["token_encryption"]["status"] == "ok"

    monkeypatch.setattr(encrypted_fields, "CRYPTER", MultiFernet([Fernet(Fernet.generate_key())]))
    response = client.get("/readyz")

    assert response.status_code == 503
    check = response.json()["checks"]["token_encryption"]
    assert check["status"] == "error"
    assert "FIELD_ENCRYPTION_KEY" in check["error"]
