"""Reading one file out of a multipart/form-data request body as it arrives, never buffering it whole.

Starlette's form parser spools every file before the endpoint runs, so a size limit could only be
checked afterwards; this reader hands the file's bytes to the caller chunk by chunk instead.
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from ticket_comms.errors import TooLarge, ValidationFailed


class MalformedUpload(ValidationFailed):
    """The upload is not valid multipart/form-data."""

    code = "malformed_upload"


@dataclass
class FilePart:
    field: str
    file_name: str | None


class FormStream:
    """Events from the body: a FilePart when a part's headers are complete, bytes for its data, None at its end.

    `max_other_bytes` bounds everything that is not the data of the part being read (headers, other
    fields), so a client cannot make the reader spin forever on a body without a file.
    """

    def __init__(self, body: AsyncIterator[bytes], content_type: str, *, max_other_bytes: int = 1_048_576):
        _, params = parse_options_header(content_type)
        boundary = params.get(b"boundary")
        if not boundary or len(boundary) > 200:
            raise MalformedUpload("Send the file as multipart/form-data (no boundary found).")
        self._body = body
        self._events: deque[FilePart | bytes | None] = deque()
        self._header_name = b""
        self._header_value = b""
        self._disposition = b""
        self._other = 0
        self._max_other = max_other_bytes
        self._in_part = False
        self._done = False
        self._parser = MultipartParser(
            boundary,
            {
                "on_part_begin": self._part_begin,
                "on_part_data": self._part_data,
                "on_part_end": self._part_end,
                "on_header_field": self._header_field,
                "on_header_value": self._header_value_cb,
                "on_header_end": self._header_end,
                "on_headers_finished": self._headers_finished,
            },
        )

    def _count(self, n: int) -> None:
        self._other += n
        if self._other > self._max_other:
            raise TooLarge("The request body is too large.")

    def _part_begin(self) -> None:
        self._disposition = b""

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._count(end - start)
        self._header_name += data[start:end]

    def _header_value_cb(self, data: bytes, start: int, end: int) -> None:
        self._count(end - start)
        self._header_value += data[start:end]

    def _header_end(self) -> None:
        if self._header_name.lower() == b"content-disposition":
            self._disposition = self._header_value
        self._header_name = b""
        self._header_value = b""

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._disposition)
        name = options.get(b"name", b"").decode("utf-8", "replace")
        raw_filename = options.get(b"filename")
        file_name = raw_filename.decode("utf-8", "replace") if raw_filename is not None else None
        self._in_part = True
        self._events.append(FilePart(name, file_name))

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if end > start:
            self._events.append(bytes(data[start:end]))

    def _part_end(self) -> None:
        self._in_part = False
        self._events.append(None)

    async def next_event(self) -> FilePart | bytes | EOFError | None:
        """The next event, or an EOFError instance once the body is over."""
        while not self._events:
            if self._done:
                return EOFError()
            try:
                chunk = await anext(self._body, None)
                if chunk is None:
                    self._done = True
                    self._parser.finalize()
                elif chunk:
                    self._parser.write(chunk)
            except MultipartParseError as exc:
                raise MalformedUpload() from exc
        return self._events.popleft()

    async def skip_data(self) -> None:
        """Discard the rest of the current part (counted against the bound on other bytes)."""
        while True:
            event = await self.next_event()
            if event is None or isinstance(event, EOFError):
                return
            if isinstance(event, bytes):
                self._count(len(event))

    async def find_file(self, field: str) -> FilePart:
        """Skip to the part named `field`."""
        while True:
            event = await self.next_event()
            if isinstance(event, EOFError):
                raise ValidationFailed(
                    f"Send the file in the multipart field `{field}`.", code="file_required"
                )
            if isinstance(event, FilePart):
                # Browsers always name the file; scripts sometimes leave filename out: take it either way.
                if event.field == field:
                    return event
                await self.skip_data()

    async def data(self) -> AsyncIterator[bytes]:
        """The data of the current part, up to its end."""
        while True:
            event = await self.next_event()
            if isinstance(event, bytes):
                yield event
            elif event is None:
                return
            else:
                raise MalformedUpload("The upload ended before the file did.")

    async def drain(self) -> None:
        """Read the rest of the body (bounded), so the connection can be reused."""
        while not isinstance(event := await self.next_event(), EOFError):
            if isinstance(event, bytes):
                self._count(len(event))
