"""Writes for the asset library: folders, uploads, edits, deletions, Instagram renditions.

Files and rows move together: a file is written to storage before its row, and deleted again
when the row cannot be written; a row's files are deleted only after its deletion commits.
Nothing is ever left orphaned on either side.
"""

import hashlib
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import IO, Any

import structlog
from django.conf import settings
from django.core.files.base import ContentFile, File
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.db.models.functions import Lower
from django.utils import timezone

from apps.accounts.models import Membership, Tenant
from apps.assets import images, videos
from apps.assets.models import BrandAsset, BrandFolder, Tag
from apps.core.exceptions import ApplicationError, Conflict, NotPermitted
from apps.core.models import TenantOwnedModel
from apps.core.queueing import task_queue_on_commit
from apps.networks import registry
from apps.networks.base import ImageRules
from apps.posts.models import Post, PostAsset

logger = structlog.get_logger(__name__)

MAX_TAGS = 20


def _require_editor(actor: Membership) -> None:
    if not actor.can_edit:
        raise NotPermitted("Viewers cannot change the asset library.")


# --- Folders ----------------------------------------------------------------------------------


def _clean_folder_name(name: str) -> str:
    name = " ".join(images.safe_filename(name).split()) if name.strip() else ""
    if not name:
        raise ApplicationError("Give the folder a name.", code="name_required")
    if "/" in name or "\\" in name:
        raise ApplicationError("A folder name cannot contain slashes.", code="name_invalid")
    return name[:100]


def _check_sibling_name(
    tenant: Tenant, parent: BrandFolder | None, name: str, exclude: int | None = None
) -> None:
    siblings = BrandFolder.objects.for_tenant(tenant).filter(parent=parent)
    if exclude is not None:
        siblings = siblings.exclude(pk=exclude)
    if siblings.annotate(lname=Lower("name")).filter(lname=name.lower()).exists():
        where = f"in “{parent.name}”" if parent else "at the top level"
        raise ApplicationError(
            f"A folder named “{name}” already exists {where}.", code="name_taken"
        )


def _check_same_tenant(tenant: Tenant, obj: TenantOwnedModel | None) -> None:
    if obj is not None and obj.tenant_id != tenant.pk:
        raise NotPermitted("That belongs to another business.")


def folder_create(*, actor: Membership, name: str, parent: BrandFolder | None) -> BrandFolder:
    _require_editor(actor)
    _check_same_tenant(actor.tenant, parent)
    name = _clean_folder_name(name)
    _check_sibling_name(actor.tenant, parent, name)
    try:
        with transaction.atomic():
            return BrandFolder.objects.create(
                tenant=actor.tenant, name=name, parent=parent, created_by=actor.user
            )
    except IntegrityError as exc:
        raise ApplicationError(
            f"A folder named “{name}” already exists there.", code="name_taken"
        ) from exc


def folder_rename(*, actor: Membership, folder: BrandFolder, name: str) -> BrandFolder:
    _require_editor(actor)
    _check_same_tenant(actor.tenant, folder)
    name = _clean_folder_name(name)
    _check_sibling_name(actor.tenant, folder.parent, name, exclude=folder.pk)
    folder.name = name
    try:
        with transaction.atomic():
            folder.save(update_fields=["name"])
    except IntegrityError as exc:
        raise ApplicationError(
            f"A folder named “{name}” already exists there.", code="name_taken"
        ) from exc
    return folder


def _ancestors(folder: BrandFolder | None) -> list[int]:
    seen: list[int] = []
    while folder is not None:
        seen.append(folder.pk)
        folder = folder.parent
    return seen


def folder_move(
    *, actor: Membership, folder: BrandFolder, parent: BrandFolder | None
) -> BrandFolder:
    """Move a folder under another (or to the top). A folder cannot move into itself or into one
    of its own sub-folders."""
    _require_editor(actor)
    _check_same_tenant(actor.tenant, folder)
    _check_same_tenant(actor.tenant, parent)
    if folder.pk in _ancestors(parent):
        raise ApplicationError(
            "A folder cannot be moved into itself or into one of its sub-folders.", code="cycle"
        )
    _check_sibling_name(actor.tenant, parent, folder.name, exclude=folder.pk)
    folder.parent = parent
    with transaction.atomic():
        folder.save(update_fields=["parent"])
    return folder


class FolderDeleteMode:
    REFUSE = "refuse"  # only an empty folder is deleted
    MOVE_TO_PARENT = "move_to_parent"  # contents move up one level
    DELETE_CONTENTS = "delete_contents"  # sub-folders and assets are deleted, files too


def _subtree(folder: BrandFolder) -> list[BrandFolder]:
    """The folder and all folders below it, deepest first."""
    order: list[BrandFolder] = []
    stack = [folder]
    while stack:
        current = stack.pop()
        order.append(current)
        stack.extend(BrandFolder.objects.filter(parent=current))
    return list(reversed(order))


def folder_delete(*, actor: Membership, folder: BrandFolder, mode: str) -> int:
    """Delete a folder. Its contents are refused, moved up, or deleted as ``mode`` says; no file
    is ever orphaned. Deleting the contents follows :func:`asset_delete`'s rules for each image
    and refuses as a whole (nothing changes) when any of them is refused. Returns the number of
    images that left the library."""
    _require_editor(actor)
    _check_same_tenant(actor.tenant, folder)
    if mode not in (
        FolderDeleteMode.REFUSE,
        FolderDeleteMode.MOVE_TO_PARENT,
        FolderDeleteMode.DELETE_CONTENTS,
    ):
        raise ApplicationError("Choose what happens to the folder's contents.", code="mode_invalid")
    with transaction.atomic():
        folder = BrandFolder.objects.select_for_update().get(pk=folder.pk)
        has_children = BrandFolder.objects.filter(parent=folder).exists()
        has_assets = BrandAsset.objects.in_library().filter(folder=folder).exists()
        if mode == FolderDeleteMode.REFUSE and (has_children or has_assets):
            raise ApplicationError(
                f"“{folder.name}” is not empty. Move its contents up, or delete them with it.",
                code="not_empty",
            )
        deleted = 0
        if mode == FolderDeleteMode.MOVE_TO_PARENT:
            for child in BrandFolder.objects.filter(parent=folder):
                _check_sibling_name(actor.tenant, folder.parent, child.name, exclude=child.pk)
            BrandFolder.objects.filter(parent=folder).update(parent=folder.parent)
            BrandAsset.objects.filter(folder=folder).update(folder=folder.parent)
            folder.delete()
        else:
            nodes = _subtree(folder)
            assets = _locked_assets(BrandAsset.objects.filter(folder__in=nodes))
            blocked = _blocking_uses(assets)
            if blocked:
                raise FolderAssetsInUse(folder, [a for a in assets if a.pk in blocked], blocked)
            deleted = sum(1 for a in assets if a.removed_at is None)
            _delete_or_remove(assets)
            for node in nodes:
                node.delete()
    logger.info("folder_deleted", folder_id=folder.pk, mode=mode, assets_deleted=deleted)
    return deleted


# --- Tags -------------------------------------------------------------------------------------


def parse_tags(text: str | Iterable[str]) -> list[str]:
    """Tags from a comma-separated string (or a list): trimmed, without '#', unique ignoring
    case, at most 20, each at most 50 characters."""
    raw = text.split(",") if isinstance(text, str) else list(text)
    tags: dict[str, str] = {}
    for item in raw:
        tag = " ".join(str(item).strip().lstrip("#").split())[:50]
        if tag:
            tags.setdefault(tag.lower(), tag)
    if len(tags) > MAX_TAGS:
        raise ApplicationError(f"At most {MAX_TAGS} tags per image.", code="too_many_tags")
    return list(tags.values())


def _set_tags(asset: BrandAsset, names: list[str]) -> None:
    tags = []
    for name in names:
        tag = Tag.objects.filter(tenant_id=asset.tenant_id, name__iexact=name).first()
        tags.append(tag or Tag.objects.create(tenant_id=asset.tenant_id, name=name))
    asset.tags.set(tags)


# --- Assets -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class UploadResult:
    asset: BrandAsset
    duplicate: bool  # the same bytes were already in the library: nothing new was stored
    restored: bool = False  # the same bytes had been removed from the library: back in it


def _restore(
    asset: BrandAsset, folder: BrandFolder | None, alt_text: str, tag_names: list[str]
) -> BrandAsset:
    """Bring a removed asset back into the library, where and as it is uploaded again."""
    with transaction.atomic():
        asset = BrandAsset.objects.select_for_update().get(pk=asset.pk)
        asset.removed_at = None
        asset.folder = folder
        if alt_text.strip():
            asset.alt_text = alt_text.strip()[:500]
        asset.save(update_fields=["removed_at", "folder", "alt_text"])
        if tag_names:
            _set_tags(asset, tag_names)
    logger.info("asset_restored", asset_id=asset.pk)
    return asset


def _save_file(path: str, content: bytes) -> str:
    return default_storage.save(path, ContentFile(content))


def asset_upload(
    *,
    actor: Membership,
    data: bytes,
    filename: str,
    folder: BrandFolder | None = None,
    alt_text: str = "",
    tags: Iterable[str] = (),
) -> UploadResult:
    """Check, clean and store an uploaded image; the same bytes uploaded again are pointed out and
    not stored twice. Raises ``images.ImageRejected`` with a clear message for bad files."""
    _require_editor(actor)
    tenant = actor.tenant
    _check_same_tenant(tenant, folder)
    tag_names = parse_tags(tags)
    processed = images.process_upload(
        data, max_bytes=settings.ASSET_MAX_UPLOAD_BYTES, max_pixels=settings.ASSET_MAX_PIXELS
    )
    existing = BrandAsset.objects.for_tenant(tenant).filter(sha256=processed.sha256).first()
    if existing is not None and existing.removed_at is not None:
        return UploadResult(
            asset=_restore(existing, folder, alt_text, tag_names), duplicate=False, restored=True
        )
    if existing is not None:
        return UploadResult(asset=existing, duplicate=True)
    namespace = f"t{tenant.pk}"
    thumb_ext = "webp" if processed.thumbnail_content_type == "image/webp" else "jpg"
    stored: list[str] = []
    try:
        stored.append(
            _save_file(
                images.storage_name(processed.sha256, processed.extension, namespace=namespace),
                processed.content,
            )
        )
        stored.append(
            _save_file(
                images.storage_name(
                    processed.sha256, thumb_ext, namespace=namespace, variant="thumb"
                ),
                processed.thumbnail,
            )
        )
        with transaction.atomic():
            asset = BrandAsset.objects.create(
                tenant=tenant,
                folder=folder,
                file=stored[0],
                thumbnail=stored[1],
                original_filename=images.safe_filename(filename),
                content_type=processed.content_type,
                size=processed.size,
                width=processed.width,
                height=processed.height,
                sha256=processed.sha256,
                alt_text=alt_text.strip()[:500],
                metadata={
                    "original_format": processed.original_format,
                    "metadata_removed": processed.had_metadata,
                    "location_removed": processed.had_location,
                    "uploaded_size": len(data),
                },
                uploaded_by=actor.user,
            )
            _set_tags(asset, tag_names)
    except IntegrityError:
        # The same bytes won a race from another request: keep that one, drop our files.
        _delete_files(stored)
        existing = BrandAsset.objects.for_tenant(tenant).filter(sha256=processed.sha256).first()
        if existing is None:
            raise
        return UploadResult(asset=existing, duplicate=True)
    except BaseException:
        _delete_files(stored)
        raise
    logger.info("asset_uploaded", asset_id=asset.pk, size=asset.size)
    return UploadResult(asset=asset, duplicate=False)


def asset_upload_file(
    *,
    actor: Membership,
    file: IO[bytes],
    size: int,
    filename: str,
    folder: BrandFolder | None = None,
    alt_text: str = "",
    tags: Iterable[str] = (),
) -> UploadResult:
    """An uploaded file, image or video as its bytes say (never its name): a video goes to
    :func:`asset_video_upload`, anything else to :func:`asset_upload` (read into memory only
    after its size was checked against the image limit)."""
    head = file.read(videos.SNIFF_BYTES)
    file.seek(0)
    if videos.sniff(head) is not None:
        return asset_video_upload(
            actor=actor,
            file=file,
            size=size,
            filename=filename,
            folder=folder,
            alt_text=alt_text,
            tags=tags,
        )
    images.check_upload_size(size, max_bytes=settings.ASSET_MAX_UPLOAD_BYTES)
    try:
        return asset_upload(
            actor=actor,
            data=file.read(),
            filename=filename,
            folder=folder,
            alt_text=alt_text,
            tags=tags,
        )
    except images.ImageRejected as exc:
        if exc.code != images.RejectionCode.NOT_AN_IMAGE:
            raise
        raise images.ImageRejected(
            exc.message.replace(
                "Upload a photo or picture in JPEG, PNG, WebP or GIF format.",
                "Upload a photo (JPEG, PNG, WebP or GIF) or a video (MP4 or MOV).",
            ),
            code=exc.code,
            extra=exc.extra,
        ) from exc


def _sha256_of(file: IO[bytes]) -> str:
    digest = hashlib.sha256()
    file.seek(0)
    for chunk in iter(lambda: file.read(1024 * 1024), b""):
        digest.update(chunk)
    file.seek(0)
    return digest.hexdigest()


def asset_video_upload(
    *,
    actor: Membership,
    file: IO[bytes],
    size: int,
    filename: str,
    folder: BrandFolder | None = None,
    alt_text: str = "",
    tags: Iterable[str] = (),
) -> UploadResult:
    """Check and store an uploaded video as it is, ``processing``, and queue its probe (on
    commit). Only what is cheap is checked here — type from the bytes, size, a file cut short,
    the length its header declares; the probe does the rest. Raises ``videos.VideoRejected``,
    and then nothing is stored."""
    _require_editor(actor)
    tenant = actor.tenant
    _check_same_tenant(tenant, folder)
    tag_names = parse_tags(tags)
    videos.check_size(size, max_bytes=settings.ASSET_VIDEO_MAX_BYTES)
    content_type = videos.sniff(file.read(videos.SNIFF_BYTES))
    file.seek(0)
    if content_type is None:
        raise videos.VideoRejected(
            "This is not a video that can be read. Upload an MP4 or MOV video.",
            code=videos.VideoRejectionCode.NOT_A_VIDEO,
        )
    declared = videos.check_structure(file, size=size, max_seconds=settings.ASSET_VIDEO_MAX_SECONDS)
    sha256 = _sha256_of(file)
    existing = BrandAsset.objects.for_tenant(tenant).filter(sha256=sha256).first()
    if existing is not None and existing.removed_at is not None:
        return UploadResult(
            asset=_restore(existing, folder, alt_text, tag_names), duplicate=False, restored=True
        )
    if existing is not None:
        return UploadResult(asset=existing, duplicate=True)
    name = images.storage_name(sha256, videos.EXTENSIONS[content_type], namespace=f"t{tenant.pk}")
    stored: list[str] = []
    try:
        stored.append(default_storage.save(name, File(file)))
        with transaction.atomic():
            asset = BrandAsset.objects.create(
                tenant=tenant,
                folder=folder,
                kind=BrandAsset.Kind.VIDEO,
                status=BrandAsset.Status.PROCESSING,
                file=stored[0],
                original_filename=images.safe_filename(filename),
                content_type=content_type,
                size=size,
                sha256=sha256,
                duration=declared,
                alt_text=alt_text.strip()[:500],
                metadata={"uploaded_size": size},
                uploaded_by=actor.user,
            )
            _set_tags(asset, tag_names)
            task_queue_on_commit("assets.video_probe", asset.pk)
    except IntegrityError:
        _delete_files(stored)
        existing = BrandAsset.objects.for_tenant(tenant).filter(sha256=sha256).first()
        if existing is None:
            raise
        return UploadResult(asset=existing, duplicate=True)
    except BaseException:
        _delete_files(stored)
        raise
    logger.info("asset_video_uploaded", asset_id=asset.pk, size=size)
    return UploadResult(asset=asset, duplicate=False)


def asset_video_probe(*, asset_id: int) -> BrandAsset | None:
    """The probe job: read a ``processing`` video's facts and poster frame, then mark it
    ``ready`` — or ``failed`` with the reason when FFmpeg cannot read it or it is too long.
    Idempotent: a video no longer processing (or deleted) is left alone."""
    asset = BrandAsset.objects.filter(
        pk=asset_id, kind=BrandAsset.Kind.VIDEO, status=BrandAsset.Status.PROCESSING
    ).first()
    if asset is None:
        return None
    # The probe reads the file outside any transaction (it can take a while).
    try:
        with default_storage.open(asset.file.name, "rb") as source:
            probe = videos.probe(source, max_seconds=settings.ASSET_VIDEO_MAX_SECONDS)
    except videos.VideoRejected as exc:
        return _video_failed(asset_id, exc.message)
    except OSError:
        logger.exception("asset_video_probe_read_failed", asset_id=asset_id)
        return _video_failed(asset_id, "The stored video could not be read. Upload it again.")
    poster = _save_file(
        images.storage_name(asset.sha256, "jpg", namespace=f"t{asset.tenant_id}", variant="poster"),
        probe.poster,
    )
    with transaction.atomic():
        locked = (
            BrandAsset.objects.select_for_update()
            .filter(pk=asset_id, status=BrandAsset.Status.PROCESSING)
            .first()
        )
        if locked is None:  # deleted or finished meanwhile: our poster is nobody's
            transaction.on_commit(lambda: _delete_files([poster]))
            return None
        locked.status = BrandAsset.Status.READY
        locked.failure_reason = ""
        locked.thumbnail = poster
        locked.duration = probe.duration
        locked.width = probe.width
        locked.height = probe.height
        locked.frame_rate = probe.frame_rate
        locked.video_codec = probe.video_codec
        locked.audio_codec = probe.audio_codec
        locked.bitrate = probe.bitrate
        locked.metadata = {**locked.metadata, "rotation": probe.rotation}
        if _transcode_reasons(locked):
            locked.transcode_status = BrandAsset.Transcode.CONVERTING
            locked.transcode_progress = 0
            task_queue_on_commit("assets.video_transcode", asset_id)
        locked.save()
    logger.info(
        "asset_video_probed",
        asset_id=asset_id,
        duration=probe.duration,
        transcode=locked.transcode_status == BrandAsset.Transcode.CONVERTING,
    )
    return locked


def _transcode_reasons(asset: BrandAsset) -> list[str]:
    return videos.transcode_reasons(
        registry.video_rules(),
        content_type=asset.content_type,
        frame_rate=asset.frame_rate,
        video_codec=asset.video_codec,
        audio_codec=asset.audio_codec,
        size=asset.size,
    )


# A worker killed mid-conversion (e.g. out of memory) is redelivered (acks late); after this
# many starts the conversion is given up instead of crashing workers forever. More than the
# task's retries of storage errors (apps/assets/tasks.py), which are starts too.
TRANSCODE_MAX_ATTEMPTS = 5
PROGRESS_STEP = 5  # percent between two progress writes


def asset_video_transcode(*, asset_id: int) -> BrandAsset | None:
    """The conversion job: re-encode a ``converting`` video as the H.264/AAC MP4 rendition
    (``videos.transcode``), writing its progress every 5 %, then mark it ``done`` with the
    rendition's probed facts — or ``failed`` with the reason when FFmpeg cannot read it.
    Idempotent: anything not converting (or deleted) is left alone. The rendition is made in a
    temporary file and stored only once complete; the row names it only after that, so an
    interrupted run leaves nothing visible (and the next run deletes what it left in storage).
    Storage errors (``OSError``) propagate for the task to retry."""
    asset = BrandAsset.objects.filter(
        pk=asset_id,
        kind=BrandAsset.Kind.VIDEO,
        status=BrandAsset.Status.READY,
        transcode_status=BrandAsset.Transcode.CONVERTING,
    ).first()
    if asset is None:
        return None
    if asset.transcode_attempts >= TRANSCODE_MAX_ATTEMPTS:
        return asset_video_transcode_failed(
            asset_id=asset_id,
            reason=f"The conversion was interrupted {asset.transcode_attempts} times "
            "(the video may be too demanding for the server). Export it as MP4 (H.264 video, "
            "AAC sound, at most 1080p and 60 fps) and upload that.",
        )
    BrandAsset.objects.filter(pk=asset_id).update(
        transcode_attempts=asset.transcode_attempts + 1, transcode_progress=0
    )
    name = images.storage_name(
        asset.sha256, "mp4", namespace=f"t{asset.tenant_id}", variant="video"
    )
    written = [0]

    def progress(percent: int) -> None:
        if percent >= written[0] + PROGRESS_STEP and percent < 100:
            written[0] = percent
            BrandAsset.objects.filter(
                pk=asset_id, transcode_status=BrandAsset.Transcode.CONVERTING
            ).update(transcode_progress=percent)

    all_rules = registry.video_rules()
    with tempfile.TemporaryDirectory(prefix="transcode-") as scratch:
        path = f"{scratch}/rendition.mp4"
        try:
            with default_storage.open(asset.file.name, "rb") as source:
                videos.transcode(source, path, all_rules=all_rules, on_progress=progress)
            with open(path, "rb") as result:
                probe = videos.probe(result, max_seconds=float("inf"))
        except videos.VideoRejected as exc:
            return asset_video_transcode_failed(
                asset_id=asset_id, reason=f"The video could not be converted: {exc.message}"
            )
        with open(path, "rb") as result:
            stored = default_storage.save(name, File(result))
        size = default_storage.size(stored)
    with transaction.atomic():
        locked = (
            BrandAsset.objects.select_for_update()
            .filter(pk=asset_id, transcode_status=BrandAsset.Transcode.CONVERTING)
            .first()
        )
        if locked is None:  # deleted or finished meanwhile: our rendition is nobody's
            transaction.on_commit(lambda: _delete_files([stored]))
            return None
        if stored != name:
            # The usual name was taken (storage gave ours a suffix): by a run killed while
            # storing it, or one racing us that will find the row done. No row names it.
            transaction.on_commit(lambda: _delete_files([name]))
        locked.video_rendition = stored
        locked.transcode_status = BrandAsset.Transcode.DONE
        locked.transcode_progress = 100
        locked.transcode_failure_reason = ""
        locked.rendition_facts = {
            "duration": probe.duration,
            "width": probe.width,
            "height": probe.height,
            "frame_rate": probe.frame_rate,
            "video_codec": probe.video_codec,
            "audio_codec": probe.audio_codec,
            "bitrate": probe.bitrate,
            "size": size,
        }
        locked.save(
            update_fields=[
                "video_rendition",
                "transcode_status",
                "transcode_progress",
                "transcode_failure_reason",
                "rendition_facts",
            ]
        )
    logger.info("asset_video_transcoded", asset_id=asset_id, size=size)
    return locked


def asset_video_transcode_failed(*, asset_id: int, reason: str) -> BrandAsset | None:
    """Give up a video's conversion: ``failed`` with ``reason`` (shown in the library). The
    video stays ready; the networks are sent the original, and its warnings say what they
    refuse of it. A video not converting is left alone."""
    with transaction.atomic():
        asset = (
            BrandAsset.objects.select_for_update()
            .filter(pk=asset_id, transcode_status=BrandAsset.Transcode.CONVERTING)
            .first()
        )
        if asset is None:
            return None
        asset.transcode_status = BrandAsset.Transcode.FAILED
        asset.transcode_failure_reason = reason[:500]
        asset.save(update_fields=["transcode_status", "transcode_failure_reason"])
    logger.info("asset_video_transcode_failed", asset_id=asset_id)
    return asset


def _video_failed(asset_id: int, reason: str) -> BrandAsset | None:
    with transaction.atomic():
        asset = (
            BrandAsset.objects.select_for_update()
            .filter(pk=asset_id, status=BrandAsset.Status.PROCESSING)
            .first()
        )
        if asset is None:
            return None
        asset.status = BrandAsset.Status.FAILED
        asset.failure_reason = reason[:500]
        asset.save(update_fields=["status", "failure_reason"])
    logger.info("asset_video_failed", asset_id=asset_id)
    return asset


def asset_video_warnings(*, asset: BrandAsset) -> list[str]:
    """What each network would refuse of the file it would be sent for a probed video (empty
    for an image, and until the video is ready): the rendition once converted, the original
    otherwise. While converting, what the conversion fixes (codecs, frame rate, bytes) is not
    warned about."""
    if not asset.is_video or asset.status != BrandAsset.Status.READY:
        return []
    all_rules = registry.video_rules()
    if asset.transcode_status == BrandAsset.Transcode.DONE and asset.rendition_facts:
        return videos.warnings_for(all_rules, **videos.sent_video_facts(asset))
    converting = asset.is_converting
    return videos.warnings_for(
        all_rules,
        duration=asset.duration,
        width=asset.width,
        height=asset.height,
        frame_rate=min(asset.frame_rate, videos.rendition_fps_cap(all_rules))
        if converting and asset.frame_rate
        else asset.frame_rate,
        video_codec="" if converting else asset.video_codec,
        audio_codec="" if converting else asset.audio_codec,
        size=0 if converting else asset.size,
    )


def asset_video_file(*, asset: BrandAsset) -> tuple[str, str]:
    """The storage name and content type of the file a network is sent for a video: the
    H.264/AAC rendition once converted, the original until then (or when not needed)."""
    if asset.transcode_status == BrandAsset.Transcode.DONE and asset.video_rendition.name:
        return asset.video_rendition.name, videos.RENDITION_CONTENT_TYPE
    return asset.file.name, asset.content_type


class _Keep:
    """The folder argument's default: leave the asset where it is."""


KEEP = _Keep()


def asset_update(
    *,
    actor: Membership,
    asset: BrandAsset,
    alt_text: str | None = None,
    tags: Iterable[str] | str | None = None,
    folder: BrandFolder | _Keep | None = KEEP,
    name: str | None = None,
) -> BrandAsset:
    """Change an asset's alt text, tags, folder (``None``: the top level) or display name."""
    _require_editor(actor)
    _check_same_tenant(actor.tenant, asset)
    fields: list[str] = []
    if alt_text is not None:
        asset.alt_text = alt_text.strip()[:500]
        fields.append("alt_text")
    if name is not None:
        asset.original_filename = images.safe_filename(name)
        fields.append("original_filename")
    if not isinstance(folder, _Keep):
        _check_same_tenant(actor.tenant, folder)
        asset.folder = folder
        fields.append("folder")
    tag_names = parse_tags(tags) if tags is not None else None
    with transaction.atomic():
        if fields:
            asset.save(update_fields=fields)
        if tag_names is not None:
            _set_tags(asset, tag_names)
    return asset


def _files_of(asset: BrandAsset) -> list[str]:
    return [
        f.name
        for f in (asset.file, asset.thumbnail, asset.instagram_rendition, asset.video_rendition)
        if f and f.name
    ]


def _delete_files(names: Iterable[str]) -> None:
    for name in names:
        try:
            default_storage.delete(name)
        except OSError:
            logger.warning("asset_file_delete_failed", path=name)


def asset_files_delete_on_commit(*, asset: BrandAsset) -> None:
    """Delete an asset's files once the deletion of its row commits (and not if it rolls back).

    Connected to ``post_delete``, so every way a row goes — a service, a folder, a cascade from
    a deleted tenant, the admin — takes its files along."""
    names = _files_of(asset)
    transaction.on_commit(lambda: _delete_files(names))


class AssetInUse(Conflict):
    """Posts that can still go out or be edited use the image: it cannot leave the library."""

    default_code = "asset_in_use"

    def __init__(self, asset: BrandAsset, posts: Sequence[Post]) -> None:
        count = f"{len(posts)} post{'s' if len(posts) != 1 else ''}"
        super().__init__(
            f"“{asset.original_filename}” is used by {count} that can still go out or be "
            "edited. Remove it from these posts first (or cancel them), then delete it.",
            extra={"posts": [_post_use(p) for p in posts]},
        )
        self.asset = asset
        self.posts = list(posts)


class FolderAssetsInUse(Conflict):
    """Some images of the folder are in :class:`AssetInUse`'s case: nothing is deleted."""

    default_code = "folder_assets_in_use"

    def __init__(
        self, folder: BrandFolder, assets: Sequence[BrandAsset], uses: dict[int, list[Post]]
    ) -> None:
        count = f"{len(assets)} image{'s' if len(assets) != 1 else ''}"
        super().__init__(
            f"“{folder.name}” was not deleted: {count} in it "
            f"{'are' if len(assets) != 1 else 'is'} used by posts that can still go out or be "
            "edited. Remove them from these posts first (or move them out of the folder).",
            extra={
                "assets": [
                    {
                        "id": a.pk,
                        "name": a.original_filename,
                        "posts": [_post_use(p) for p in uses[a.pk]],
                    }
                    for a in assets
                ]
            },
        )
        self.folder = folder
        self.assets = [(a, uses[a.pk]) for a in assets]


def _post_use(post: Post) -> dict[str, Any]:
    return {
        "id": post.pk,
        "status": post.status,
        "scheduled_for": post.scheduled_for.isoformat().replace("+00:00", "Z")
        if post.scheduled_for
        else None,
    }


def _locked_assets(assets: QuerySet[BrandAsset]) -> list[BrandAsset]:
    """The assets, locked in primary-key order (so two deletions cannot deadlock)."""
    return list(assets.select_for_update().order_by("pk"))


def _blocking_uses(assets: Sequence[BrandAsset]) -> dict[int, list[Post]]:
    """For each asset, the posts using it that are not finished, by asset id."""
    uses: dict[int, list[Post]] = {}
    rows = (
        PostAsset.objects.filter(asset__in=assets)
        .exclude(post__status__in=Post.FINISHED)
        .select_related("post")
        .order_by("asset_id", "post_id")
    )
    for row in rows:
        uses.setdefault(row.asset_id, []).append(row.post)
    return uses


def _delete_or_remove(assets: Sequence[BrandAsset]) -> list[BrandAsset]:
    """Delete each asset (files too) that no post uses; remove from the library those that
    finished posts use (row and files stay for their history, outside any folder). Returns the
    removed ones. The caller has checked that no unfinished post uses them, under lock."""
    used = set(PostAsset.objects.filter(asset__in=assets).values_list("asset_id", flat=True))
    removed = [a for a in assets if a.pk in used]
    now = timezone.now()
    for asset in removed:
        asset.removed_at = asset.removed_at or now
        asset.folder = None
        asset.save(update_fields=["removed_at", "folder"])
    for asset in assets:
        if asset.pk not in used:
            asset.delete()
    return removed


@dataclass(frozen=True)
class DeleteResult:
    # True: finished posts use the image; it left the library, its row and files stay.
    kept_for_history: bool


def asset_delete(*, actor: Membership, asset: BrandAsset) -> DeleteResult:
    """Delete an image from the library. Refused (:class:`AssetInUse`, nothing changes) while a
    post that can still go out or be edited uses it; used only by finished posts, it is removed
    from the library but kept for their history; otherwise its row and files are deleted."""
    _require_editor(actor)
    _check_same_tenant(actor.tenant, asset)
    with transaction.atomic():
        locked = _locked_assets(BrandAsset.objects.filter(pk=asset.pk))
        if not locked:
            raise BrandAsset.DoesNotExist
        blocked = _blocking_uses(locked)
        if blocked:
            raise AssetInUse(locked[0], blocked[locked[0].pk])
        removed = _delete_or_remove(locked)
    logger.info("asset_deleted", asset_id=asset.pk, kept_for_history=bool(removed))
    return DeleteResult(kept_for_history=bool(removed))


# The one network rendition an asset keeps (BrandAsset.instagram_rendition); its rules are the
# network's that asks for this variant (Instagram's image rules, apps/networks/instagram).
RENDITION = "instagram"


def rendition_rules() -> ImageRules:
    rules = registry.rendition_rules(RENDITION)
    if rules is None:
        raise LookupError(f"No network asks for the {RENDITION!r} rendition")
    return rules


def asset_rendition_problems(*, asset: BrandAsset) -> list[str]:
    """Why the asset cannot go to the network of the rendition (Instagram); empty when it can.
    A video's warnings are :func:`asset_video_warnings`'s."""
    if asset.is_video:
        return []
    return images.image_check(
        rules=rendition_rules(),
        width=asset.width,
        height=asset.height,
        size=asset.size,
        content_type=asset.content_type,
    )


def asset_instagram_rendition(*, asset: BrandAsset) -> str:
    """The storage name of the asset's Instagram-ready JPEG, made on first use and kept."""
    previous = asset.instagram_rendition.name or ""
    if previous and default_storage.exists(previous):
        return previous
    with default_storage.open(asset.file.name, "rb") as source:
        rendition = images.image_rendition(source.read(), rules=rendition_rules())
    name = _save_file(
        images.storage_name(
            asset.sha256, "jpg", namespace=f"t{asset.tenant_id}", variant=RENDITION
        ),
        rendition,
    )
    updated = BrandAsset.objects.filter(pk=asset.pk, instagram_rendition=previous).update(
        instagram_rendition=name
    )
    if not updated:  # made concurrently by someone else: keep theirs
        _delete_files([name])
        asset.refresh_from_db(fields=["instagram_rendition"])
        return asset.instagram_rendition.name
    asset.instagram_rendition.name = name
    return name
