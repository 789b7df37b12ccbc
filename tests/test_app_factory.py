"""The app factory builds every piece of mutable state an app uses: two apps in one process share none."""

from __future__ import annotations

from tests.conftest import make_settings, start_app


async def test_two_apps_in_one_process_share_no_state(database_url, tmp_path):
    first = await start_app(make_settings(database_url, tmp_path / "a"))
    second = await start_app(make_settings(database_url, tmp_path / "b"))
    try:
        one, two = first.ctx, second.ctx
        assert one.sns_certificates is not None and two.sns_certificates is not None
        assert one.sns_certificates.cache is not two.sns_certificates.cache
        assert one.image_workers is not two.image_workers
        assert one.limits is not two.limits
        assert one.verifier is not two.verifier and one.users is not two.users
        assert one.broadcast.sio is not two.broadcast.sio
        assert one.broadcast.manager is not two.broadcast.manager
        assert one.renderer is not None and two.renderer is not None
        assert one.renderer.threads is not two.renderer.threads and one.renderer.pool is not two.renderer.pool
    finally:
        await second.stop()
        await first.stop()
