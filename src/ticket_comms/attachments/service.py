"""Attachments: streamed uploads with the size limit enforced as bytes arrive, downloads, and cleanup.

An upload's type comes from its bytes. Raster images are decoded and re-encoded before anything is
stored, so what is served never carries EXIF or appended payloads; other files stream straight to
storage. Storage objects are written before the row and deleted after the row's removal commits, so
a crash can leave an unreferenced object but never a row without its bytes.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import psycopg

from ticket_comms import ratelimits
from ticket_comms.attachments import images, signing, sniffing
from ticket_comms.attachments.formdata import FormStream
from ticket_comms.attachments.schemas import attachment_out
from ticket_comms.attachments.storage import ObjectMissing
from ticket_comms.auth.service import CurrentUser
from ticket_comms.context import AppContext
from ticket_comms.database import Connection
from ticket_comms.errors import AppError, NotFound, TooLarge
from ticket_comms.ticket_access import TicketNotFound, require_access

log = logging.getLogger(__name__)

# Multipart framing around the file (boundaries, part headers, other small fields).
FRAMING_ALLOWANCE = 64 * 1024
ORPHAN_AGE_SECONDS = 24 * 3600
SWEEP_INTERVAL_SECONDS = 3600
SWEEP_BATCH = 500


class UnsupportedMediaType(AppError):
    """Send the file as multipart/form-data in the field `file`."""

    status = 415
    code = "unsupported_media_type"


class AttachmentNotFound(NotFound):
    """Attachment not found."""

    code = "attachment_not_found"


class _Limited:
    """The file part's bytes, counted; over `limit` raises TooLarge before the excess is passed on."""

    def __init__(self, chunks: AsyncIterator[bytes], limit: int):
        self._chunks = chunks
        self._limit = limit
        self.size = 0

    async def read_head(self, n: int) -> bytes:
        head = bytearray()
        while len(head) < n:
            chunk = await self._next()
            if chunk is None:
                break
            head += chunk
        return bytes(head)

    async def _next(self) -> bytes | None:
        chunk = await anext(self._chunks, None)
        if chunk is not None:
            self.size += len(chunk)
            if self.size > self._limit:
                raise TooLarge(
                    f"The file is larger than the limit of {self._limit} bytes.",
                    details={"maxBytes": self._limit},
                )
        return chunk

    async def rest(self, head: bytes) -> AsyncIterator[bytes]:
        if head:
            yield head
        while (chunk := await self._next()) is not None:
            yield chunk


async def _one(data: bytes) -> AsyncIterator[bytes]:
    yield data


def _row_out(row: dict[str, Any], ctx: AppContext) -> dict[str, Any]:
    out = attachment_out({f"att_{k}": v for k, v in row.items()}, ctx.settings)
    assert out is not None
    return out


async def upload(
    ctx: AppContext,
    user: CurrentUser,
    ticket_id: UUID,
    body: AsyncIterator[bytes],
    content_type: str,
    content_length: int | None,
) -> dict[str, Any]:
    """Store the file of a multipart upload for `ticket_id` and return its Attachment (not yet attached)."""
    async with ctx.db.connection() as conn:
        await require_access(conn, user, ticket_id)
    if not content_type.lower().startswith("multipart/form-data"):
        raise UnsupportedMediaType()
    limit = ctx.settings.max_upload_bytes
    if content_length is not None and content_length > limit + FRAMING_ALLOWANCE:
        raise TooLarge(f"The file is larger than the limit of {limit} bytes.", details={"maxBytes": limit})
    await ratelimits.hit(ctx, "upload", user.id)
    await _check_daily_bytes(ctx, user, content_length)

    form = FormStream(body, content_type, max_other_bytes=FRAMING_ALLOWANCE)
    part = await form.find_file("file")
    file_name = sniffing.clean_file_name(part.file_name)
    attachment_id = uuid.uuid4()
    key = f"{ticket_id}/{attachment_id}"
    data = _Limited(form.data(), limit)
    head = await data.read_head(sniffing.SNIFF_BYTES)
    detected = sniffing.detect(head)
    stored: list[str] = []
    try:
        width = height = thumbnail_key = None
        fmt = sniffing.RASTER.get(detected) or sniffing.CONVERTED.get(detected)
        if fmt is not None:
            image = await _process_image(ctx, data.rest(head), fmt)
            if image.content_type != detected:
                detected = image.content_type
                file_name = sniffing.with_extension(file_name, "png" if detected == "image/png" else "jpg")
            thumbnail_key = f"{key}.thumb.{image.thumbnail_ext}"
            stored.append(key)
            size = await ctx.storage.put(key, _one(image.data), detected)
            stored.append(thumbnail_key)
            await ctx.storage.put(
                thumbnail_key, _one(image.thumbnail), images.THUMBNAIL_TYPES[image.thumbnail_ext]
            )
            width, height = image.width, image.height
        else:
            stored.append(key)
            size = await ctx.storage.put(key, data.rest(head), detected)
        await form.drain()
        # The day's byte quota is charged with the stored size; over it, what was stored goes again.
        await ratelimits.hit(ctx, "upload_bytes", user.id, size)
        try:
            row = await ctx.db.fetch_one(
                """
                INSERT INTO attachments (id, ticket_id, uploader_id, file_name, content_type, size, storage_key,
                                         thumbnail_key, width, height)
                VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
                RETURNING id, file_name, content_type, size, thumbnail_key, width, height
                """,
                (
                    attachment_id,
                    ticket_id,
                    user.id,
                    file_name,
                    detected,
                    size,
                    key,
                    thumbnail_key,
                    width,
                    height,
                ),
            )
        except psycopg.errors.ForeignKeyViolation as exc:
            raise TicketNotFound() from exc  # the ticket was deleted while the file was arriving
    except BaseException:
        if stored:
            await asyncio.shield(_delete_quietly(ctx, stored))
        raise
    assert row is not None
    return signing.attachment_for_viewer(_row_out(row, ctx), ctx.settings, user.id)


async def _check_daily_bytes(ctx: AppContext, user: CurrentUser, content_length: int | None) -> None:
    """Refuse before reading when the declared size cannot fit in what is left of the day's quota."""
    if ctx.limits is None or content_length is None:
        return
    left = await ctx.limits.remaining("upload_bytes", user.id)
    if left is not None and content_length - FRAMING_ALLOWANCE > left:
        await ratelimits.hit(ctx, "upload_bytes", user.id, content_length)  # raises with its Retry-After


async def _process_image(ctx: AppContext, chunks: AsyncIterator[bytes], fmt: str) -> images.ProcessedImage:
    # The upload is already bounded by MAX_UPLOAD_BYTES; the worker process gets it whole.
    data = bytearray()
    async for chunk in chunks:
        data += chunk
    workers = ctx.image_workers
    if workers is None:
        raise RuntimeError("this process has no image workers")
    return await workers.process(bytes(data), fmt)


@dataclass
class Download:
    content_type: str
    file_name: str
    size: int | None  # known for originals (ranges are served on them), not for thumbnails
    etag: str
    storage_key: str


DOWNLOAD_SQL = """
SELECT a.id, a.uploader_id, a.message_id, a.file_name, a.content_type, a.size, a.storage_key, a.thumbnail_key,
       EXISTS (SELECT 1 FROM ticket_participants p WHERE p.ticket_id = a.ticket_id AND p.user_id = %(user_id)s)
           AS participant
FROM attachments a WHERE a.id = %(id)s
"""


async def link_holder(ctx: AppContext, user_id: str) -> CurrentUser:
    """The user a signed link was given to, as they are now (404 once they no longer exist)."""
    row = await ctx.db.fetch_one("SELECT id, role FROM users WHERE id = %s", (user_id,))
    if row is None:
        raise AttachmentNotFound()
    return CurrentUser(row["id"], row["role"])


async def find_download(
    ctx: AppContext, attachment_id: UUID, *, thumbnail: bool, user: CurrentUser | None
) -> Download:
    """What to serve. `user` is None when a valid signed URL already authorised the request."""
    row = await ctx.db.fetch_one(DOWNLOAD_SQL, {"id": attachment_id, "user_id": user.id if user else None})
    if row is None:
        raise AttachmentNotFound()
    if user is not None and not user.is_admin:
        # Participants see attached files; an upload not yet sent is its uploader's alone.
        visible = row["participant"] and (row["message_id"] is not None or row["uploader_id"] == user.id)
        if not visible:
            raise AttachmentNotFound()
    if thumbnail:
        key = row["thumbnail_key"]
        if key is None:
            raise AttachmentNotFound("This attachment has no thumbnail.")
        ext = key.rsplit(".", 1)[-1]
        return Download(images.THUMBNAIL_TYPES[ext], row["file_name"], None, f'"{row["id"].hex}-t"', key)
    return Download(
        row["content_type"], row["file_name"], row["size"], f'"{row["id"].hex}"', row["storage_key"]
    )


async def open_stream(
    ctx: AppContext, key: str, start: int = 0, end: int | None = None
) -> AsyncIterator[bytes]:
    """The object's bytes, with the first chunk already read so a missing object is a 404, not a cut response."""
    chunks = ctx.storage.get(key, start, end)
    try:
        first = await anext(chunks, b"")
    except ObjectMissing as exc:
        log.error("attachment object missing from storage", extra={"fields": {"key": key}})
        raise AttachmentNotFound() from exc

    async def stream() -> AsyncIterator[bytes]:
        try:
            if first:
                yield first
            async for chunk in chunks:
                yield chunk
        finally:
            await chunks.aclose()  # type: ignore[attr-defined]

    return stream()


def _keys(rows: Iterable[dict[str, Any]]) -> list[str]:
    return [k for r in rows for k in (r.get("storage_key"), r.get("thumbnail_key")) if k]


async def _delete_quietly(ctx: AppContext, keys: list[str]) -> None:
    try:
        await ctx.storage.delete(keys)
    except Exception:
        # The rows are gone already; an object left behind costs space, not correctness.
        log.exception("could not delete attachment objects", extra={"fields": {"keys": keys}})


async def remove_objects(ctx: AppContext, rows: Iterable[dict[str, Any]]) -> None:
    """Delete the storage objects of attachment rows that were deleted (call after the commit)."""
    keys = _keys(rows)
    if keys:
        await _delete_quietly(ctx, keys)


# What chat asks of attachments inside its own transaction (the attachments table's SQL stays here).


async def lock_for_message(conn: Connection, attachment_id: UUID) -> dict[str, Any] | None:
    """The upload a message is about to claim, locked until the caller's transaction ends."""
    cur = await conn.execute(
        "SELECT id, file_name, content_type, uploader_id, message_id, ticket_id FROM attachments "
        "WHERE id = %s FOR UPDATE",
        (attachment_id,),
    )
    return await cur.fetchone()


async def attach_to_message(conn: Connection, attachment_id: UUID, message_id: UUID) -> None:
    await conn.execute("UPDATE attachments SET message_id = %s WHERE id = %s", (message_id, attachment_id))


async def delete_of_message(conn: Connection, message_id: UUID) -> list[dict[str, Any]]:
    """Delete a message's attachment row; its storage keys go to `remove_objects` after the commit."""
    cur = await conn.execute(
        "DELETE FROM attachments WHERE message_id = %s RETURNING storage_key, thumbnail_key", (message_id,)
    )
    return await cur.fetchall()


SWEEP_SQL = """
DELETE FROM attachments WHERE id IN (
    SELECT id FROM attachments
    WHERE message_id IS NULL AND created_at < now() - make_interval(secs => %s)
    ORDER BY created_at LIMIT %s
    FOR UPDATE SKIP LOCKED
)
RETURNING storage_key, thumbnail_key
"""


async def sweep_orphans(ctx: AppContext, *, older_than_seconds: float = ORPHAN_AGE_SECONDS) -> int:
    """Delete uploads never attached to a message within `older_than_seconds`; returns how many."""
    total = 0
    while True:
        async with ctx.db.transaction() as conn:
            # SKIP LOCKED: an upload being attached right now (its row locked by send_message) is
            # left alone, and several processes can sweep at once.
            cur = await conn.execute(SWEEP_SQL, (older_than_seconds, SWEEP_BATCH))
            rows = await cur.fetchall()
        await remove_objects(ctx, rows)
        total += len(rows)
        if len(rows) < SWEEP_BATCH:
            return total


async def run_sweeper(ctx: AppContext, interval: float = SWEEP_INTERVAL_SECONDS) -> None:
    """Sweep orphan uploads now and then every `interval` seconds, until cancelled."""
    while True:
        try:
            removed = await sweep_orphans(ctx)
            if removed:
                log.info("removed orphan uploads", extra={"fields": {"count": removed}})
        except Exception:
            log.exception("orphan upload sweep failed")
        await asyncio.sleep(interval)
