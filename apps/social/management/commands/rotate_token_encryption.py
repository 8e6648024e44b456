"""Re-encrypt every stored token under the first key of FIELD_ENCRYPTION_KEY.

Rotation: put the new key first and keep the old one after it, run this command, then remove the
old key.
"""

from typing import Any

from django.core.management.base import BaseCommand

from apps.social import services


class Command(BaseCommand):
    help = "Re-encrypt every stored token under the newest FIELD_ENCRYPTION_KEY."

    def handle(self, *args: Any, **options: Any) -> None:
        count = services.tokens_reencrypt()
        self.stdout.write(self.style.SUCCESS(f"Re-encrypted {count} row(s) under the newest key."))
