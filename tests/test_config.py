"""Secrets: a separate SIGNING_SECRET, generated in development, demanded outside it."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from ticket_comms.attachments import signing
from ticket_comms.config import DEV_JWT_SECRET, MIN_SECRET_LENGTH, Settings, UnsafeSecrets, check_secrets
from ticket_comms.errors import Forbidden

PUBLIC = "https://tickets.example.com"
STRONG = "k" * MIN_SECRET_LENGTH


def settings(tmp_path: Path, **values: Any) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path, **values)  # type: ignore[call-arg]


def query(url: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in url.split("?", 1)[1].split("&"))


def test_attachment_links_are_signed_with_the_signing_secret_not_the_jwt_secret(tmp_path):
    # With a JWKS, JWT_SECRET keeps its public built-in value: links signed with it could be forged.
    jwks = settings(tmp_path, public_base_url=PUBLIC, jwt_jwks_url=f"{PUBLIC}/jwks", signing_secret=STRONG)
    url = signing.signed_url(jwks, "att-1", user_id="bob")
    expires = int(query(url)["expires"])
    forged = signing._signature(DEV_JWT_SECRET, "att-1", "original", expires, "bob")
    with pytest.raises(Forbidden):
        signing.verify(jwks, "att-1", thumbnail=False, expires=expires, signature=forged, user_id="bob")
    signing.verify(
        jwks, "att-1", thumbnail=False, expires=expires, signature=query(url)["signature"], user_id="bob"
    )
    # A link bound to no one is refused, even when we signed it.
    unbound = signing.signed_url(jwks, "att-1")
    with pytest.raises(Forbidden):
        signing.verify(jwks, "att-1", thumbnail=False, expires=expires, signature=query(unbound)["signature"])
    # The JWT secret plays no part; the signing secret decides.
    other_jwt = jwks.model_copy(update={"jwt_secret": "another-" + "j" * 40})
    assert signing.signed_url(other_jwt, "att-1", user_id="bob") == url
    other_signing = jwks.model_copy(update={"signing_secret": "another-" + "s" * 40})
    assert signing.signed_url(other_signing, "att-1", user_id="bob") != url


def test_development_generates_the_signing_secret_once_into_the_data_dir(tmp_path):
    def key() -> str:
        return settings(tmp_path).signing_key

    with ThreadPoolExecutor(8) as pool:  # several processes may start at once: one secret wins
        keys = set(pool.map(lambda _: key(), range(8)))
    path = tmp_path / "signing-secret"
    assert keys == {path.read_text()} and len(path.read_text()) >= MIN_SECRET_LENGTH
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["signing-secret"]
    assert settings(tmp_path / "elsewhere").signing_key != key()
    # A set SIGNING_SECRET wins, and nothing is generated for it.
    assert settings(tmp_path / "set", signing_secret=STRONG).signing_key == STRONG
    assert not (tmp_path / "set").exists()


@pytest.mark.parametrize(
    ("values", "complaints"),
    [
        ({}, ["JWT_SECRET is the built-in development secret", "SIGNING_SECRET is not set"]),
        ({"jwt_secret": "short", "signing_secret": STRONG}, ["JWT_SECRET is shorter than 32"]),
        ({"jwt_secret": STRONG + "j", "signing_secret": "short"}, ["SIGNING_SECRET is shorter than 32"]),
        ({"jwt_secret": STRONG, "signing_secret": STRONG}, ["SIGNING_SECRET must differ from JWT_SECRET"]),
        ({"jwt_jwks_url": f"{PUBLIC}/jwks"}, ["SIGNING_SECRET is not set"]),
        ({"jwt_jwks_url": f"{PUBLIC}/jwks", "signing_secret": STRONG}, []),
        ({"jwt_secret": STRONG + "j", "signing_secret": STRONG}, []),
    ],
)
def test_outside_development_built_in_short_or_missing_secrets_are_refused(tmp_path, values, complaints):
    problems = settings(tmp_path, public_base_url=PUBLIC, **values).secret_problems()
    assert len(problems) == len(complaints)
    for problem, complaint in zip(problems, complaints, strict=True):
        assert complaint in problem
    if complaints:
        with pytest.raises(UnsafeSecrets):
            check_secrets(settings(tmp_path, public_base_url=PUBLIC, **values))
    if "signing_secret" not in values:  # nothing is generated outside development
        with pytest.raises(RuntimeError, match="SIGNING_SECRET must be set"):
            settings(tmp_path, public_base_url=PUBLIC, **values).signing_key  # noqa: B018
    assert not (tmp_path / "signing-secret").exists()


@pytest.mark.parametrize(
    "base", [None, "http://localhost:8000", "http://127.0.0.1:9000", "http://app.localhost"]
)
def test_development_accepts_the_built_in_secrets(tmp_path, base):
    assert settings(tmp_path, public_base_url=base).secret_problems() == []


@pytest.mark.parametrize("command", ["serve", "worker"])
def test_serve_and_worker_refuse_to_start_with_unsafe_secrets_and_say_what_to_set(tmp_path, command):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JWT_", "SIGNING_"))}
    env.update(
        {"PUBLIC_BASE_URL": PUBLIC, "DATA_DIR": str(tmp_path), "DATABASE_URL": "postgresql://nowhere/x"}
    )
    done = subprocess.run(
        [sys.executable, "-m", "ticket_comms.cli", command],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "refusing to start" in done.stderr
    assert "Set JWT_SECRET" in done.stderr and "SIGNING_SECRET is not set" in done.stderr
    assert "openssl rand" in done.stderr and "docs/operations.md" in done.stderr
