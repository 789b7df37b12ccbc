"""The wire shape of an attachment as messages and uploads show it: its fields and signed links."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pydantic import BaseModel

from ticket_comms.attachments import signing
from ticket_comms.config import Settings


def attachment_out(row: dict[str, Any], settings: Settings) -> dict[str, Any] | None:
    att_id = row.get("att_id")
    if att_id is None:
        return None
    att = str(att_id)
    return {
        "id": att,
        "fileName": row["att_file_name"],
        "contentType": row["att_content_type"],
        "size": row["att_size"],
        "url": signing.signed_url(settings, att),
        "thumbnailUrl": signing.signed_url(settings, att, thumbnail=True)
        if row["att_thumbnail_key"]
        else None,
        "width": row["att_width"],
        "height": row["att_height"],
    }


class AttachmentOut(BaseModel):
    id: UUID
    fileName: str
    contentType: str
    size: int
    url: str
    thumbnailUrl: str | None
    width: int | None
    height: int | None
