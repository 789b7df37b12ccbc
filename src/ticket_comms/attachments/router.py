"""Attachment endpoints: upload (streamed), download by token or signed link, thumbnails."""

from __future__ import annotations

import re
from urllib.parse import quote
from uuid import UUID

from fastapi import APIRouter, Request, Response
from starlette.requests import ClientDisconnect
from starlette.responses import StreamingResponse

from ticket_comms.attachments import service, signing, sniffing
from ticket_comms.auth.deps import User, current_user
from ticket_comms.deps import Ctx, json
from ticket_comms.errors import Forbidden
from ticket_comms.responses import error_response

router = APIRouter(prefix="/api/v1", tags=["attachments"])

# Returned by _range for a range that lies outside the file.
UNSATISFIABLE = (-1, -1)
RANGE_RE = re.compile(r"^bytes=(\d*)-(\d*)$")
INLINE_TYPES = frozenset(sniffing.RASTER)


# The body is read as a stream by the service, so FastAPI cannot describe it from a parameter.
UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            }
        },
    }
}


@router.post("/tickets/{ticket_id}/attachments", status_code=201, openapi_extra=UPLOAD_BODY)
async def upload(ctx: Ctx, user: User, ticket_id: UUID, request: Request):
    length = request.headers.get("content-length", "")
    try:
        attachment = await service.upload(
            ctx,
            user,
            ticket_id,
            request.stream(),
            request.headers.get("content-type", ""),
            int(length) if length.isdigit() else None,
        )
    except ClientDisconnect:
        # The uploader went away mid-file; the service has already removed what it stored.
        return error_response(400, "upload_interrupted", "The upload was interrupted.")
    return json(attachment, 201)


@router.get("/attachments/{attachment_id}")
@router.head("/attachments/{attachment_id}", include_in_schema=False)
async def download(ctx: Ctx, request: Request, attachment_id: UUID):
    return await _serve(ctx, request, attachment_id, thumbnail=False)


@router.get("/attachments/{attachment_id}/thumbnail")
@router.head("/attachments/{attachment_id}/thumbnail", include_in_schema=False)
async def download_thumbnail(ctx: Ctx, request: Request, attachment_id: UUID):
    return await _serve(ctx, request, attachment_id, thumbnail=True)


async def _serve(ctx: Ctx, request: Request, attachment_id: UUID, *, thumbnail: bool) -> Response:
    query = request.query_params
    user = None
    if "signature" in query or "expires" in query:
        # A signed URL is its own authorisation (for <img> tags and email links), so no token is needed.
        expires = query.get("expires", "")
        bound_to = query.get("user")
        if (
            not expires.isdigit()
            or len(expires) > 12
            or (bound_to is not None and not 0 < len(bound_to) <= 255)
        ):
            raise Forbidden("The download link is not valid.", code="bad_signature")
        signing.verify(
            ctx.settings,
            str(attachment_id),
            thumbnail=thumbnail,
            expires=int(expires),
            signature=query.get("signature", ""),
            user_id=bound_to,
        )
        if bound_to is not None:
            # A link given to one person works only while they may see the attachment: a participant
            # removed from the ticket loses it at once (404, as for anything they cannot see).
            user = await service.link_holder(ctx, bound_to)
    else:
        user = await current_user(request)
    found = await service.find_download(ctx, attachment_id, thumbnail=thumbnail, user=user)

    headers = {
        "Content-Type": sniffing.served_type(found.content_type),
        "Content-Disposition": _disposition(found.content_type, found.file_name),
        "X-Content-Type-Options": "nosniff",
        # Even if a browser is made to render a download, it gets no script, no plugins, no origin.
        "Content-Security-Policy": "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox",
        "ETag": found.etag,
        "Cache-Control": "private, max-age=3600",
    }
    if _matches(request.headers.get("if-none-match"), found.etag):
        return Response(
            status_code=304, headers={k: v for k, v in headers.items() if k in ("ETag", "Cache-Control")}
        )
    if found.size is None:
        return StreamingResponse(await service.open_stream(ctx, found.storage_key), headers=headers)

    headers["Accept-Ranges"] = "bytes"
    size = found.size
    wanted = _range(request, found.etag, size)
    if wanted == UNSATISFIABLE:
        response = error_response(416, "range_not_satisfiable", "The requested range is not within the file.")
        response.headers["Content-Range"] = f"bytes */{size}"
        return response
    if wanted is None:
        headers["Content-Length"] = str(size)
        if request.method == "HEAD":
            return Response(headers=headers)
        return StreamingResponse(await service.open_stream(ctx, found.storage_key), headers=headers)
    start, end = wanted
    headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    headers["Content-Length"] = str(end - start + 1)
    return StreamingResponse(
        await service.open_stream(ctx, found.storage_key, start, end), status_code=206, headers=headers
    )


def _disposition(content_type: str, file_name: str) -> str:
    kind = "inline" if content_type in INLINE_TYPES else "attachment"
    fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"\\%;' else "_" for c in file_name)
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(file_name, safe='')}"


def _matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    return any(tag.strip() in (etag, "*", f"W/{etag}") for tag in header.split(","))


def _range(request: Request, etag: str, size: int) -> tuple[int, int] | None:
    """The single byte range asked for, UNSATISFIABLE, or None to send the whole file.

    Multiple ranges and malformed headers are answered with the whole file, as RFC 9110 allows.
    """
    header = request.headers.get("range")
    if not header:
        return None
    if_range = request.headers.get("if-range")
    if if_range is not None and if_range.strip() != etag:
        return None
    match = RANGE_RE.match(header.strip())
    if match is None:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # the last N bytes
        suffix = int(last)
        if suffix == 0 or size == 0:
            return UNSATISFIABLE
        return max(0, size - suffix), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or (last and int(last) < start):
        return UNSATISFIABLE if start >= size else None
    return start, end
