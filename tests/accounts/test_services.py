from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from model_bakery import baker

from apps.accounts import services
from apps.accounts.models import Invitation, Membership, Role, Tenant
from apps.core.exceptions import ApplicationError, NotPermitted


def accept_url(token: str) -> str:
    return f"http://testserver/invitations/{token}/"


# --- tenant_create -----------------------------------------------------------------------------


def test_tenant_create_makes_the_creator_its_owner(make_user):
    user = make_user()

    tenant = services.tenant_create(user=user, name="Le Petit Four", timezone_name="Europe/Paris")

    assert tenant.slug == "le-petit-four"
    assert tenant.timezone == "Europe/Paris"
    assert Membership.objects.get(tenant=tenant).role == Role.OWNER


def test_tenant_create_with_a_taken_slug_creates_nothing(make_user, tenant):
    user = make_user()

    with pytest.raises(ApplicationError) as exc:
        services.tenant_create(user=user, name="Another", slug=tenant.slug)

    assert exc.value.code == "slug_taken"
    assert Tenant.objects.count() == 1
    assert not Membership.objects.filter(user=user).exists()


@pytest.mark.parametrize(
    ("name", "slug", "code"),
    [("  ", "", "name_required"), ("!!!", "", "slug_invalid"), ("Admin", "", "slug_taken")],
)
def test_tenant_create_refuses_bad_names(make_user, name, slug, code):
    with pytest.raises(ApplicationError) as exc:
        services.tenant_create(user=make_user(), name=name, slug=slug)

    assert exc.value.code == code
    assert not Tenant.objects.exists()


# --- invitations -------------------------------------------------------------------------------


def test_invitation_is_emailed_with_a_single_use_link(owner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        issued = services.invitation_create(
            actor=owner, email="New.Cook@Example.com", role=Role.EDITOR, accept_url_for=accept_url
        )

    invitation = Invitation.objects.get()
    assert invitation.email == "new.cook@example.com"
    assert issued.token not in invitation.token_hash  # only the hash is stored
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["new.cook@example.com"]
    assert accept_url(issued.token) in mail.outbox[0].body


def test_inviting_a_member_is_refused(owner, editor):
    with pytest.raises(ApplicationError) as exc:
        services.invitation_create(
            actor=owner,
            email=editor.user.email.upper(),
            role=Role.VIEWER,
            accept_url_for=accept_url,
        )

    assert exc.value.code == "already_member"
    assert not Invitation.objects.exists()


def test_inviting_twice_is_refused_while_the_first_is_open(owner):
    services.invitation_create(
        actor=owner, email="a@example.com", role=Role.EDITOR, accept_url_for=accept_url
    )

    with pytest.raises(ApplicationError) as exc:
        services.invitation_create(
            actor=owner, email="A@example.com", role=Role.MANAGER, accept_url_for=accept_url
        )

    assert exc.value.code == "already_invited"
    assert Invitation.objects.get().role == Role.EDITOR


def test_an_expired_invitation_is_replaced(owner):
    first = services.invitation_create(
        actor=owner, email="a@example.com", role=Role.EDITOR, accept_url_for=accept_url
    )
    Invitation.objects.filter(pk=first.invitation.pk).update(
        expires_at=timezone.now() - timedelta(days=1)
    )

    second = services.invitation_create(
        actor=owner, email="a@example.com", role=Role.VIEWER, accept_url_for=accept_url
    )

    first.invitation.refresh_from_db()
    assert first.invitation.revoked_at is not None
    assert second.invitation.is_open


@pytest.mark.parametrize(
    ("actor_role", "invited_role"),
    [(Role.VIEWER, Role.VIEWER), (Role.EDITOR, Role.VIEWER), (Role.MANAGER, Role.OWNER)],
)
def test_roles_that_may_not_invite(tenant, make_member, actor_role, invited_role):
    actor = make_member(tenant, actor_role)

    with pytest.raises(NotPermitted):
        services.invitation_create(
            actor=actor, email="x@example.com", role=invited_role, accept_url_for=accept_url
        )

    assert not Invitation.objects.exists()


def test_manager_may_invite_a_manager(manager):
    issued = services.invitation_create(
        actor=manager, email="m@example.com", role=Role.MANAGER, accept_url_for=accept_url
    )

    assert issued.invitation.role == Role.MANAGER


def test_accepting_an_invitation_makes_a_membership(owner, make_user):
    issued = services.invitation_create(
        actor=owner, email="cook@example.com", role=Role.EDITOR, accept_url_for=accept_url
    )
    cook = make_user("cook@example.com")

    membership = services.invitation_accept(token=issued.token, user=cook)

    assert membership.tenant == owner.tenant
    assert membership.role == Role.EDITOR
    issued.invitation.refresh_from_db()
    assert issued.invitation.accepted_by == cook


def _refused(token, user, code):
    before = Membership.objects.count()
    with pytest.raises(ApplicationError) as exc:
        services.invitation_accept(token=token, user=user)
    assert exc.value.code == code
    assert Membership.objects.count() == before


def test_an_invitation_link_works_once(owner, make_user):
    issued = services.invitation_create(
        actor=owner, email="cook@example.com", role=Role.EDITOR, accept_url_for=accept_url
    )
    cook = make_user("cook@example.com")
    services.invitation_accept(token=issued.token, user=cook)

    _refused(issued.token, cook, "invitation_used")


def test_expired_revoked_unknown_and_wrong_user_invitations_are_refused(owner, make_user):
    cook = make_user("cook@example.com")
    issued = services.invitation_create(
        actor=owner, email="cook@example.com", role=Role.EDITOR, accept_url_for=accept_url
    )

    _refused(issued.token, make_user("someone-else@example.com"), "invitation_wrong_user")
    _refused("not-a-token", cook, "invitation_unknown")

    Invitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    _refused(issued.token, cook, "invitation_expired")

    Invitation.objects.update(expires_at=timezone.now() + timedelta(days=1))
    services.invitation_revoke(actor=owner, invitation=issued.invitation)
    _refused(issued.token, cook, "invitation_revoked")


def test_invitation_cleanup_deletes_only_old_unaccepted_invitations(tenant):
    now = timezone.now()
    old = baker.make(
        Invitation, tenant=tenant, token_hash="a" * 64, expires_at=now - timedelta(days=40)
    )
    recent = baker.make(
        Invitation, tenant=tenant, token_hash="b" * 64, expires_at=now - timedelta(days=2)
    )
    accepted = baker.make(
        Invitation,
        tenant=tenant,
        token_hash="c" * 64,
        expires_at=now - timedelta(days=40),
        accepted_at=now - timedelta(days=41),
    )

    assert services.invitation_cleanup() == 1
    assert services.invitation_cleanup() == 0  # idempotent

    remaining = set(Invitation.objects.values_list("pk", flat=True))
    assert remaining == {recent.pk, accepted.pk}
    assert old.pk not in remaining


# --- memberships -------------------------------------------------------------------------------


def test_the_last_owner_cannot_leave_or_be_demoted_or_removed(owner, manager):
    with pytest.raises(ApplicationError) as exc:
        services.membership_leave(membership=owner)
    assert exc.value.code == "last_owner"

    with pytest.raises(ApplicationError):
        services.membership_change_role(actor=owner, membership=owner, role=Role.MANAGER)

    assert Membership.objects.get(pk=owner.pk).role == Role.OWNER


def test_an_owner_can_leave_when_another_owner_remains(owner, tenant, make_member):
    make_member(tenant, Role.OWNER)

    services.membership_leave(membership=owner)

    assert not Membership.objects.filter(pk=owner.pk).exists()


def test_only_an_owner_removes_an_owner(owner, manager, tenant, make_member):
    second_owner = make_member(tenant, Role.OWNER)

    with pytest.raises(NotPermitted):
        services.membership_remove(actor=manager, membership=owner)
    with pytest.raises(NotPermitted):
        services.membership_change_role(actor=manager, membership=owner, role=Role.VIEWER)
    with pytest.raises(NotPermitted):
        services.membership_change_role(actor=manager, membership=manager, role=Role.OWNER)

    services.membership_remove(actor=second_owner, membership=owner)
    assert not Membership.objects.filter(pk=owner.pk).exists()


def test_manager_changes_an_editor_to_viewer_and_removes_them(manager, editor):
    services.membership_change_role(actor=manager, membership=editor, role=Role.VIEWER)
    assert Membership.objects.get(pk=editor.pk).role == Role.VIEWER

    services.membership_remove(actor=manager, membership=editor)
    assert not Membership.objects.filter(pk=editor.pk).exists()


def test_editors_and_viewers_cannot_manage_members(editor, viewer):
    with pytest.raises(NotPermitted):
        services.membership_change_role(actor=editor, membership=viewer, role=Role.EDITOR)
    with pytest.raises(NotPermitted):
        services.membership_remove(actor=viewer, membership=editor)

    assert Membership.objects.get(pk=viewer.pk).role == Role.VIEWER


def test_members_of_another_tenant_are_out_of_reach(owner, other_tenant, make_member):
    stranger = make_member(other_tenant, Role.EDITOR)

    with pytest.raises(NotPermitted):
        services.membership_remove(actor=owner, membership=stranger)
    with pytest.raises(NotPermitted):
        services.membership_change_role(actor=owner, membership=stranger, role=Role.VIEWER)

    assert Membership.objects.get(pk=stranger.pk).role == Role.EDITOR
