"""A strict encrypted field: a token that cannot be decrypted is an error, never ciphertext.

django-encrypted-model-fields returns the stored ciphertext when no configured key can decrypt
it (SPEC 2). Used as a token, that ciphertext would be sent to Facebook and fail far from the
cause. This field raises :class:`TokenDecryptionError` on read instead.
"""

from typing import Any

from cryptography.fernet import InvalidToken
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from encrypted_model_fields.fields import EncryptedMixin, decrypt_str


class TokenDecryptionError(ImproperlyConfigured):
    """The configured FIELD_ENCRYPTION_KEY list cannot decrypt a stored token."""


class StrictEncryptedTextField(EncryptedMixin, models.TextField):
    def from_db_value(self, value: Any, *args: Any, **kwargs: Any) -> str | None:
        if value is None:
            return None
        try:
            return decrypt_str(value)
        except InvalidToken:
            raise TokenDecryptionError(
                "A stored token cannot be decrypted with FIELD_ENCRYPTION_KEY. If the key was "
                "rotated, list the old key after the new one (comma-separated)."
            ) from None
