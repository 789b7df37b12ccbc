"""Attachments: upload and download throughput, image processing latency, and server memory during uploads.

One `ticket-comms serve` per backend (local disk; S3 on moto's standalone server), client in this process.
- upload of a 24 MiB file: seconds, MiB/s, and the growth of the server's peak RSS (VmHWM): the upload is
  streamed, so the peak must not grow by anything near the file's size;
- download of the same file (MiB/s) and a 64 KiB range request (p50/p95 ms);
- upload of a 12-megapixel JPEG (decode, re-encode without EXIF, thumbnail): p50/p95 ms.
Prints one JSON object.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import time
from typing import Any

import boto3
import httpx
from PIL import Image

from bench.common import MOTO_CREDENTIALS, database, moto_s3, percentiles, serve, token

FILE_BYTES = 24 * 1024 * 1024
MiB = 1024 * 1024


def _peak_rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _jpeg_12mp() -> bytes:
    im = Image.effect_noise((4000, 3000), 40).convert("RGB")
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (52.0, 22.0, 31.5)}
    out = io.BytesIO()
    im.save(out, "JPEG", quality=88, exif=exif.tobytes())
    return out.getvalue()


def _measure(base: str, pid: int, jpeg: bytes) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token('bench-uploader')}"}
    with httpx.Client(base_url=base, headers=headers, timeout=120) as c:
        tid = c.post("/api/v1/tickets", json={"title": "bench", "participantIds": []}).json()["id"]
        url = f"/api/v1/tickets/{tid}/attachments"
        data = os.urandom(FILE_BYTES)
        c.post(url, files={"file": ("warm.bin", data[:MiB])})
        rss_before = _peak_rss_mib(pid)
        started = time.perf_counter()
        r = c.post(url, files={"file": ("big.bin", data)})
        upload_s = time.perf_counter() - started
        assert r.status_code == 201, r.text
        rss_growth = _peak_rss_mib(pid) - rss_before
        att = r.json()["id"]

        started = time.perf_counter()
        r = c.get(f"/api/v1/attachments/{att}")
        download_s = time.perf_counter() - started
        assert r.content == data
        ranges = []
        for i in range(50):
            start = (i * 7919 * 1024) % (FILE_BYTES - 65536)
            t = time.perf_counter()
            r = c.get(f"/api/v1/attachments/{att}", headers={"Range": f"bytes={start}-{start + 65535}"})
            ranges.append((time.perf_counter() - t) * 1000)
            assert r.status_code == 206 and r.content == data[start : start + 65536]

        images = []
        for i in range(5):
            t = time.perf_counter()
            r = c.post(url, files={"file": (f"photo{i}.jpg", jpeg)})
            images.append((time.perf_counter() - t) * 1000)
            assert r.status_code == 201 and r.json()["width"] == 4000, r.text
    return {
        "upload_24mib_s": round(upload_s, 3),
        "upload_mib_per_s": round(FILE_BYTES / MiB / upload_s, 1),
        "upload_peak_rss_growth_mib": round(rss_growth, 1),
        "download_mib_per_s": round(FILE_BYTES / MiB / download_s, 1),
        "range_64kib_ms": percentiles(ranges),
        "image_12mp_upload_ms": percentiles(images),
        "image_12mp_bytes": len(jpeg),
    }


def main() -> None:
    url = database("bench_attachments")
    jpeg = _jpeg_12mp()
    result: dict[str, Any] = {"scenario": "attachments"}
    with tempfile.TemporaryDirectory() as tmp:
        with serve(url, DATA_DIR=tmp) as (base, proc):
            result["local"] = _measure(base, proc.pid, jpeg)
        with moto_s3() as endpoint:
            boto3.client(
                "s3",
                endpoint_url=endpoint,
                region_name="us-east-1",
                aws_access_key_id=MOTO_CREDENTIALS["AWS_ACCESS_KEY_ID"],
                aws_secret_access_key=MOTO_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            ).create_bucket(Bucket="bench")
            s3_env = {
                "DATA_DIR": tmp,
                "STORAGE_URL": "s3://bench/uploads",
                "S3_ENDPOINT_URL": endpoint,
                **MOTO_CREDENTIALS,
            }
            with serve(url, **s3_env) as (base, proc):
                result["s3_moto"] = _measure(base, proc.pid, jpeg)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
