"""A tenant's data export (a ZIP built by a Celery job, downloadable by its owners) and the
deletion of a tenant with everything it owns: rows, files, and its tokens revoked at the
sandbox Graph API over real HTTP."""

import io
import json
import time
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.apps import apps
from django.core import mail
from django.db import models
from django.utils import timezone
from django_celery_beat.models import PeriodicTask
from model_bakery import baker

from apps.accounts import services, tasks, tenant_data
from apps.accounts.middleware import SESSION_KEY
from apps.accounts.models import ApiKey, Invitation, Membership, Role, Tenant, TenantExport, User
from apps.assets.models import BrandAsset, BrandFolder
from apps.assets.services import asset_upload, folder_create
from apps.core.exceptions import ApplicationError, NotPermitted
from apps.posts import publishing
from apps.posts.models import CaptionUsage, Post, PostAsset, Publication
from apps.posts.services import PostInput, post_create, post_submit
from apps.social import graph
from apps.social.models import AccessToken, ConnectedAccount, TokenEvent
from apps.webhooks.models import WebhookDelivery, WebhookEndpoint
from tests.assets.conftest import jpeg
from tests.conftest import CeleryWorker, wait_until

DEMO_USER = "100000000000001"
DEMO_BISTRO_PAGE = "101000000000001"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def stored_files(root: Path) -> list[str]:
    if not root.exists():
        return []
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


@pytest.fixture
def builds_inline(monkeypatch):
    """The export job queued on commit runs through Celery's own machinery (``apply``) in this
    process; the test with a real worker is below."""
    monkeypatch.setattr(
        tasks.tenant_export_build,
        "delay",
        lambda export_id: tasks.tenant_export_build.apply((export_id,)),
    )


@pytest.fixture
def business(tenant, owner, make_member, sandbox, control):
    """A tenant holding one of everything, with real sandbox tokens (prefix EAAS)."""
    user_token = control("tokens", {"kind": "long"})["access_token"]
    page_token = control("tokens", {"kind": "page", "page_id": DEMO_BISTRO_PAGE})["access_token"]
    instagram_id = graph.get_instagram_account(page_id=DEMO_BISTRO_PAGE, page_token=page_token).id
    page = ConnectedAccount.objects.create(
        tenant=tenant,
        platform="facebook_page",
        platform_id=DEMO_BISTRO_PAGE,
        name="Demo Bistro",
        facebook_user_id=DEMO_USER,
    )
    instagram = ConnectedAccount.objects.create(
        tenant=tenant,
        platform="instagram_business",
        platform_id=instagram_id,
        name="demobistro",
        username="demobistro",
        parent=page,
        facebook_user_id=DEMO_USER,
    )
    for account in (page, instagram):
        AccessToken.objects.create(
            tenant=tenant,
            account=account,
            kind="page",
            facebook_user_id=DEMO_USER,
            token=page_token,
        )
    AccessToken.objects.create(
        tenant=tenant, kind="user_long_lived", facebook_user_id=DEMO_USER, token=user_token
    )
    TokenEvent.objects.create(tenant=tenant, account=page, kind="connected")

    manager = make_member(tenant, Role.MANAGER)
    issued_invitation = services.invitation_create(
        actor=owner, email="new@example.com", role="editor", accept_url_for=lambda t: t
    )
    issued_key = services.api_key_create(actor=owner, name="Menu sync", scopes=["write"])

    top = folder_create(actor=owner, name="Dishes", parent=None)
    inner = folder_create(actor=owner, name="Desserts", parent=top)
    first = asset_upload(
        actor=owner, data=jpeg(colour="tomato"), filename="soup.jpg", tags=["soup"]
    ).asset
    second = asset_upload(
        actor=owner, data=jpeg(colour="navy"), filename="tart.jpg", folder=inner
    ).asset

    tenant.requires_approval = False
    tenant.save()
    post = post_create(
        actor=owner,
        data=PostInput(
            caption="Tonight: bouillabaisse",
            target_ids=[page.pk, instagram.pk],
            asset_ids=[first.pk, second.pk],
            scheduled_for=timezone.now() + timedelta(days=1),
        ),
    )
    post = post_submit(actor=owner, post=post)
    baker.make(CaptionUsage, tenant=tenant, provider="offline", prompt_tokens=12)

    endpoint = WebhookEndpoint.objects.create(
        tenant=tenant, url="https://hooks.example.com/in", events=["post.published"]
    )
    baker.make(WebhookDelivery, tenant=tenant, endpoint=endpoint, event="post.published")
    return {
        "tenant": tenant,
        "owner": owner,
        "manager": manager,
        "page": page,
        "instagram": instagram,
        "user_token": user_token,
        "page_token": page_token,
        "invitation_token": issued_invitation.token,
        "invitation_hash": issued_invitation.invitation.token_hash,
        "api_key": issued_key.key,
        "api_key_hash": issued_key.api_key.secret_hash,
        "webhook_secret": endpoint.secret,
        "post": post,
        "assets": [first, second],
        "folders": [top, inner],
    }


def tenant_owned_models() -> list[type[models.Model]]:
    """Every model with a foreign key to Tenant, including ones added after this test."""
    return [
        model
        for model in apps.get_models()
        if any(
            f.many_to_one and f.related_model is Tenant
            for f in model._meta.get_fields()
            if f.concrete
        )
    ]


def rows_of(tenant_id: int) -> dict[str, int]:
    counts = {}
    for model in tenant_owned_models():
        fields = [
            f.name
            for f in model._meta.get_fields()
            if f.concrete and f.many_to_one and f.related_model is Tenant
        ]
        query = models.Q()
        for name in fields:
            query |= models.Q(**{f"{name}_id": tenant_id})
        counts[model._meta.label] = model.objects.filter(query).count()
    counts["posts.PostAsset"] = PostAsset.objects.filter(post__tenant_id=tenant_id).count()
    counts["posts.Post_targets"] = Post.targets.through.objects.filter(
        post__tenant_id=tenant_id
    ).count()
    counts["assets.BrandAsset_tags"] = BrandAsset.tags.through.objects.filter(
        brandasset__tenant_id=tenant_id
    ).count()
    return counts


def read_zip(content: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def download(client, export: TenantExport) -> bytes:
    response = client.get(f"/business/exports/{export.pk}/download/")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert ".zip" in response["Content-Disposition"]
    return b"".join(response.streaming_content)


# --- Export --------------------------------------------------------------------------------------


def test_an_owner_exports_everything_without_a_single_secret(
    client_for, business, builds_inline, django_capture_on_commit_callbacks, media_root
):
    owner, tenant = business["owner"], business["tenant"]
    client = client_for(owner.user)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/business/exports/")
    assert response.status_code == 302

    export = TenantExport.objects.get(tenant=tenant)
    assert export.status == TenantExport.Status.READY
    assert export.requested_by == owner.user
    assert export.expires_at - export.finished_at == timedelta(days=7)
    assert export.file.name.startswith(f"exports/t{tenant.pk}/")
    assert export.size == (media_root / export.file.name).stat().st_size
    # The owners are e-mailed a link; the manager is not.
    ready_mail = mail.outbox[-1]
    assert ready_mail.to == [owner.user.email]
    assert f"/business/exports/{export.pk}/download/" in ready_mail.body

    # The settings page lists it with a download button.
    page = client.get("/business/settings/").content.decode()
    assert "Export data" in page
    assert f"/business/exports/{export.pk}/download/" in page

    files = read_zip(download(client, export))
    data = json.loads(files["data.json"])
    assert data["format"] == "social-automation.tenant-export"
    assert data["format_version"] == 1
    assert {
        "tenant",
        "members",
        "invitations",
        "api_keys",
        "connected_accounts",
        "token_events",
        "folders",
        "tags",
        "assets",
        "asset_tags",
        "posts",
        "post_targets",
        "post_assets",
        "publications",
        "review_events",
        "caption_usage",
        "webhook_endpoints",
        "webhook_deliveries_summary",
    } <= set(data)
    assert data["tenant"]["name"] == "Chez Test"
    assert "tone_of_voice" in data["tenant"]["brand_profile"]
    assert sorted((m["email"], m["role"]) for m in data["members"]) == sorted(
        [(owner.user.email, "owner"), (business["manager"].user.email, "manager")]
    )
    assert [i["email"] for i in data["invitations"]] == ["new@example.com"]
    assert {a["name"] for a in data["connected_accounts"]} == {"Demo Bistro", "demobistro"}
    assert [f["name"] for f in data["folders"]] == ["Dishes", "Desserts"]
    assert [t["name"] for t in data["tags"]] == ["soup"]
    assert len(data["posts"]) == 1
    assert data["posts"][0]["caption"] == "Tonight: bouillabaisse"
    assert [(p["asset_id"], p["position"]) for p in data["post_assets"]] == [
        (business["assets"][0].pk, 0),
        (business["assets"][1].pk, 1),
    ]
    assert {p["status"] for p in data["publications"]} == {"pending"}
    assert len(data["publications"]) == 2
    assert data["review_events"]
    assert data["caption_usage"][0]["prompt_tokens"] == 12
    assert data["webhook_endpoints"][0]["url"] == "https://hooks.example.com/in"
    assert data["webhook_deliveries_summary"][0]["count"] == 1
    # The original files, byte for byte, where data.json says they are.
    for asset in business["assets"]:
        entry = next(a for a in data["assets"] if a["id"] == asset.pk)
        assert entry["file"] == f"files/assets/{asset.pk}.jpg"
        assert files[entry["file"]] == (media_root / asset.file.name).read_bytes()

    # Not one secret anywhere in the archive (JSON and file names included).
    everything = b"".join([*files.values(), *(name.encode() for name in files)])
    for secret in (
        "EAAS",
        business["user_token"],
        business["page_token"],
        business["webhook_secret"],
        "whsec_",
        business["api_key"],
        business["api_key_hash"],
        business["invitation_token"],
        business["invitation_hash"],
    ):
        assert secret.encode() not in everything, secret
    for column in (b"token_hash", b"secret_hash", b'"secret"', b'"token"'):
        assert column not in files["data.json"]


def test_running_the_job_twice_keeps_one_file(
    owner, media_root, django_capture_on_commit_callbacks
):
    asset_upload(actor=owner, data=jpeg(), filename="a.jpg")
    export = tenant_data.tenant_export_request(membership=owner)  # queued on commit: not run here

    first = tenant_data.tenant_export_build(export_id=export.pk)
    with django_capture_on_commit_callbacks(execute=True):
        second = tasks.tenant_export_build.apply((export.pk,)).get()

    assert first.status == second == TenantExport.Status.READY
    exports = [name for name in stored_files(media_root) if name.startswith("exports/")]
    assert exports == [first.file.name]


def test_a_job_redelivered_while_another_builds_does_nothing(owner, media_root):
    export = tenant_data.tenant_export_request(membership=owner)
    TenantExport.objects.filter(pk=export.pk).update(status="running", started_at=timezone.now())

    again = tenant_data.tenant_export_build(export_id=export.pk)

    assert again.status == TenantExport.Status.RUNNING
    assert not stored_files(media_root)


def test_a_failure_marks_the_export_failed_and_leaves_no_file(
    owner, media_root, monkeypatch, django_capture_on_commit_callbacks
):
    def broken(export, target):
        target.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(tenant_data, "_export_write_zip", broken)
    export = tenant_data.tenant_export_request(membership=owner)

    with django_capture_on_commit_callbacks(execute=True):
        result = tenant_data.tenant_export_build(export_id=export.pk)

    assert result.status == TenantExport.Status.FAILED
    assert "could not be prepared" in result.error
    assert not stored_files(media_root)
    assert not mail.outbox
    # A failed export does not block the next one.
    assert tenant_data.tenant_export_request(membership=owner).status == "pending"


def test_one_export_at_a_time_unless_the_open_one_was_lost(owner):
    first = tenant_data.tenant_export_request(membership=owner)

    with pytest.raises(ApplicationError) as refused:
        tenant_data.tenant_export_request(membership=owner)
    assert refused.value.code == "export_in_progress"

    TenantExport.objects.filter(pk=first.pk).update(created_at=timezone.now() - timedelta(hours=2))
    second = tenant_data.tenant_export_request(membership=owner)
    first.refresh_from_db()
    assert (first.status, second.status) == ("failed", "pending")


@pytest.mark.parametrize("role", [Role.MANAGER, Role.EDITOR, Role.VIEWER])
def test_only_owners_export_or_delete(client_for, tenant, owner, make_member, role):
    member = make_member(tenant, role)
    export = baker.make(TenantExport, tenant=tenant, status="ready", file="exports/x.zip")
    client = client_for(member.user)

    with pytest.raises(NotPermitted):
        tenant_data.tenant_export_request(membership=member)
    with pytest.raises(NotPermitted):
        tenant_data.tenant_delete(membership=member, confirm_name=tenant.name)
    assert client.post("/business/exports/").status_code == 403
    assert client.get(f"/business/exports/{export.pk}/download/").status_code == 403
    assert client.get("/business/delete/").status_code == 403
    assert client.post("/business/delete/", {"confirm_name": tenant.name}).status_code == 403
    assert TenantExport.objects.filter(tenant=tenant).count() == 1
    assert Tenant.objects.filter(pk=tenant.pk).exists()
    if role == Role.MANAGER:  # managers see the settings page, without these sections
        page = client.get("/business/settings/").content.decode()
        assert "Export data" not in page
        assert "Delete this business" not in page


def test_another_tenants_export_is_a_404(
    client_for, owner, other_tenant, make_member, django_capture_on_commit_callbacks
):
    theirs = tenant_data.tenant_export_request(membership=make_member(other_tenant, Role.OWNER))
    tenant_data.tenant_export_build(export_id=theirs.pk)

    response = client_for(owner.user).get(f"/business/exports/{theirs.pk}/download/")

    assert response.status_code == 404


def test_expired_exports_answer_410_and_the_daily_job_deletes_them_with_their_files(
    client_for, owner, media_root, django_capture_on_commit_callbacks
):
    old = tenant_data.tenant_export_build(
        export_id=tenant_data.tenant_export_request(membership=owner).pk
    )
    fresh = tenant_data.tenant_export_build(
        export_id=tenant_data.tenant_export_request(membership=owner).pk
    )
    TenantExport.objects.filter(pk=old.pk).update(expires_at=timezone.now() - timedelta(hours=1))
    client = client_for(owner.user)

    assert client.get(f"/business/exports/{old.pk}/download/").status_code == 410
    assert client.get(f"/business/exports/{fresh.pk}/download/").status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.tenant_export_cleanup.apply().get() == 1

    assert list(TenantExport.objects.values_list("pk", flat=True)) == [fresh.pk]
    assert stored_files(media_root) == [fresh.file.name]
    assert client.get(f"/business/exports/{old.pk}/download/").status_code == 404
    schedule = PeriodicTask.objects.get(task="accounts.tenant_export_cleanup")
    assert schedule.enabled
    assert (schedule.crontab.hour, schedule.crontab.minute) == ("4", "15")


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_builds_the_export_queued_on_commit(
    client_for, owner, media_root, monkeypatch, settings
):
    settings.PUBLIC_BASE_URL = "http://testserver"
    asset = asset_upload(actor=owner, data=jpeg(), filename="a.jpg").asset
    queue = f"test-{time.monotonic_ns()}"
    monkeypatch.setattr(
        tasks.tenant_export_build,
        "delay",
        lambda export_id: tasks.tenant_export_build.apply_async((export_id,), queue=queue),
    )
    worker = CeleryWorker(queue, MEDIA_ROOT=str(media_root)).start()
    try:
        client = client_for(owner.user)
        assert client.post("/business/exports/").status_code == 302  # commits, then queues
        export = TenantExport.objects.get(tenant=owner.tenant)

        assert wait_until(
            lambda: TenantExport.objects.get(pk=export.pk).status == "ready", timeout=60
        )
    finally:
        worker.stop()
    export.refresh_from_db()
    files = read_zip(download(client, export))
    assert files[f"files/assets/{asset.pk}.jpg"] == (media_root / asset.file.name).read_bytes()
    assert json.loads(files["data.json"])["assets"][0]["id"] == asset.pk


# --- Deletion ------------------------------------------------------------------------------------


def test_deleting_a_business_removes_everything_it_owns_and_revokes_its_tokens(
    client_for,
    business,
    other_tenant,
    make_member,
    media_root,
    sandbox,
    control,
    django_capture_on_commit_callbacks,
):
    tenant, owner = business["tenant"], business["owner"]
    tenant_data.tenant_export_build(
        export_id=tenant_data.tenant_export_request(membership=owner).pk
    )
    # The other business: a member who is also in this one, an account, an image, a post.
    shared = business["manager"].user
    their_owner = make_member(other_tenant, Role.OWNER, user=shared)
    their_asset = asset_upload(actor=their_owner, data=jpeg(colour="tomato"), filename="x.jpg")
    baker.make(ConnectedAccount, tenant=other_tenant, platform_id="999", facebook_user_id="42")
    baker.make(Post, tenant=other_tenant)
    other_before = rows_of(other_tenant.pk)
    ours_before = rows_of(tenant.pk)
    assert ours_before["accounts.TenantExport"] == 1
    assert ours_before["assets.BrandAsset"] == 2
    assert ours_before["posts.Publication"] == 2
    assert any(name.startswith(f"assets/t{tenant.pk}/") for name in stored_files(media_root))
    assert any(name.startswith("exports/") for name in stored_files(media_root))
    api_key = business["api_key"]
    assert services.api_key_authenticate(key=api_key) is not None  # now cached
    control("calls", method="DELETE")
    client = client_for(owner.user)
    client.post(f"/business/{tenant.pk}/switch/")
    assert client.get("/business/delete/").status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/business/delete/", {"confirm_name": "Chez Test"})

    assert response.status_code == 302
    assert response["Location"] == "/business/new/"
    assert SESSION_KEY not in client.session
    landing = client.get(response["Location"]).content.decode()
    assert "Chez Test was deleted" in landing
    # Every row of every model with a tenant is gone; the people stay.
    assert not Tenant.objects.filter(pk=tenant.pk).exists()
    assert set(rows_of(tenant.pk).values()) == {0}
    assert User.objects.filter(pk__in=[owner.user_id, shared.pk]).count() == 2
    assert not Membership.objects.filter(user=owner.user).exists()
    # Files: the images, their thumbnails and the export.
    assert not any(name.startswith(f"assets/t{tenant.pk}/") for name in stored_files(media_root))
    assert not any(name.startswith("exports/") for name in stored_files(media_root))
    assert (media_root / their_asset.asset.file.name).exists()
    # Tokens: deleted here and revoked at Facebook.
    assert not AccessToken.objects.exists()
    calls = control("calls?since=0&limit=200", method="GET")["calls"]
    assert any(c["method"] == "DELETE" and c["path"].endswith("/me/permissions") for c in calls)
    assert graph.debug_token(input_token=business["user_token"]).is_valid is False
    assert graph.debug_token(input_token=business["page_token"]).is_valid is False
    # Nothing is left to publish, and the API key stopped working at once.
    assert publishing.publications_claim_due() == []
    assert services.api_key_authenticate(key=api_key) is None
    # The other business is untouched.
    assert rows_of(other_tenant.pk) == other_before
    assert Membership.objects.filter(pk=their_owner.pk).exists()


def test_a_wrong_name_changes_nothing(client_for, business, media_root, control):
    tenant = business["tenant"]
    before = rows_of(tenant.pk)
    files_before = stored_files(media_root)

    response = client_for(business["owner"].user).post(
        "/business/delete/", {"confirm_name": "Chez Tes"}
    )

    assert response.status_code == 400
    assert "exactly to confirm" in response.content.decode()
    assert rows_of(tenant.pk) == before
    assert stored_files(media_root) == files_before
    assert graph.debug_token(input_token=business["user_token"]).is_valid is True
    assert ConnectedAccount.objects.filter(tenant=tenant, status="active").count() == 2
    assert Publication.objects.filter(tenant=tenant, status="pending").count() == 2


def test_a_graph_error_while_revoking_does_not_stop_the_deletion(business, control):
    control(
        "faults",
        {"kind": "error", "match": "DELETE /me/permissions", "status": 500, "code": 2},
    )
    tenant = business["tenant"]

    result = tenant_data.tenant_delete(membership=business["owner"], confirm_name=" Chez  Test ")

    assert result.accounts_disconnected == 2
    assert result.publications_cancelled == 2
    assert not Tenant.objects.filter(pk=tenant.pk).exists()
    assert set(rows_of(tenant.pk).values()) == {0}
    assert not AccessToken.objects.exists()  # deleted here even though Facebook said no


def test_deleting_a_business_with_an_invitation_and_no_accounts(owner, tenant):
    services.invitation_create(
        actor=owner, email="x@example.com", role="viewer", accept_url_for=lambda t: t
    )
    ApiKey.objects.create(tenant=tenant, name="k", prefix="abcd1234", secret_hash="0" * 64)

    result = tenant_data.tenant_delete(membership=owner, confirm_name="Chez Test")

    assert result.problems == []
    assert not Invitation.objects.exists()
    assert not BrandFolder.objects.exists()
    assert set(rows_of(tenant.pk).values()) == {0}
