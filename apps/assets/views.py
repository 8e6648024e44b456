"""The asset library pages, the member-only file views, and the signed public media view."""

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseForbidden,
    JsonResponse,
    StreamingHttpResponse,
)
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.views.decorators.cache import never_cache
from django.views.decorators.http import (
    require_GET,
    require_http_methods,
    require_POST,
    require_safe,
)

from apps.accounts.middleware import TenantRequest
from apps.accounts.models import EDITING_ROLES
from apps.accounts.permissions import tenant_required
from apps.assets import byte_ranges, images, media_urls, selectors, services
from apps.assets.forms import AssetEditForm, FolderDeleteForm
from apps.assets.models import BrandAsset, BrandFolder
from apps.core.exceptions import ApplicationError
from apps.core.models import get_for_tenant_or_404
from apps.posts.models import Post

PAGE_SIZE = 24


def _folder_from(request: TenantRequest, value: str | None) -> BrandFolder | None:
    """The tenant's folder named by a form or query value; empty means the top level."""
    if not value:
        return None
    if not value.isdigit():
        raise ApplicationError("Choose a valid folder.", code="folder_invalid")
    return get_for_tenant_or_404(BrandFolder.objects.all(), tenant=request.tenant, pk=int(value))


def _library_url(folder: BrandFolder | None) -> str:
    url = reverse("assets:library")
    return f"{url}?folder={folder.pk}" if folder else url


def _post_links(posts: list[Post]) -> SafeString:
    return format_html_join(
        ", ",
        '<a href="{}">{}</a> ({})',
        ((reverse("posts:detail", args=[p.pk]), p, p.get_status_display().lower()) for p in posts),
    )


def _in_use_message(exc: services.AssetInUse | services.FolderAssetsInUse) -> SafeString:
    """The refusal, with a link to each post that is in the way."""
    if isinstance(exc, services.AssetInUse):
        return format_html("{} Posts: {}.", exc.message, _post_links(exc.posts))
    images_in_use = format_html_join(
        "; ", "“{}”: {}", ((a.original_filename, _post_links(posts)) for a, posts in exc.assets)
    )
    return format_html("{} {}.", exc.message, images_in_use)


@tenant_required()
@require_GET
def library(request: TenantRequest) -> HttpResponse:
    folder_param = request.GET.get("folder", "")
    folder = _folder_from(request, folder_param) if folder_param.isdigit() else None
    query = request.GET.get("q", "").strip()[:100]
    tag = request.GET.get("tag", "").strip()[:50]
    searching = bool(query or tag)
    assets = selectors.asset_list(
        tenant=request.tenant,
        folder=folder,
        top_level_only=not searching and folder is None,
        query=query,
        tag=tag,
    )
    page = Paginator(assets, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "assets/library.html",
        {
            "folder": folder,
            "folders": selectors.folder_tree(tenant=request.tenant),
            "subfolders": BrandFolder.objects.for_tenant(request.tenant).filter(parent=folder),
            "page": page,
            "query": query,
            "tag": tag,
            "tags": selectors.tag_list(tenant=request.tenant),
            "searching": searching,
            "max_upload_mb": settings.ASSET_MAX_UPLOAD_BYTES // (1024 * 1024),
            "max_video_mb": settings.ASSET_VIDEO_MAX_BYTES // (1024 * 1024),
            "max_video_minutes": settings.ASSET_VIDEO_MAX_SECONDS // 60,
            "upload_chunk_bytes": settings.ASSET_UPLOAD_CHUNK_MAX_BYTES,
        },
    )


def _upload_answer(result: services.UploadResult) -> dict[str, Any]:
    asset = result.asset
    return {
        "status": "duplicate" if result.duplicate else "created",
        "message": (
            f"Already in the library as “{asset.original_filename}”: not stored twice."
            if result.duplicate
            else f"“{asset.original_filename}” is back in the library."
            if result.restored
            else f"Uploaded “{asset.original_filename}”: processing the video…"
            if asset.status == BrandAsset.Status.PROCESSING
            else f"Uploaded “{asset.original_filename}”."
        ),
        "asset": {
            "id": asset.pk,
            "name": asset.original_filename,
            "url": reverse("assets:detail", args=[asset.pk]),
            "thumbnail": reverse("assets:thumbnail", args=[asset.pk]),
            "kind": asset.kind,
            "status": asset.status,
        },
    }


@tenant_required(roles=EDITING_ROLES)
@require_POST
def upload(request: TenantRequest) -> HttpResponse:
    """One or more files. The page's script sends one file per request and shows each one's
    progress; without JavaScript the form posts them all and the page lists what happened."""
    wants_json = "application/json" in request.headers.get("Accept", "")
    files = request.FILES.getlist("files")
    try:
        folder = _folder_from(request, request.POST.get("folder"))
        if not files:
            raise ApplicationError("Choose at least one photo or video to upload.", code="no_file")
    except ApplicationError as exc:
        if wants_json:
            return JsonResponse({"status": "rejected", "message": exc.message}, status=400)
        messages.error(request, exc.message)
        return redirect(_library_url(None))
    answers: list[dict[str, Any]] = []
    for uploaded in files:
        name = images.safe_filename(uploaded.name or "image")
        try:
            # The service reads the type from the first bytes and checks the size against the
            # image or the video limit before reading anything more.
            result = services.asset_upload_file(
                actor=request.membership,
                file=uploaded,
                size=uploaded.size or 0,
                filename=name,
                folder=folder,
                tags=services.parse_tags(request.POST.get("tags", "")),
            )
        except ApplicationError as exc:
            answers.append(
                {
                    "status": "rejected",
                    "name": name,
                    "code": exc.code,
                    "message": f"{name}: {exc.message}",
                }
            )
        else:
            answers.append({"name": name, **_upload_answer(result)})
    if wants_json:
        status = 400 if all(a["status"] == "rejected" for a in answers) else 200
        return JsonResponse(
            answers[0] if len(answers) == 1 else {"results": answers}, status=status
        )
    for answer in answers:
        level = (
            messages.ERROR
            if answer["status"] == "rejected"
            else (messages.INFO if answer["status"] == "duplicate" else messages.SUCCESS)
        )
        messages.add_message(request, level, answer["message"])
    return redirect(_library_url(folder))


@tenant_required()
@require_http_methods(["GET", "POST"])
def detail(request: TenantRequest, brand_asset_id: int) -> HttpResponse:
    asset = get_for_tenant_or_404(
        BrandAsset.objects.in_library().select_related("folder").prefetch_related("tags"),
        tenant=request.tenant,
        pk=brand_asset_id,
    )
    folders = BrandFolder.objects.for_tenant(request.tenant)
    initial = {
        "name": asset.original_filename,
        "alt_text": asset.alt_text,
        "tags": ", ".join(t.name for t in asset.tags.all()),
        "folder": asset.folder,
    }
    form = AssetEditForm(request.POST or None, initial=initial, folders=folders)
    if request.method == "POST":
        if not request.membership.can_edit:
            messages.error(request, "Viewers cannot change the asset library.")
            return redirect("assets:detail", brand_asset_id=asset.pk)
        if form.is_valid():
            try:
                services.asset_update(
                    actor=request.membership,
                    asset=asset,
                    name=form.cleaned_data["name"],
                    alt_text=form.cleaned_data["alt_text"],
                    tags=form.cleaned_data["tags"],
                    folder=form.cleaned_data["folder"],
                )
            except ApplicationError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, "Saved.")
                return redirect("assets:detail", brand_asset_id=asset.pk)
    return render(
        request,
        "assets/detail.html",
        {
            "asset": asset,
            "form": form,
            "instagram_problems": services.asset_rendition_problems(asset=asset),
            "video_warnings": services.asset_video_warnings(asset=asset),
        },
        status=400 if form.errors else 200,
    )


@tenant_required(roles=EDITING_ROLES)
@require_POST
def public_link(request: TenantRequest, brand_asset_id: int) -> HttpResponse:
    """Make a signed, expiring link to the Instagram-ready JPEG (what Meta is given)."""
    asset = get_for_tenant_or_404(
        BrandAsset.objects.in_library(), tenant=request.tenant, pk=brand_asset_id
    )
    if asset.is_video:
        messages.error(request, "Video posts are not available yet, so videos have no public link.")
        return redirect("assets:detail", brand_asset_id=asset.pk)
    url = media_urls.public_url(asset=asset, variant="instagram")
    messages.info(
        request,
        f"Public link (expires in {settings.SIGNED_MEDIA_URL_TTL_SECONDS // 3600} h): {url}",
    )
    return redirect("assets:detail", brand_asset_id=asset.pk)


@tenant_required(roles=EDITING_ROLES)
@require_POST
def delete(request: TenantRequest, brand_asset_id: int) -> HttpResponse:
    asset = get_for_tenant_or_404(
        BrandAsset.objects.in_library(), tenant=request.tenant, pk=brand_asset_id
    )
    folder = asset.folder
    try:
        result = services.asset_delete(actor=request.membership, asset=asset)
    except services.AssetInUse as exc:
        messages.error(request, _in_use_message(exc))
        return redirect("assets:detail", brand_asset_id=asset.pk)
    if result.kept_for_history:
        messages.success(
            request,
            f"Deleted “{asset.original_filename}” from the library; the posts that went out "
            "with it still show it.",
        )
    else:
        messages.success(request, f"Deleted “{asset.original_filename}”.")
    return redirect(_library_url(folder))


def thumbnail_content_type(asset: BrandAsset) -> str:
    return "image/webp" if asset.thumbnail.name.endswith(".webp") else "image/jpeg"


def serve_file(
    name: str, content_type: str, *, request: HttpRequest | None = None
) -> HttpResponseBase:
    """A stored file as a response (or a redirect to the object store's presigned URL, which
    answers ranges itself). Given the ``request``, a ``Range`` is answered 206 (or 416) and a
    ``HEAD`` gets the headers only (apps/assets/byte_ranges.py); the body is always streamed."""
    if media_urls.uses_presigned_urls():
        return redirect(default_storage.url(name))
    if request is None:
        response: HttpResponseBase = FileResponse(
            default_storage.open(name, "rb"), content_type=content_type
        )
    else:
        response = _ranged_response(request, name, content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'"
    return response


def _ranged_response(request: HttpRequest, name: str, content_type: str) -> HttpResponseBase:
    size = default_storage.size(name)
    header = None if "HTTP_IF_RANGE" in request.META else request.META.get("HTTP_RANGE")
    try:
        wanted = byte_ranges.parse_range(header, size=size)
    except byte_ranges.Unsatisfiable:
        refused = HttpResponse(status=416, content_type="text/plain")
        refused["Content-Range"] = f"bytes */{size}"
        refused["Accept-Ranges"] = "bytes"
        return refused
    status, start, length = (200, 0, size) if wanted is None else (206, wanted.start, wanted.length)
    response: HttpResponseBase
    if request.method == "HEAD":
        response = HttpResponse(status=status, content_type=content_type)
    else:
        response = StreamingHttpResponse(
            byte_ranges.stream(default_storage.open(name, "rb"), start=start, length=length),
            status=status,
            content_type=content_type,
        )
    response["Content-Length"] = str(length)
    response["Accept-Ranges"] = "bytes"
    if wanted is not None:
        response["Content-Range"] = wanted.content_range(size)
    return response


@tenant_required()
@require_safe
def file(request: TenantRequest, brand_asset_id: int) -> HttpResponseBase:
    asset = get_for_tenant_or_404(
        BrandAsset.objects.all(), tenant=request.tenant, pk=brand_asset_id
    )
    response = serve_file(asset.file.name, asset.content_type, request=request)
    response["Cache-Control"] = "private, max-age=3600"
    return response


@tenant_required()
@require_GET
def thumbnail(request: TenantRequest, brand_asset_id: int) -> HttpResponseBase:
    asset = get_for_tenant_or_404(
        BrandAsset.objects.all(), tenant=request.tenant, pk=brand_asset_id
    )
    if not asset.thumbnail.name:  # a video not probed yet, or one that failed: no poster
        raise Http404("No poster frame yet.")
    response = serve_file(asset.thumbnail.name, thumbnail_content_type(asset))
    response["Cache-Control"] = "private, max-age=86400"
    return response


@never_cache
@require_safe
def public_media(request: HttpRequest, token: str, filename: str) -> HttpResponseBase:
    """Anonymous: what Meta fetches. A forged, altered or expired token is a bare 403."""
    media = media_urls.read_token(token)
    asset = BrandAsset.objects.filter(pk=media.asset_id).first() if media else None
    if media is None or asset is None:
        return HttpResponseForbidden(
            "This link is not valid or has expired.", content_type="text/plain"
        )
    if media.variant == "instagram":
        return serve_file(
            services.asset_instagram_rendition(asset=asset), "image/jpeg", request=request
        )
    if media.variant == media_urls.VIDEO_VARIANT:
        name, content_type = services.asset_video_file(asset=asset)
        return serve_file(name, content_type, request=request)
    return serve_file(asset.file.name, asset.content_type, request=request)


# --- Folders ----------------------------------------------------------------------------------


@tenant_required(roles=EDITING_ROLES)
@require_POST
def folder_create(request: TenantRequest) -> HttpResponse:
    parent = None
    try:
        parent = _folder_from(request, request.POST.get("parent"))
        folder = services.folder_create(
            actor=request.membership, name=request.POST.get("name", ""), parent=parent
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect(_library_url(parent))
    messages.success(request, f"Folder “{folder.name}” created.")
    return redirect(_library_url(folder))


@tenant_required(roles=EDITING_ROLES)
@require_POST
def folder_rename(request: TenantRequest, brand_folder_id: int) -> HttpResponse:
    folder = get_for_tenant_or_404(
        BrandFolder.objects.all(), tenant=request.tenant, pk=brand_folder_id
    )
    try:
        services.folder_rename(
            actor=request.membership, folder=folder, name=request.POST.get("name", "")
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Renamed to “{folder.name}”.")
    return redirect(_library_url(folder))


@tenant_required(roles=EDITING_ROLES)
@require_POST
def folder_move(request: TenantRequest, brand_folder_id: int) -> HttpResponse:
    folder = get_for_tenant_or_404(
        BrandFolder.objects.all(), tenant=request.tenant, pk=brand_folder_id
    )
    try:
        parent = _folder_from(request, request.POST.get("parent"))
        services.folder_move(actor=request.membership, folder=folder, parent=parent)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Moved “{folder.name}”.")
    return redirect(_library_url(folder))


@tenant_required(roles=EDITING_ROLES)
@require_http_methods(["GET", "POST"])
def folder_delete(request: TenantRequest, brand_folder_id: int) -> HttpResponse:
    folder = get_for_tenant_or_404(
        BrandFolder.objects.all(), tenant=request.tenant, pk=brand_folder_id
    )
    asset_count = BrandAsset.objects.in_library().filter(folder=folder).count()
    subfolder_count = BrandFolder.objects.filter(parent=folder).count()
    empty = not asset_count and not subfolder_count
    form = FolderDeleteForm(request.POST or None)
    if request.method == "POST" and (empty or form.is_valid()):
        mode = services.FolderDeleteMode.REFUSE if empty else form.cleaned_data["mode"]
        parent = folder.parent
        try:
            deleted = services.folder_delete(actor=request.membership, folder=folder, mode=mode)
        except services.FolderAssetsInUse as exc:
            messages.error(request, _in_use_message(exc))
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            extra = f" and {deleted} image(s) in it" if deleted else ""
            messages.success(request, f"Deleted folder “{folder.name}”{extra}.")
            return redirect(_library_url(parent))
    return render(
        request,
        "assets/folder_delete.html",
        {
            "folder": folder,
            "form": form,
            "asset_count": asset_count,
            "subfolder_count": subfolder_count,
            "empty": empty,
        },
    )
