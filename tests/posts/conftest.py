"""Fixtures for the posts tests: files in a temporary directory, the sandbox's control API, and
Demo Bistro's Facebook Page, Instagram accounts and Threads profile connected with real sandbox
tokens."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.social import graph
from apps.social.models import AccessToken, ConnectedAccount

DEMO_BISTRO_PAGE = "101000000000001"
DEMO_BISTRO_THREADS = "27000000000000001"
DEMO_BISTRO_IG_LOGIN = "17841400000000003"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def accounts(tenant, owner, sandbox, control):
    """Demo Bistro's Facebook Page, its Instagram account, its Threads profile and the Instagram
    account of its bar (connected with Instagram Login, no Page), connected to
    the tenant with real sandbox tokens (the connect flows are tested in tests/social)."""
    token = control("tokens", {"kind": "page", "page_id": DEMO_BISTRO_PAGE})["access_token"]
    instagram = graph.get_instagram_account(page_id=DEMO_BISTRO_PAGE, page_token=token)
    page = ConnectedAccount.objects.create(
        tenant=tenant,
        platform="facebook_page",
        platform_id=DEMO_BISTRO_PAGE,
        name="Demo Bistro",
        facebook_user_id="100000000000001",
    )
    ig = ConnectedAccount.objects.create(
        tenant=tenant,
        platform="instagram_business",
        platform_id=instagram.id,
        name="demobistro",
        username="demobistro",
        parent=page,
        facebook_user_id="100000000000001",
    )
    for account in (page, ig):
        AccessToken.objects.create(
            tenant=tenant,
            account=account,
            kind="page",
            facebook_user_id="100000000000001",
            token=token,
        )
    threads = ConnectedAccount.objects.create(
        tenant=tenant,
        platform="threads",
        platform_id=DEMO_BISTRO_THREADS,
        name="Demo Bistro",
        username="demobistro",
        facebook_user_id=DEMO_BISTRO_THREADS,
    )
    minted = control("threads/tokens", {"kind": "long"})
    AccessToken.objects.create(
        tenant=tenant,
        account=threads,
        kind="threads_long_lived",
        facebook_user_id=DEMO_BISTRO_THREADS,
        token=minted["access_token"],
        expires_at=timezone.now() + timedelta(seconds=minted["expires_in"]),
    )
    instagram_login = ConnectedAccount.objects.create(
        tenant=tenant,
        platform="instagram_login",
        platform_id=DEMO_BISTRO_IG_LOGIN,
        name="Demo Bistro Bar",
        username="demobistro.bar",
        facebook_user_id=DEMO_BISTRO_IG_LOGIN,
    )
    minted = control("instagram_login/tokens", {"kind": "long"})
    AccessToken.objects.create(
        tenant=tenant,
        account=instagram_login,
        kind="ig_login_long_lived",
        facebook_user_id=DEMO_BISTRO_IG_LOGIN,
        token=minted["access_token"],
        expires_at=timezone.now() + timedelta(seconds=minted["expires_in"]),
    )
    return {
        "facebook": page,
        "instagram": ig,
        "threads": threads,
        "instagram_login": instagram_login,
    }


@pytest.fixture
def no_media_fetch(control):
    """Unit-level runs have no web server for the sandbox to fetch images from."""
    control("config", {"fetch_media": False, "processing_seconds": 0})
