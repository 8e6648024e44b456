"""The dashboard's tenant and team pages, driven through HTTP as a person would."""

import re
from datetime import UTC, datetime

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from model_bakery import baker

from apps.accounts.middleware import SESSION_KEY
from apps.accounts.models import Invitation, Membership, Role, Tenant, User


def _link_in_last_mail() -> str:
    match = re.search(r"http://testserver(/\S+)", mail.outbox[-1].body)
    assert match, mail.outbox[-1].body
    return match.group(1)


def test_sign_up_verify_email_and_create_a_tenant(client: Client, db):
    response = client.post(
        reverse("account_signup"),
        {
            "email": "chef@example.com",
            "password1": "a-long-secret-1",
            "password2": "a-long-secret-1",
        },
    )
    assert response.status_code == 302
    assert User.objects.filter(email="chef@example.com").exists()

    # Mandatory verification: the e-mailed link confirms the address and logs the person in.
    confirm = _link_in_last_mail()
    client.post(confirm)
    response = client.get(reverse("dashboard:overview"))
    assert response.status_code == 302
    assert response["Location"] == reverse("tenants:create")

    response = client.post(
        reverse("tenants:create"), {"name": "Chef's Table", "slug": "", "timezone": "Europe/Berlin"}
    )
    assert response.status_code == 302
    tenant = Tenant.objects.get(slug="chefs-table")
    assert tenant.memberships.get().role == Role.OWNER

    page = client.get(reverse("dashboard:overview"))
    assert page.status_code == 200
    assert "Chef&#x27;s Table" in page.content.decode()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {
                "email": "not-an-email",
                "password1": "a-long-secret-1",
                "password2": "a-long-secret-1",
            },
            "Enter a valid email address.",
        ),
        (
            {
                "email": "x@example.com",
                "password1": "a-long-secret-1",
                "password2": "different-secret-1",
            },
            "You must type the same password each time.",
        ),
        (
            {"email": "x@example.com", "password1": "123", "password2": "123"},
            "This password is too short.",
        ),
    ],
)
def test_invalid_sign_up_is_explained_and_creates_nothing(client: Client, db, data, message):
    response = client.post(reverse("account_signup"), data)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not User.objects.exists()


def test_sign_up_with_a_taken_email_creates_nothing_and_tells_the_owner(client: Client, make_user):
    make_user("taken@example.com")

    response = client.post(
        reverse("account_signup"),
        {
            "email": "taken@example.com",
            "password1": "a-long-secret-1",
            "password2": "a-long-secret-1",
        },
    )

    # No account enumeration: the page looks like a normal sign-up, the address's owner is told.
    assert response.status_code == 302
    assert User.objects.filter(email="taken@example.com").count() == 1
    assert mail.outbox[-1].to == ["taken@example.com"]
    assert "already exists" in mail.outbox[-1].body


def test_log_in_with_email_and_password(client: Client, owner):
    response = client.post(
        reverse("account_login"), {"login": owner.user.email, "password": "correct horse battery"}
    )

    assert response.status_code == 302
    assert client.get(reverse("dashboard:overview")).status_code == 200


def test_a_taken_slug_is_explained_and_nothing_is_created(client_for, make_user, tenant):
    client = client_for(make_user())

    response = client.post(
        reverse("tenants:create"), {"name": "Copycat", "slug": tenant.slug, "timezone": "UTC"}
    )

    assert response.status_code == 200
    assert "is taken" in response.content.decode()
    assert Tenant.objects.count() == 1


def test_switching_between_tenants(client_for, owner, other_tenant, make_member):
    make_member(other_tenant, Role.VIEWER, user=owner.user)
    client = client_for(owner.user)

    client.post(reverse("tenants:switch", args=[other_tenant.pk]))
    page = client.get(reverse("dashboard:overview"))

    assert client.session[SESSION_KEY] == other_tenant.pk
    assert page.context["current_tenant"] == other_tenant
    assert page.context["current_membership"].role == Role.VIEWER


def test_invite_by_email_and_accept_through_the_link(
    client_for, owner, make_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(owner.user).post(
            reverse("team:list"), {"email": "sous@example.com", "role": Role.MANAGER}
        )
    assert response.status_code == 302

    link = _link_in_last_mail()
    anonymous = Client()
    assert "Log in" in anonymous.get(link).content.decode()
    assert anonymous.post(link).status_code == 302  # to the login page
    assert not Membership.objects.filter(user__email="sous@example.com").exists()

    sous = client_for(make_user("sous@example.com"))
    response = sous.post(link)
    assert response.status_code == 302
    assert Membership.objects.get(user__email="sous@example.com").role == Role.MANAGER

    # The same link again: a clear refusal, nothing new.
    again = sous.post(link, follow=True)
    assert "already been used" in again.content.decode()
    assert Membership.objects.filter(user__email="sous@example.com").count() == 1


def test_inviting_an_existing_member_is_explained(client_for, owner, editor):
    response = client_for(owner.user).post(
        reverse("team:list"), {"email": editor.user.email, "role": Role.VIEWER}
    )

    assert response.status_code == 400
    assert "already a member" in response.content.decode()
    assert not Invitation.objects.exists()


def test_a_viewer_cannot_invite_or_manage(client_for, viewer, editor):
    client = client_for(viewer.user)

    response = client.post(
        reverse("team:list"), {"email": "x@example.com", "role": Role.EDITOR}, follow=True
    )
    assert "Only owners and managers can invite people." in response.content.decode()

    assert (
        client.post(reverse("team:change_role", args=[editor.pk]), {"role": Role.OWNER}).status_code
        == 403
    )
    assert client.post(reverse("team:remove", args=[editor.pk])).status_code == 403
    assert client.get(reverse("tenants:settings")).status_code == 403

    assert not Invitation.objects.exists()
    assert Membership.objects.get(pk=editor.pk).role == Role.EDITOR


def test_the_last_owner_sees_why_they_cannot_leave(client_for, owner):
    response = client_for(owner.user).post(reverse("team:leave"), follow=True)

    assert "last owner" in response.content.decode()
    assert Membership.objects.filter(pk=owner.pk).exists()


def test_owner_changes_roles_and_removes_members(client_for, owner, editor):
    client = client_for(owner.user)

    client.post(reverse("team:change_role", args=[editor.pk]), {"role": Role.VIEWER})
    assert Membership.objects.get(pk=editor.pk).role == Role.VIEWER

    client.post(reverse("team:remove", args=[editor.pk]))
    assert not Membership.objects.filter(pk=editor.pk).exists()


def test_business_settings_are_saved_by_a_manager(client_for, manager, tenant):
    response = client_for(manager.user).post(
        reverse("tenants:settings"), {"name": "Renamed", "timezone": "Asia/Tokyo"}
    )

    assert response.status_code == 302
    tenant.refresh_from_db()
    assert (tenant.name, tenant.timezone) == ("Renamed", "Asia/Tokyo")


def test_an_unknown_timezone_is_refused(client_for, manager, tenant):
    response = client_for(manager.user).post(
        reverse("tenants:settings"), {"name": "Renamed", "timezone": "Mars/Olympus"}
    )

    assert response.status_code == 200
    tenant.refresh_from_db()
    assert tenant.name == "Chez Test"


def test_staff_manage_tenants_in_admin(client_for, staff, tenant, owner):
    client = client_for(staff)

    for url in [
        reverse("admin:accounts_tenant_changelist"),
        reverse("admin:accounts_tenant_change", args=[tenant.pk]),
        reverse("admin:accounts_user_changelist"),
        reverse("admin:accounts_membership_changelist"),
        reverse("admin:accounts_invitation_changelist"),
        reverse("admin:django_celery_beat_periodictask_changelist"),
    ]:
        assert client.get(url).status_code == 200, url


def test_password_reset_by_email(client: Client, owner):
    client.post(reverse("account_reset_password"), {"email": owner.user.email})
    link = _link_in_last_mail()

    form_page = client.get(link, follow=True)
    client.post(
        form_page.redirect_chain[-1][0] if form_page.redirect_chain else link,
        {"password1": "a-brand-new-secret-9", "password2": "a-brand-new-secret-9"},
    )

    owner.user.refresh_from_db()
    assert owner.user.check_password("a-brand-new-secret-9")


def test_pages_show_times_in_the_tenants_timezone(client_for, owner, tenant):
    tenant.timezone = "Asia/Tokyo"
    tenant.save()
    # 20:00 UTC on 1 January is already 2 January in Tokyo.
    baker.make(
        Invitation,
        tenant=tenant,
        email="late@example.com",
        token_hash="d" * 64,
        expires_at=datetime(2030, 1, 1, 20, 0, tzinfo=UTC),
    )

    page = client_for(owner.user).get(reverse("team:list")).content.decode()

    assert "until 2 Jan 2030" in page


def test_staff_add_a_user_in_admin(client_for, staff):
    client = client_for(staff)
    url = reverse("admin:accounts_user_add")

    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "email": "new.staff@example.com",
            "password1": "a-long-secret-7",
            "password2": "a-long-secret-7",
            "usable_password": "true",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    assert User.objects.get(email="new.staff@example.com").check_password("a-long-secret-7")
