"""Files the demo conversations attach, made at seed time: a photo-like PNG and a one-page PDF quote.

Generated rather than committed so the repository carries no binaries and the files are real ones
that go through the normal upload path (sniffing, re-encoding, thumbnails).
"""

from __future__ import annotations

import io

from PIL import Image, ImageDraw, ImageFilter


def leaking_ac_photo(width: int = 960, height: int = 720) -> bytes:
    """A picture of a wall-mounted air conditioner dripping onto the floor (PNG)."""
    image = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(image)
    floor_y = int(height * 0.78)
    for y in range(floor_y):  # a warm wall, lighter towards the ceiling lamp
        shade = 236 - int(30 * y / floor_y)
        draw.line([(0, y), (width, y)], fill=(shade, shade - 8, shade - 22))
    for y in range(floor_y, height):  # wooden floor
        shade = 150 - int(40 * (y - floor_y) / (height - floor_y))
        draw.line([(0, y), (width, y)], fill=(shade, int(shade * 0.72), int(shade * 0.48)))
    for x in range(0, width, 120):
        draw.line([(x, floor_y), (x - 60, height)], fill=(110, 78, 52), width=2)
    left, top, right, bottom = int(width * 0.2), int(height * 0.12), int(width * 0.8), int(height * 0.36)
    draw.rounded_rectangle([left + 8, top + 10, right + 8, bottom + 10], radius=28, fill=(150, 146, 138))
    draw.rounded_rectangle(
        [left, top, right, bottom], radius=28, fill=(248, 248, 246), outline=(200, 200, 196), width=3
    )
    for i in range(5):  # the louvre
        y = bottom - 42 + i * 7
        draw.line([(left + 30, y), (right - 30, y)], fill=(170, 172, 175), width=2)
    draw.ellipse([right - 70, top + 24, right - 56, top + 38], fill=(80, 200, 120))  # power light
    draw.rectangle([right - 40, bottom - 4, right - 30, bottom + 70], fill=(205, 205, 200))  # drain pipe
    stain = Image.new("L", (width, height), 0)
    ImageDraw.Draw(stain).ellipse([right - 90, bottom + 10, right + 10, floor_y + 10], fill=60)
    image.paste((170, 150, 120), mask=stain.filter(ImageFilter.GaussianBlur(24)))
    draw = ImageDraw.Draw(image)
    for i, y in enumerate(range(bottom + 20, floor_y - 10, 55)):  # drops falling from the unit
        x = right - 35 + (i % 2) * 6
        draw.ellipse([x - 7, y, x + 7, y + 18], fill=(90, 150, 220))
        draw.polygon([(x - 6, y + 6), (x, y - 10), (x + 6, y + 6)], fill=(90, 150, 220))
    draw.ellipse([right - 140, floor_y + 20, right + 70, floor_y + 62], fill=(120, 160, 205))  # the puddle
    draw.ellipse([right - 110, floor_y + 28, right + 20, floor_y + 46], fill=(170, 200, 230))
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()


def _pdf_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def quote_pdf(lines: list[tuple[int, str]]) -> bytes:
    """A one-page A4 PDF of text lines, each `(font size, text)`, in Helvetica (a base-14 font, so
    nothing is embedded). Written by hand: a handful of objects and an exact cross-reference table."""
    stream_lines = ["BT", "50 780 Td"]
    previous = 0
    for size, text in lines:
        if previous:
            stream_lines.append(f"0 -{int(previous * 1.6)} Td")
        stream_lines.append(f"/F1 {size} Tf ({_pdf_text(text)}) Tj")
        previous = size
    stream_lines.append("ET")
    content = "\n".join(stream_lines).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length " + str(len(content)).encode() + b" >>\nstream\n" + content + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)
