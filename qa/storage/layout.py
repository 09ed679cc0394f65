"""Where an index's files live, and how a new build replaces the served one with a single rename.

    INDEX_DIR/                  the configured path (QA_INDEX_DIR): a real folder that stays put
      current -> versions/ID    the served version: a relative link, replaced by one os.replace
      versions/ID/              one complete build each: manifest.json and the files it lists
      versions/.tmp-ID/         a build being written (the next build removes a crashed one's)
      .lock                     held by the one build writing at a time

A crash at any step leaves `current` pointing at a complete version, the old or the new one. A reader
resolves `current` once and reads every file from that version; the previous version is kept for a
reader that resolved it just before a swap. An index in the old layout (format 2, its files directly
in INDEX_DIR) is replaced the same way, and an `INDEX_DIR.old` that the old two-rename swap left
behind when it crashed is moved back into place.
"""

from __future__ import annotations

import fcntl
import logging
import os
import re
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
CURRENT = "current"
VERSIONS = "versions"
LOCK = ".lock"
CHANGING = ".changing"  # held while a document is added or removed: read the served version, write the next
TMP = ".tmp-"


class IndexUnusableError(RuntimeError):
    """The index on disk is missing, corrupt or stale, or can't be written; the message says which and what to run."""


def corrupt(where: Path, detail: str) -> IndexUnusableError:
    return IndexUnusableError(f"index in {where} is corrupt ({detail}); rebuild it with `qa index`")


def current_version(directory: Path) -> Path:
    """The folder holding the served index: the version `current` points to, or `directory` itself for
    the old layout (whose format read_manifest refuses, naming the command to run)."""
    directory = Path(directory)
    _recover_old_swap(directory)
    link = directory / CURRENT
    if link.is_symlink():
        target = Path(os.readlink(link))
        if target.parent != Path(VERSIONS) or target.name.startswith(".") or not (directory / target).is_dir():
            raise corrupt(directory, f"{CURRENT} points to {str(target)!r}, not to a version")
        return directory / target
    if link.exists():
        raise corrupt(directory, f"{CURRENT} is not a link")
    if (directory / MANIFEST).is_file():
        return directory
    versions = complete_versions(directory)
    if versions:  # the link was lost (a copy that does not keep links, a hand's `rm`): the newest build is served
        log.warning("%s has no `%s` link; serving its newest version, %s (`qa index` makes a new one)",
                    directory, CURRENT, versions[0].name)
        return versions[0]
    raise IndexUnusableError(f"no index in {directory}; build one with `qa index`")


def served_version(directory: Path) -> str | None:
    """The name of the version `current` points to (one readlink: cheap enough to ask on every request)."""
    try:
        return Path(os.readlink(Path(directory) / CURRENT)).name
    except OSError:
        return None


def complete_versions(directory: Path) -> list[Path]:
    """The finished builds in `directory`, newest first (a build's folder is renamed into place once written)."""
    folder = Path(directory) / VERSIONS
    if not folder.is_dir():
        return []
    return sorted((p for p in folder.iterdir() if not p.name.startswith(".") and (p / MANIFEST).is_file()),
                  key=lambda p: p.name, reverse=True)


def index_exists(directory: Path) -> bool:
    """Whether `directory` holds an index, usable or not, that a build would replace."""
    directory = Path(directory)
    return (directory / CURRENT).is_symlink() or (directory / MANIFEST).exists() or bool(complete_versions(directory))


def publish(directory: Path, contents: dict[str, bytes | Path]) -> Path:
    """Write `contents` (file name -> bytes, or a file to link or copy in) as a new version, switch `current` to
    it, then tidy up what crashed and replaced builds left; returns the new version's folder."""
    directory = Path(directory)
    try:
        _recover_old_swap(directory)
        (directory / VERSIONS).mkdir(parents=True, exist_ok=True)
        with _locked(directory):
            served = directory / CURRENT
            # kept besides the new one: the version served until now (the newest, when the link was lost)
            served_before = [Path(os.readlink(served))] if served.is_symlink() else complete_versions(directory)[:1]
            previous = served_before[0].name if served_before else None
            version = f"{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}-{secrets.token_hex(4)}"  # sorts by build time
            tmp = directory / VERSIONS / f"{TMP}{version}"
            try:
                tmp.mkdir()
                for name, data in contents.items():
                    _write(tmp / name, data, directory)
                _fsync(tmp)
                os.replace(tmp, tmp.with_name(version))
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
            link = directory / f".{CURRENT}-{version}"
            os.symlink(Path(VERSIONS) / version, link)
            os.replace(link, directory / CURRENT)  # the switch: one rename
            _fsync(directory)
            try:
                _tidy(directory, {version, previous})
            except OSError as exc:  # the new index is served; leftovers wait for the next build
                log.warning("could not remove old index files in %s: %s", directory, exc)
    except OSError as exc:
        raise IndexUnusableError(f"cannot write the index in {directory}: {exc.strerror or exc} "
                                 "(QA_INDEX_DIR or QA_HOME say where it goes)") from exc
    return directory / VERSIONS / version


@contextmanager
def changing(directory: Path) -> Iterator[None]:
    """One change of the collection at a time (across processes): two uploads at once must not both build on the
    same version and lose one of them."""
    Path(directory).mkdir(parents=True, exist_ok=True)
    with open(Path(directory) / CHANGING, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        yield


@contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """One build writes at a time; the lock goes with its process, however that ends."""
    with open(directory / LOCK, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        yield


def _write(path: Path, data: bytes | Path, directory: Path) -> None:
    if isinstance(data, Path):
        # a document's original: a previous version's copy is hard-linked (no space, and no one edits it in place);
        # the user's own file is copied, so editing it later cannot change what the index holds
        if data.resolve().is_relative_to(directory.resolve()):
            try:
                os.link(data, path)
                return
            except OSError:
                pass
        with open(data, "rb") as src, open(path, "xb") as fh:
            shutil.copyfileobj(src, fh, 1 << 20)
            fh.flush()
            os.fsync(fh.fileno())
        return
    with open(path, "xb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def _fsync(folder: Path) -> None:
    """Make a folder's new entries durable, so a power cut can't undo a rename that was already made."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _recover_old_swap(directory: Path) -> None:
    """The old layout swapped folders with two renames; a crash between them left the index in INDEX_DIR.old."""
    old = directory.with_name(f"{directory.name}.old")
    if not directory.exists() and old.is_dir():
        try:
            os.replace(old, directory)
            log.warning("moved %s back to %s (left there by an interrupted `qa index`)", old, directory)
        except OSError:
            pass  # another process moved it first, or the folder is read-only: the caller reports what is there


def _tidy(directory: Path, keep: set[str | None]) -> None:
    """Best effort, under the lock: keep the new version and the one served before it (a reader may have
    just resolved it); remove other versions, crashed builds' folders and links, and the old layout's files,
    temporary folders and `.old` folder."""
    for p in (directory / VERSIONS).iterdir():
        if p.name not in keep:
            shutil.rmtree(p, ignore_errors=True)
    for p in directory.iterdir():
        if p.name not in (CURRENT, LOCK, CHANGING) and (p.is_symlink() or p.is_file()):
            p.unlink(missing_ok=True)
    old_tmp = re.compile(rf"\.{re.escape(directory.name)}\.[a-z0-9_]{{8}}")  # the old writer's tempfile.mkdtemp
    for p in directory.parent.iterdir():
        if (old_tmp.fullmatch(p.name) or p.name == f"{directory.name}.old") and p.is_dir():
            shutil.rmtree(p, ignore_errors=True)
