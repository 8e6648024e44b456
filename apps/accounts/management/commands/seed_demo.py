"""Create the demo tenant, its owner and a staff login for `make run`; safe to run again."""

import secrets
from typing import Any

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from apps.accounts.models import Membership, Role, Tenant, User

DEMO_OWNER = "owner@demo.example"
DEMO_STAFF = "staff@demo.example"


class Command(BaseCommand):
    help = "Create (once) the demo tenant 'Demo Bistro' with an owner and a staff user."

    def handle(self, *args: Any, **options: Any) -> None:
        credentials_file = settings.VAR_DIR / "demo-credentials.txt"
        if credentials_file.exists():
            password = credentials_file.read_text().strip()
        else:
            password = secrets.token_urlsafe(12)
        with transaction.atomic():
            tenant, _ = Tenant.objects.get_or_create(
                slug="demo-bistro",
                defaults={
                    "name": "Demo Bistro",
                    "timezone": "Europe/Paris",
                    "description": "A neighbourhood bistro with seasonal French cooking.",
                    "category": "French bistro",
                    "tone_of_voice": "warm, friendly, a little playful",
                    "default_hashtags": "#bistro #seasonal #foodie",
                },
            )
            owner = self._user(DEMO_OWNER, password, name="Demo Owner")
            staff = self._user(DEMO_STAFF, password, name="Platform Staff", staff=True)
            Membership.objects.get_or_create(
                tenant=tenant, user=owner, defaults={"role": Role.OWNER}
            )
        credentials_file.parent.mkdir(parents=True, exist_ok=True)
        credentials_file.write_text(password + "\n")
        credentials_file.chmod(0o600)
        self.stdout.write(
            self.style.SUCCESS(
                "\nDemo ready at http://127.0.0.1:8000\n"
                f"  owner of '{tenant.name}': {owner.email} / {password}\n"
                f"  platform staff (admin):   {staff.email} / {password}  → /admin/\n"
            )
        )

    def _user(self, email: str, password: str, *, name: str, staff: bool = False) -> User:
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(
                email, password, name=name, is_staff=staff, is_superuser=staff
            )
        elif not user.check_password(password):
            user.set_password(password)  # so the printed password always works
            user.save(update_fields=["password"])
        EmailAddress.objects.update_or_create(
            user=user, email=email, defaults={"verified": True, "primary": True}
        )
        return user
