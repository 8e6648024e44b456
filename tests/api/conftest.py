"""Fixtures for the REST API tests: API keys and clients, files in a temporary directory,
connected accounts and small images."""

from collections.abc import Callable
from pathlib import Path

import pytest
from django.test import Client
from model_bakery import baker

from apps.accounts.models import Membership
from apps.accounts.services import api_key_create
from apps.social.models import ConnectedAccount


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture(autouse=True)
def generous_throttle(settings) -> None:
    settings.API_THROTTLE_RATES = dict.fromkeys(("basic", "pro", "enterprise"), "100000/hour")


@pytest.fixture
def stored_files(media_root: Path) -> Callable[[], list[str]]:
    def files() -> list[str]:
        if not media_root.exists():
            return []
        return sorted(str(p.relative_to(media_root)) for p in media_root.rglob("*") if p.is_file())

    return files


@pytest.fixture
def key_client() -> Callable[..., Client]:
    """A client sending ``Authorization: Api-Key …`` for a new key of ``actor``'s tenant."""

    def make(actor: Membership, scopes: tuple[str, ...] = ("write",)) -> Client:
        key = api_key_create(actor=actor, name="integration", scopes=list(scopes)).key
        return Client(HTTP_AUTHORIZATION=f"Api-Key {key}")

    return make


@pytest.fixture
def api(owner: Membership, key_client: Callable[..., Client]) -> Client:
    """A read and write key of the tenant."""
    return key_client(owner)


@pytest.fixture
def other_owner(other_tenant, make_member) -> Membership:
    return make_member(other_tenant, "owner")


@pytest.fixture
def page(tenant) -> ConnectedAccount:
    return baker.make(
        ConnectedAccount,
        tenant=tenant,
        platform="facebook_page",
        name="Demo Bistro",
        status=ConnectedAccount.Status.ACTIVE,
    )


@pytest.fixture
def instagram(tenant, page) -> ConnectedAccount:
    return baker.make(
        ConnectedAccount,
        tenant=tenant,
        platform="instagram_business",
        name="demobistro",
        parent=page,
        status=ConnectedAccount.Status.ACTIVE,
    )
