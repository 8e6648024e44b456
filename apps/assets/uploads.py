"""Resumable uploads of large files (docs/assets.md, "Resumable uploads"): a session declares the
file up front, takes it in chunks appended at the current offset to a temporary file on disk,
and on completion hands the assembled file to the single upload's service
(:func:`services.asset_upload_file`): the same checks, the same duplicate handling, the video's
probe job. The session is read with ``selectors.asset_upload_get``.

Every chunk is streamed to its own file first (no lock held while the network is read), then
appended under the session's row lock: two chunks of one session never interleave, and a chunk
cut short by a dropped connection changes nothing (the client resumes from the offset).
"""

import hashlib
import os
import re
import secrets
import shutil
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

import structlog
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import Membership, Tenant
from apps.assets import images, services, videos
from apps.assets.models import AssetUpload, BrandFolder
from apps.core.exceptions import ApplicationError, Conflict, NotPermitted

logger = structlog.get_logger(__name__)

COPY_BUFFER = 1024 * 1024
ACCEPTED_MESSAGE = "Upload a photo (JPEG, PNG, WebP or GIF) or a video (MP4 or MOV)."


class UploadOffsetMismatch(Conflict):
    """A chunk that does not start where the upload stands: the client resumes from ``offset``."""

    default_code = "offset_mismatch"


class UploadNotOpen(Conflict):
    """The session takes no more chunks (complete, failed, expired or being completed)."""

    default_code = "upload_not_open"


class ChunkTooLarge(ApplicationError):
    default_code = "chunk_too_large"
    status = 413

    def problem_members(self) -> dict[str, object]:
        return dict(self.extra)


class ByteStream(Protocol):
    """What a chunk is read from: a request (its body stream, never ``request.body``) or a file."""

    def read(self, size: int, /) -> bytes: ...


class ChunkTypeUnsupported(ApplicationError):
    default_code = "unsupported_media_type"
    status = 415


def upload_dir() -> Path:
    """Where the partial files are: ``ASSET_UPLOAD_DIR``, else ``MEDIA_ROOT/partial-uploads``."""
    configured = settings.ASSET_UPLOAD_DIR
    return Path(configured) if configured else Path(settings.MEDIA_ROOT) / "partial-uploads"


def _temp_file(upload: AssetUpload) -> Path:
    return upload_dir() / upload.temp_path


def _delete_temp(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError:
        logger.warning("asset_upload_temp_delete_failed", path=str(path))


def _lost() -> Conflict:
    return Conflict(
        "The bytes received for this upload are gone (the server's temporary storage was "
        "cleared). Start the upload again.",
        code="upload_lost",
    )


def _require_editor(actor: Membership) -> None:
    if not actor.can_edit:
        raise NotPermitted("Viewers cannot change the asset library.")


def _check_same_tenant(actor: Membership, upload: AssetUpload) -> None:
    if upload.tenant_id != actor.tenant.pk:
        raise NotPermitted("That belongs to another business.")


def _state(upload: AssetUpload) -> dict[str, object]:
    return {"offset": upload.received, "upload_status": upload.status}


def is_expired(upload: AssetUpload, *, now: datetime | None = None) -> bool:
    return upload.status == AssetUpload.Status.EXPIRED or upload.expires_at <= (
        now or timezone.now()
    )


_WHOLE_NUMBER = re.compile(r"[0-9]{1,18}")
CHUNK_CONTENT_TYPES = ("application/offset+octet-stream", "application/octet-stream")


def chunk_position(*, upload_offset: str | None, content_length: str | None) -> tuple[int, int]:
    """``(offset, length)`` of a chunk request from its ``Upload-Offset`` and ``Content-Length``
    headers; both are required, whole numbers."""
    if upload_offset is None or not _WHOLE_NUMBER.fullmatch(upload_offset.strip()):
        raise ApplicationError(
            "Send the chunk's position in the Upload-Offset header (a number of bytes).",
            code="upload_offset_required",
        )
    if content_length is None or not _WHOLE_NUMBER.fullmatch(content_length.strip()):
        raise ApplicationError(
            "Send the chunk with a Content-Length header.", code="content_length_required"
        )
    return int(upload_offset), int(content_length)


# --- Writes --------------------------------------------------------------------------------


def check_declared(*, size: int, content_type: str) -> None:
    """Refuse up front what the single upload would refuse for its size or type, with its
    messages: a video (MP4, MOV) against the video limit, an image against the image limit."""
    content_type = content_type.split(";")[0].strip().lower()
    if content_type in videos.EXTENSIONS:
        videos.check_size(size, max_bytes=settings.ASSET_VIDEO_MAX_BYTES)
    elif content_type.startswith("image/"):
        images.check_upload_size(size, max_bytes=settings.ASSET_MAX_UPLOAD_BYTES)
    else:
        raise images.ImageRejected(
            f"This file is not a photo or a video ({content_type or 'unknown type'}). "
            + ACCEPTED_MESSAGE,
            code=images.RejectionCode.NOT_AN_IMAGE,
        )


def asset_upload_create(
    *,
    actor: Membership,
    filename: str,
    size: int,
    content_type: str,
    sha256: str = "",
    folder: BrandFolder | None = None,
    alt_text: str = "",
    tags: list[str] | None = None,
) -> AssetUpload:
    """Open a session for one file of ``size`` bytes, refused at once (nothing stored) when the
    single upload would refuse its declared size or type."""
    _require_editor(actor)
    if folder is not None and folder.tenant_id != actor.tenant.pk:
        raise NotPermitted("That belongs to another business.")  # like the single upload
    tag_names = services.parse_tags(tags or [])
    check_declared(size=size, content_type=content_type)
    sha256 = sha256.strip().lower()
    if sha256 and (len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256)):
        raise ApplicationError("sha256 must be 64 hexadecimal digits.", code="sha256_invalid")
    directory = upload_dir()
    directory.mkdir(parents=True, exist_ok=True)
    name = f"t{actor.tenant.pk}-{secrets.token_hex(16)}.part"
    (directory / name).touch(exist_ok=False)
    try:
        with transaction.atomic():
            upload = AssetUpload.objects.create(
                tenant=actor.tenant,
                filename=images.safe_filename(filename or "upload"),
                content_type=content_type.split(";")[0].strip().lower()[:100],
                size=size,
                sha256=sha256,
                temp_path=name,
                folder=folder,
                alt_text=alt_text.strip()[:500],
                tags=tag_names,
                created_by=actor.user,
                expires_at=timezone.now() + timedelta(hours=settings.ASSET_UPLOAD_SESSION_HOURS),
            )
    except BaseException:
        _delete_temp(directory / name)
        raise
    logger.info("asset_upload_created", upload_id=upload.pk, size=size)
    return upload


def _check_open(upload: AssetUpload) -> None:
    if upload.status == AssetUpload.Status.OPEN and is_expired(upload):
        raise UploadNotOpen(
            "This upload expired; start it again.", code="upload_expired", extra=_state(upload)
        )
    if upload.status != AssetUpload.Status.OPEN:
        raise UploadNotOpen(
            f"This upload is {upload.get_status_display().lower()}: it takes no more data.",
            extra=_state(upload),
        )


def _check_chunk(upload: AssetUpload, *, offset: int, length: int) -> None:
    _check_open(upload)
    if offset != upload.received:
        raise UploadOffsetMismatch(
            f"This chunk starts at byte {offset}, but the upload stands at byte "
            f"{upload.received}: send the data from there.",
            extra=_state(upload),
        )
    limit = settings.ASSET_UPLOAD_CHUNK_MAX_BYTES
    if length > limit:
        raise ChunkTooLarge(
            f"A chunk is at most {limit} bytes; this one is {length}.",
            extra={"max_chunk_bytes": limit},
        )
    if length <= 0:
        raise ApplicationError("The chunk is empty.", code="chunk_empty")
    if offset + length > upload.size:
        raise ApplicationError(
            f"This chunk goes past the declared size ({upload.size} bytes).",
            code="chunk_past_end",
            extra=_state(upload),
        )


def asset_upload_append(
    *, actor: Membership, upload: AssetUpload, offset: int, length: int, stream: ByteStream
) -> AssetUpload:
    """Append ``length`` bytes read from ``stream`` at ``offset``, which must be the upload's
    current offset (else :class:`UploadOffsetMismatch`, a 409 naming the offset). The chunk is
    read whole into its own file before anything changes: a chunk cut short changes nothing."""
    _require_editor(actor)
    _check_same_tenant(actor, upload)
    _check_chunk(upload, offset=offset, length=length)  # before reading: a cheap early answer
    chunk = upload_dir() / f"{upload.temp_path}.{secrets.token_hex(8)}.chunk"
    try:
        read = 0
        with chunk.open("wb") as out:
            while read < length:
                try:
                    data = stream.read(min(COPY_BUFFER, length - read))
                except OSError:  # the client went away mid-body (UnreadablePostError)
                    break
                if not data:
                    break
                out.write(data)
                read += len(data)
        if read < length:
            raise ApplicationError(
                f"The chunk was cut short ({read} of {length} bytes arrived); nothing was "
                f"kept. Send it again from byte {offset}.",
                code="chunk_incomplete",
                extra={"offset": offset},
            )
        if stream.read(1):
            raise ApplicationError(
                "The chunk is longer than its Content-Length.", code="chunk_length_mismatch"
            )
        with transaction.atomic():
            locked = AssetUpload.objects.select_for_update().get(pk=upload.pk)
            _check_chunk(locked, offset=offset, length=length)
            target = _temp_file(locked)
            if not locked.temp_path or not target.is_file():
                raise _lost()
            with target.open("r+b") as part, chunk.open("rb") as source:
                part.seek(offset)
                part.truncate()  # bytes past the offset are from no accepted chunk
                shutil.copyfileobj(source, part, COPY_BUFFER)
                part.flush()
                os.fsync(part.fileno())
            locked.received = offset + length
            locked.save(update_fields=["received", "updated_at"])
    finally:
        _delete_temp(chunk)
    return locked


def _fail(upload_id: int, exc: ApplicationError) -> AssetUpload:
    with transaction.atomic():
        upload = AssetUpload.objects.select_for_update().get(pk=upload_id)
        path = _temp_file(upload) if upload.temp_path else None
        upload.status = AssetUpload.Status.FAILED
        upload.failure_reason = exc.message[:500]
        upload.failure_code = exc.code[:50]
        upload.temp_path = ""
        upload.save(update_fields=["status", "failure_reason", "failure_code", "temp_path"])
    if path is not None:
        _delete_temp(path)
    logger.info("asset_upload_failed", upload_id=upload_id, code=exc.code)
    return upload


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        for block in iter(lambda: source.read(COPY_BUFFER), b""):
            digest.update(block)
    return digest.hexdigest()


def asset_upload_complete(*, actor: Membership, upload: AssetUpload) -> services.UploadResult:
    """Make the asset of a fully received upload with :func:`services.asset_upload_file` (the
    single upload's checks, duplicate handling and probe job). A refused file leaves the
    session ``failed`` with the reason, its temporary file deleted, no asset, and the refusal
    raised. Completing a complete session answers its asset again."""
    _require_editor(actor)
    _check_same_tenant(actor, upload)
    with transaction.atomic():
        locked = AssetUpload.objects.select_for_update().get(pk=upload.pk)
        if locked.status == AssetUpload.Status.COMPLETE and locked.asset is not None:
            return services.UploadResult(asset=locked.asset, duplicate=locked.duplicate)
        _check_open(locked)
        if locked.received != locked.size:
            raise Conflict(
                f"The upload has {locked.received} of {locked.size} bytes: send the rest "
                "before completing it.",
                code="upload_incomplete",
                extra=_state(locked),
            )
        # The file is checked and stored outside the lock (a large video takes seconds to
        # hash); the status keeps other chunks and completions out meanwhile.
        locked.status = AssetUpload.Status.COMPLETING
        locked.save(update_fields=["status", "updated_at"])
    path = _temp_file(locked)
    try:
        if locked.sha256 and _sha256_of(path) != locked.sha256:
            raise ApplicationError(
                "The file that arrived is not the one declared (its SHA-256 differs). "
                "Upload it again.",
                code="sha256_mismatch",
            )
        with path.open("rb") as source:
            result = services.asset_upload_file(
                actor=actor,
                file=source,
                size=locked.size,
                filename=locked.filename,
                folder=locked.folder,
                alt_text=locked.alt_text,
                tags=locked.tags,
            )
    except ApplicationError as exc:
        _fail(locked.pk, exc)
        raise
    except OSError as exc:  # the partial file is gone or unreadable
        lost = _lost()
        _fail(locked.pk, lost)
        raise lost from exc
    except BaseException:
        _fail(locked.pk, ApplicationError("The file could not be stored. Upload it again."))
        raise
    with transaction.atomic():
        AssetUpload.objects.filter(pk=locked.pk).update(
            status=AssetUpload.Status.COMPLETE,
            asset=result.asset,
            duplicate=result.duplicate,
            temp_path="",
            completed_at=timezone.now(),
            updated_at=timezone.now(),
        )
    _delete_temp(path)
    logger.info("asset_upload_completed", upload_id=locked.pk, asset_id=result.asset.pk)
    return result


def asset_upload_abort(*, actor: Membership, upload: AssetUpload) -> None:
    """Delete the session and its temporary file. A session being completed is left alone
    (409); the asset of a complete one stays in the library."""
    _require_editor(actor)
    _check_same_tenant(actor, upload)
    with transaction.atomic():
        locked = AssetUpload.objects.select_for_update().filter(pk=upload.pk).first()
        if locked is None:
            return
        if locked.status == AssetUpload.Status.COMPLETING:
            raise UploadNotOpen("This upload is being completed.", extra=_state(locked))
        path = _temp_file(locked) if locked.temp_path else None
        locked.delete()
    if path is not None:
        _delete_temp(path)
    logger.info("asset_upload_aborted", upload_id=upload.pk)


def upload_sessions_expire(*, now: datetime | None = None) -> int:
    """The hourly job: sessions past ``expires_at`` still open (or stuck completing) become
    ``expired`` and lose their temporary file; sessions of any status expired longer than a
    lifetime ago are deleted; partial files of no session (a deleted tenant, a crashed request)
    older than a lifetime are deleted. Idempotent. Returns the sessions expired."""
    now = now or timezone.now()
    lifetime = timedelta(hours=settings.ASSET_UPLOAD_SESSION_HOURS)
    expired = 0
    due = AssetUpload.objects.filter(
        status__in=[AssetUpload.Status.OPEN, AssetUpload.Status.COMPLETING], expires_at__lte=now
    ).values_list("pk", flat=True)
    for upload_id in list(due):
        with transaction.atomic():
            upload = (
                AssetUpload.objects.select_for_update()
                .filter(pk=upload_id, expires_at__lte=now)
                .exclude(status__in=[AssetUpload.Status.COMPLETE, AssetUpload.Status.FAILED])
                .first()
            )
            if upload is None:
                continue
            path = _temp_file(upload) if upload.temp_path else None
            upload.status = AssetUpload.Status.EXPIRED
            upload.temp_path = ""
            upload.save(update_fields=["status", "temp_path", "updated_at"])
        if path is not None:
            _delete_temp(path)
        expired += 1
    AssetUpload.objects.filter(expires_at__lte=now - lifetime).delete()
    directory = upload_dir()
    if directory.is_dir():
        known = set(AssetUpload.objects.exclude(temp_path="").values_list("temp_path", flat=True))
        cutoff = (now - lifetime).timestamp()
        for entry in directory.iterdir():
            part = entry.name.split(".part")[0] + ".part"
            if entry.is_file() and part not in known and entry.stat().st_mtime < cutoff:
                _delete_temp(entry)
    if expired:
        logger.info("asset_uploads_expired", count=expired)
    return expired


def tenant_uploads_delete(*, tenant: Tenant) -> int:
    """A business being deleted: its upload sessions go, their partial files once that commits.
    (Sessions are transient: a business's export leaves them out.)"""
    sessions = AssetUpload.objects.for_tenant(tenant)
    names = list(sessions.exclude(temp_path="").values_list("temp_path", flat=True))
    deleted = sessions.delete()[0]

    def delete_files() -> None:
        for name in names:
            _delete_temp(upload_dir() / name)

    transaction.on_commit(delete_files)
    return deleted
