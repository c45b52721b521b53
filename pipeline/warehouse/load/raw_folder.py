"""The raw folder: which of its files are documents, their content hashes, and where it ends.

The raw folder takes whatever arrives, so taking its inventory reads no document's contents and
never leaves the folder:

- hidden files and folders (a leading dot) are not documents: editors' swap files, downloads
  still being written (`trials fetch` writes `.name.tmp` and renames);
- only regular files are documents. A FIFO (reading it would block the build), a socket or a
  device is skipped, and so is a symbolic link that leaves the folder (to `/etc/passwd`, to
  `/proc/self/mem`), points at nothing or loops. A link to a regular file inside the folder is
  read; a link to a folder inside it is not followed (its documents are read where they are);
- a folder nested deeper than MAX_FOLDER_DEPTH, a path longer than the system allows, and a
  file larger than MAX_DOCUMENT_BYTES are skipped;
- a name that is not UTF-8 is recorded with each of its bad bytes escaped (`\\xff`), so it can be
  stored and shown; the file itself is still read.

Each skipped entry becomes one ingest_errors row naming it, never anything it holds. Hashing is
guarded like reading: a file that can't be hashed (it vanished, it can't be read) keeps an empty
hash, and its reading reports why.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import os
import stat
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from pipeline.documents.bounds import open_regular
from pipeline.warehouse.load.pool import cpu_count

HASH_CHUNK_BYTES = 1 << 20
# Real raw folders are a few levels deep (ctgov_api/, downloads/2024/...).
MAX_FOLDER_DEPTH = 32
# Three times the whole registry as NDJSON; past that, a file is not a download (a sparse file of
# a terabyte would take the build minutes to hash).
MAX_DOCUMENT_BYTES = 32 * 1024**3
PATH_MAX = os.pathconf("/", "PC_PATH_MAX") if hasattr(os, "pathconf") else 4096

_SPECIAL_KINDS = ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISSOCK, "a socket"),
                  (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"))


@dataclass(frozen=True, slots=True)
class RawDocument:
    path: Path  # what is read: the file, or the regular file inside the folder a link points to
    relative_path: str  # as recorded: relative to the raw folder, "/"-separated, bad bytes escaped
    size_bytes: int
    modified_at: dt.datetime | None  # None when the file's time is beyond what a datetime holds
    content_hash: str  # SHA-256; empty until hashed, or when the file could not be read


@dataclass(frozen=True, slots=True)
class SkippedEntry:
    """Something in the raw folder that is not read, and why: one ingest_errors row."""

    relative_path: str
    reason: str

    def error_row(self) -> tuple:
        return (self.relative_path, "", None, self.reason, "")


@dataclass(frozen=True)
class Inventory:
    """The raw folder: its documents in reading order (sorted relative path), and what was skipped."""

    documents: list[RawDocument]
    skipped: list[SkippedEntry] = field(default_factory=list)

    def paths(self) -> dict[str, Path]:
        """Where each document (by recorded path) is read from."""
        return {d.relative_path: d.path for d in self.documents}


def inventory(raw_dir: Path, known: dict[str, RawDocument] | None = None, hash_files: bool = True) -> Inventory:
    """Every document under the raw folder, and every entry skipped.

    A file whose size and modification time match `known` keeps its known hash, as git does; any
    other file is hashed, so a touched but unchanged file still counts as unchanged. Without
    `hash_files` the hash is left empty, for a full build to fill in while it reads.
    """
    known = known or {}
    found, skipped = _scan(Path(raw_dir))
    documents = []
    for document in found:
        previous = known.get(document.relative_path)
        if (previous is not None and previous.content_hash and document.modified_at is not None
                and previous.size_bytes == document.size_bytes and previous.modified_at == document.modified_at):
            document = replace(document, content_hash=previous.content_hash)
        documents.append(document)
    folder = Inventory(documents, skipped)
    return with_hashes(folder) if hash_files else folder


def with_hashes(folder: Inventory) -> Inventory:
    """The inventory with every document hashed (those already hashed keep their hash)."""
    unhashed = [d.path for d in folder.documents if not d.content_hash]
    # hashlib releases the GIL over large buffers, so threads hash files on every core.
    with ThreadPoolExecutor(max_workers=max(1, min(cpu_count(), len(unhashed)))) as pool:
        digests = dict(zip(unhashed, pool.map(_sha256, unhashed)))
    documents = [d if d.content_hash else replace(d, content_hash=digests[d.path]) for d in folder.documents]
    return Inventory(documents, folder.skipped)


def sources_hash(folder: Inventory) -> str:
    """One hash for the whole raw folder: changes when any document is added, removed or edited,
    or an entry is skipped for another reason."""
    digest = hashlib.sha256()
    for document in sorted(folder.documents, key=lambda d: d.relative_path):
        digest.update(f"{document.relative_path}\0{document.content_hash}\n".encode())
    for entry in sorted(folder.skipped, key=lambda e: e.relative_path):
        digest.update(f"{entry.relative_path}\0skipped: {entry.reason}\n".encode())
    return digest.hexdigest()


def read_inventory(con, raw_dir: Path) -> dict[str, RawDocument]:
    """The documents a warehouse was built from, by recorded path (for their hashes, sizes and times)."""
    rows = con.execute("select document_path, size_bytes, modified_at, content_hash from documents").fetchall()
    return {path: RawDocument(Path(raw_dir) / path, path, size, modified, digest) for path, size, modified, digest in rows}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    try:
        with open_regular(path, buffering=0) as handle:
            while chunk := handle.read(HASH_CHUNK_BYTES):
                digest.update(chunk)
    except OSError:
        return ""  # vanished or unreadable: its reading says why
    return digest.hexdigest()


def _scan(raw_dir: Path) -> tuple[list[RawDocument], list[SkippedEntry]]:
    """The folder's regular files (unhashed) and its skipped entries, walked without recursion
    and without following any link out of it."""
    root = os.path.realpath(raw_dir)
    found: list[RawDocument] = []
    skipped: list[SkippedEntry] = []
    folders = [(str(raw_dir), "", 0)]
    while folders:
        folder, prefix, depth = folders.pop()
        try:
            with os.scandir(folder) as listing:
                entries = list(listing)
        except FileNotFoundError:
            continue  # removed while the inventory was taken
        except OSError as error:
            skipped.append(SkippedEntry(prefix.rstrip("/"), f"could not list the folder: {error.strerror or error}"))
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            relative = prefix + recorded_name(entry.name)
            try:
                document, reason = _entry(entry, relative, root)
            except FileNotFoundError:
                continue  # removed while the inventory was taken
            except OSError as error:
                document, reason = None, f"could not inspect it: {error.strerror or error}"
            if document is not None:
                found.append(document)
            elif reason == _FOLDER:
                if depth + 1 > MAX_FOLDER_DEPTH:
                    skipped.append(SkippedEntry(relative, f"folder nested deeper than {MAX_FOLDER_DEPTH} levels: not read"))
                else:
                    folders.append((entry.path, relative + "/", depth + 1))
            elif reason is not None:
                skipped.append(SkippedEntry(relative, reason))
    found.sort(key=lambda d: d.relative_path)
    return found, skipped


_FOLDER = "folder"


def _entry(entry: os.DirEntry, relative: str, root: str) -> tuple[RawDocument | None, str | None]:
    """A document, or why the entry is not one (_FOLDER for a folder to walk; None: nothing to say)."""
    if len(os.fsencode(entry.path)) >= PATH_MAX:
        return None, f"path longer than the system allows ({PATH_MAX} bytes): not read"
    if entry.is_symlink():
        target = os.path.realpath(entry.path)
        if os.path.commonpath([root, target]) != root:
            return None, "symbolic link leading out of the raw folder: not followed"
        try:
            status = os.stat(target)
        except FileNotFoundError:
            return None, "symbolic link to nothing (its target does not exist): not read"
        except OSError as error:
            return None, f"symbolic link that can't be followed ({error.strerror or error}): not read"
        if stat.S_ISDIR(status.st_mode):
            return None, None  # a folder inside: its documents are read where they are
        path = Path(target)
    else:
        status = entry.stat(follow_symlinks=False)
        if stat.S_ISDIR(status.st_mode):
            return None, _FOLDER
        path = Path(entry.path)
    if not stat.S_ISREG(status.st_mode):
        kind = next((name for test, name in _SPECIAL_KINDS if test(status.st_mode)), "a special file")
        return None, f"{kind}, not a regular file: not read"
    if status.st_size > MAX_DOCUMENT_BYTES:
        return None, f"larger than {MAX_DOCUMENT_BYTES // 1024**3} GiB: not read"
    return RawDocument(path, relative, status.st_size, _modified_at(status.st_mtime), ""), None


def _modified_at(mtime: float) -> dt.datetime | None:
    try:
        return dt.datetime.fromtimestamp(mtime)
    except (OverflowError, OSError, ValueError):
        return None  # a time beyond what a datetime holds: the file is hashed every time instead


def recorded_name(name: str) -> str:
    """A file name as recorded: as it is when it is UTF-8, else with each bad byte escaped (\\xff)."""
    if name.isascii():
        return name
    try:
        name.encode("utf-8")
        return name
    except UnicodeEncodeError:
        return os.fsencode(name).decode("utf-8", errors="backslashreplace")
