"""Storage backends for the attachment tests: the session app's local disk, and an app on moto's S3 server."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from bench.common import MOTO_CREDENTIALS, moto_s3
from tests.conftest import RunningApp, make_settings, start_app

BUCKET = "tickets-test"
PREFIX = "uploads/test"
S3_LIMIT = 10 * 1024 * 1024  # above one 8 MiB part, so the limit is crossed inside a multipart upload


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    with moto_s3() as url:
        # The app under test builds its boto3 client from the standard environment, as in production.
        os.environ.update(MOTO_CREDENTIALS)
        yield url


@pytest.fixture(scope="session")
def s3_client(moto_server: str) -> Any:
    client = boto3.client(
        "s3",
        endpoint_url=moto_server,
        region_name="us-east-1",
        aws_access_key_id=MOTO_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=MOTO_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )
    client.create_bucket(Bucket=BUCKET)
    return client


@pytest.fixture(scope="session")
async def s3_app(
    database_url: str, tmp_path_factory: pytest.TempPathFactory, s3_client: Any, moto_server: str
) -> AsyncIterator[RunningApp]:
    settings = make_settings(
        database_url,
        tmp_path_factory.mktemp("s3data"),
        storage_url=f"s3://{BUCKET}/{PREFIX}",
        s3_endpoint_url=moto_server,
        max_upload_bytes=S3_LIMIT,
    )
    running = await start_app(settings)
    yield running
    await running.stop()


@dataclass
class Backend:
    """One running app and a view of its storage, for tests that must pass on every backend."""

    name: str
    app: RunningApp
    list_keys: Callable[[], set[str]]
    pending_uploads: Callable[[], int]
    clients: list[httpx.AsyncClient] = field(default_factory=list)

    @property
    def limit(self) -> int:
        return self.app.settings.max_upload_bytes

    def client(self, user_id: str | None = None, role: str | None = None) -> httpx.AsyncClient:
        c = self.app.client(user_id, role)
        self.clients.append(c)
        return c


def _local_keys(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()} if root.exists() else set()


@pytest.fixture(params=["file", "s3"])
def backend_view(request: pytest.FixtureRequest, app: RunningApp) -> Backend:
    # Synchronous, so it may pull the (async, session-scoped) S3 app in only when that backend is asked for.
    if request.param == "file":
        root = app.settings.data_dir / "uploads"
        b = Backend("file", app, lambda: _local_keys(root), lambda: 0)
    else:
        s3_app = request.getfixturevalue("s3_app")
        s3 = request.getfixturevalue("s3_client")

        def keys() -> set[str]:
            pages = s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET)
            return {o["Key"] for page in pages for o in page.get("Contents", [])}

        def pending() -> int:
            return len(s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []))

        b = Backend("s3", s3_app, keys, pending)
    return b


@pytest.fixture
async def backend(backend_view: Backend) -> AsyncIterator[Backend]:
    # Tables were emptied before this test; forget the users this app has seen, as conftest does for `app`.
    backend_view.app.ctx.users._seen.clear()
    yield backend_view
    for c in backend_view.clients:
        await c.aclose()
