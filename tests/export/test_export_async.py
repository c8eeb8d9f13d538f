"""The dashboard's export runs on the event loop: its files go through aiofiles, with the same
content, atomic replacement and secret refusal as the synchronous export."""

from __future__ import annotations

import aiofiles

from logomesh_tui.export import export_session, export_session_async


async def test_async_export_writes_the_same_files_through_aiofiles(session, sessions_dir,
                                                                   tmp_path, monkeypatch):
    opened = []
    real_open = aiofiles.open

    def counting_open(path, *args, **kwargs):
        opened.append(path)
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(aiofiles, "open", counting_open)
    sync = export_session(session.session_id, "training-data", out_dir=tmp_path / "sync",
                          sessions_dir=sessions_dir)
    done = await export_session_async(session.session_id, "training-data",
                                      out_dir=tmp_path / "async", sessions_dir=sessions_dir)
    assert [p.name for p in done.files] == [p.name for p in sync.files]
    for a, b in zip(sync.files, done.files, strict=True):
        assert a.read_bytes() == b.read_bytes()
    assert len(opened) == len(done.files)  # every file through aiofiles
    assert sorted(p.name for p in (tmp_path / "async").iterdir()) == sorted(
        p.name for p in done.files)  # no temporary file left


async def test_async_export_scrubs_secrets_like_the_sync_one(session, sessions_dir, tmp_path):
    secret = "sekret-" + "a1b2c3d4" * 4
    session.post("primary-analyzer", f"the key is {secret}", "analysis", 1)
    done = await export_session_async(session.session_id, "training-data",
                                      out_dir=tmp_path / "out", sessions_dir=sessions_dir,
                                      environ={"LAB_API_KEY": secret})
    assert done.files and all(secret not in p.read_text() for p in done.files)
