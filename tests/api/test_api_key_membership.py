"""An API key does no more than its creator may do now (issue 13): removing, leaving or demoting
a member revokes or narrows the keys they created at once, and the authentication refuses a key
whose creator is no longer a member however that came about."""

import pytest
from django.test import Client
from django.urls import reverse

from apps.accounts.models import ApiKey, Membership, Role
from apps.accounts.services import api_key_create
from apps.assets.models import BrandFolder
from apps.posts.models import Post
from tests.api.helpers import assert_problem

REVOKED = "The API key is not valid, or it was revoked."
CREATOR_GONE = (
    "This API key no longer works: the person who created it is no longer a member of the business."
)


def key_of(member: Membership, scope: str = "write") -> tuple[Client, ApiKey]:
    issued = api_key_create(actor=member, name=f"{scope} key", scopes=[scope])
    return Client(HTTP_AUTHORIZATION=f"Api-Key {issued.key}"), issued.api_key


def said(page) -> list[str]:
    """The messages a dashboard page shows."""
    return [str(m) for m in page.context["messages"]]


def assert_refused_everywhere(client: Client, status: int, code: str) -> dict:
    """Reads and writes are refused with the same problem, and nothing is written."""
    bodies = [
        assert_problem(client.get("/api/v1/posts/"), status, code),
        assert_problem(
            client.post("/api/v1/folders/", {"name": "Menus"}, content_type="application/json"),
            status,
            code,
        ),
        assert_problem(
            client.post("/api/v1/posts/", {"caption": "Hi"}, content_type="application/json"),
            status,
            code,
        ),
    ]
    assert not BrandFolder.objects.exists()
    assert not Post.objects.exists()
    return bodies[0]


def test_removing_a_member_revokes_their_keys_at_once(
    client_for, owner, manager, django_capture_on_commit_callbacks
):
    api, key = key_of(manager)
    assert api.get("/api/v1/posts/").status_code == 200  # the key is now in the cache
    other_api, other_key = key_of(owner)

    with django_capture_on_commit_callbacks(execute=True):
        page = client_for(owner.user).post(reverse("team:remove", args=[manager.pk]), follow=True)

    assert said(page) == [
        f"{manager.user.email} no longer has access. Their 1 API key was revoked."
    ]
    body = assert_refused_everywhere(api, 401, "authentication_failed")
    assert body["detail"] == REVOKED  # revoked in the database, and the cache knows it
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert key.revoked_reason == "Its creator was removed from the business."
    other_key.refresh_from_db()
    assert other_key.revoked_at is None  # the owner's keys are theirs
    assert other_api.get("/api/v1/posts/").status_code == 200

    listing = client_for(owner.user).get(reverse("api_keys:list")).content.decode()
    assert "Its creator was removed from the business." in listing


def test_leaving_revokes_the_leavers_keys(client_for, owner, manager):
    api, _ = key_of(manager)
    key_of(manager, "read")

    page = client_for(manager.user).post(reverse("team:leave"), follow=True)

    assert said(page) == ["You left Chez Test. Your 2 API keys were revoked."]
    assert_refused_everywhere(api, 401, "authentication_failed")
    assert ApiKey.objects.filter(revoked_at__isnull=True).count() == 0
    assert set(ApiKey.objects.values_list("revoked_reason", flat=True)) == {
        "Its creator left the business."
    }


def test_demoting_to_viewer_narrows_their_write_keys_to_read(client_for, owner, manager):
    writer, key = key_of(manager)
    reader, read_key = key_of(manager, "read")

    page = client_for(owner.user).post(
        reverse("team:change_role", args=[manager.pk]), {"role": Role.VIEWER}, follow=True
    )

    assert said(page) == [f"{manager.user.email} is now viewer. Their 1 API key can now only read."]
    key.refresh_from_db()
    assert (key.scopes, key.revoked_at) == (["read"], None)
    assert key.narrowed_at is not None
    assert key.narrowed_reason == "Its creator's role became viewer."
    read_key.refresh_from_db()
    assert read_key.narrowed_at is None
    assert (
        writer.get("/api/v1/posts/").status_code == reader.get("/api/v1/posts/").status_code == 200
    )
    refused = writer.post("/api/v1/folders/", {"name": "Menus"}, content_type="application/json")
    assert assert_problem(refused, 403, "permission_denied")["detail"] == (
        "This API key can only read."
    )
    assert not BrandFolder.objects.exists()
    listing = client_for(owner.user).get(reverse("api_keys:list")).content.decode()
    assert "Its creator&#x27;s role became viewer." in listing


def test_demoting_to_editor_leaves_the_keys_but_not_the_webhooks(client_for, owner, manager):
    api, key = key_of(manager)

    page = client_for(owner.user).post(
        reverse("team:change_role", args=[manager.pk]), {"role": Role.EDITOR}, follow=True
    )

    assert said(page) == [f"{manager.user.email} is now editor."]
    key.refresh_from_db()
    assert (key.scopes, key.revoked_at, key.narrowed_at) == (["read", "write"], None, None)
    created = api.post("/api/v1/folders/", {"name": "Menus"}, content_type="application/json")
    assert created.status_code == 201
    assert_problem(api.get("/api/v1/webhook-endpoints/"), 403, "permission_denied")


def test_a_key_whose_membership_vanished_otherwise_is_refused(client_for, owner, manager):
    api, _ = key_of(manager)
    assert api.get("/api/v1/posts/").status_code == 200

    Membership.objects.filter(pk=manager.pk).delete()  # e.g. in the admin: no service ran

    body = assert_refused_everywhere(api, 401, "authentication_failed")
    assert body["detail"] == CREATOR_GONE
    listing = client_for(owner.user).get(reverse("api_keys:list")).content.decode()
    assert "Its creator is no longer a member of the business." in listing


def test_a_key_of_a_deactivated_login_is_refused(manager):
    api, _ = key_of(manager)
    manager.user.is_active = False
    manager.user.save(update_fields=["is_active"])

    assert assert_refused_everywhere(api, 401, "authentication_failed")["detail"] == CREATOR_GONE


@pytest.mark.parametrize(("role", "acts_as"), [(Role.VIEWER, "viewer"), (Role.OWNER, "editor")])
def test_a_key_acts_as_no_more_than_its_creators_current_role(manager, role, acts_as):
    api, _ = key_of(manager)
    Membership.objects.filter(pk=manager.pk).update(role=role)  # no service: nothing narrowed

    assert api.get("/api/v1/me/").json()["role"] == acts_as
    created = api.post("/api/v1/folders/", {"name": "Menus"}, content_type="application/json")
    if role == Role.VIEWER:
        assert_problem(created, 403, "permission_denied")
        assert not BrandFolder.objects.exists()
    else:
        assert created.status_code == 201
