"""The dataset store: uploaded files on disk under unguessable ids, kept for a while.

Each dataset is two files in one directory: ``<id>.data`` (the uploaded bytes) and
``<id>.json`` (name, size, sha256, creation time, column mapping; no salt: device
labels are keyed by the data, :func:`explorer.summary.views.label_key`), and a third,
``<id>.reference``, when a reference population was uploaded for it (the Coverage page):
it belongs to the dataset, travels with its link and goes when the dataset goes. All are
written atomically (temporary file in the same directory, then ``os.replace``), so a
crash never leaves half a file under a valid id. Ids are ``secrets.token_urlsafe(16)``
(128 random bits); anything else is rejected before it touches the file system.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import secrets
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

#: What ``secrets.token_urlsafe(16)`` produces: 22 URL-safe base64 characters.
ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{22}")
DEFAULT_RETENTION_DAYS = 30.0
#: A temporary file untouched this long (seconds) belongs to no write still running.
INTERRUPTED_WRITE_S = 60.0
SECONDS_PER_DAY = 86_400


def default_root() -> Path:
    """``$PBE_DATA_DIR`` or ``~/.cache/ping-bias-explorer/datasets``."""
    configured = os.environ.get("PBE_DATA_DIR")
    if configured:
        return Path(configured).expanduser()
    return Path.home() / ".cache" / "ping-bias-explorer" / "datasets"


def retention_days() -> float:
    """``$PBE_RETENTION_DAYS`` (days a dataset is kept), default 30; bad values -> 30."""
    try:
        value = float(os.environ.get("PBE_RETENTION_DAYS", DEFAULT_RETENTION_DAYS))
    except ValueError:
        return DEFAULT_RETENTION_DAYS
    return value if value > 0 else DEFAULT_RETENTION_DAYS


def is_valid_id(dataset_id: object) -> bool:
    """True for a string shaped like a store id (says nothing about existence)."""
    return isinstance(dataset_id, str) and ID_PATTERN.fullmatch(dataset_id) is not None


@dataclass(frozen=True)
class StoredDataset:
    """One stored upload: its bytes and what we know about it."""

    dataset_id: str
    name: str
    data: bytes
    sha256: str
    created: float
    columns: dict[str, str] = field(default_factory=dict)
    #: Why the server refused to analyse it (too large for its memory), or "".
    refused: str = ""


@dataclass(frozen=True)
class StoredReference:
    """The reference population uploaded for a dataset: its file name, sha256 and bytes."""

    name: str
    sha256: str
    data: bytes


def _write_atomic(path: Path, payload: bytes) -> None:
    """Write ``payload`` to ``path`` so readers see the old file or the whole new one."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


class DatasetStore:
    """Uploaded datasets in one directory, expired after ``retention`` days."""

    def __init__(self, root: Path | str | None = None, retention: float | None = None) -> None:
        self.root = Path(root) if root is not None else default_root()
        self.retention_s = (retention if retention is not None else retention_days()) * (
            SECONDS_PER_DAY
        )

    def _paths(self, dataset_id: str) -> tuple[Path, Path]:
        return self.root / f"{dataset_id}.data", self.root / f"{dataset_id}.json"

    def _reference_path(self, dataset_id: str) -> Path:
        return self.root / f"{dataset_id}.reference"

    def put(self, data: bytes, name: str, *, now: float | None = None) -> str:
        """Store ``data`` under a new id and return the id (old datasets are purged)."""
        self.root.mkdir(parents=True, exist_ok=True)
        self.purge_expired(now=now)
        dataset_id = secrets.token_urlsafe(16)
        data_path, meta_path = self._paths(dataset_id)
        meta = {
            "name": Path(name).name[:200] or "upload",
            "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
            "created": time.time() if now is None else now,
            "columns": {},
        }
        _write_atomic(data_path, data)
        # The metadata goes last: an id is visible only once its data is complete.
        _write_atomic(meta_path, json.dumps(meta).encode())
        return dataset_id

    def _meta(self, dataset_id: str) -> dict[str, Any] | None:
        if not is_valid_id(dataset_id):
            return None
        try:
            meta = json.loads(self._paths(dataset_id)[1].read_text())
        except (OSError, ValueError):
            return None
        return meta if isinstance(meta, dict) else None

    def _expired(self, meta: dict[str, Any], now: float | None) -> bool:
        created = float(meta.get("created", 0.0))
        return (time.time() if now is None else now) - created > self.retention_s

    def info(self, dataset_id: str, *, now: float | None = None) -> StoredDataset | None:
        """What is known about a dataset, without its bytes (``data`` is empty).

        ``None`` when the id is malformed, unknown or expired (expired ones are deleted).
        """
        meta = self._meta(dataset_id)
        # A refused upload keeps its refusal (and its link says it) after its data is gone.
        if meta is None or not (self._paths(dataset_id)[0].is_file() or meta.get("refused")):
            return None
        if self._expired(meta, now):
            self.delete(dataset_id)
            return None
        return StoredDataset(
            dataset_id=dataset_id,
            name=str(meta.get("name", "upload")),
            data=b"",
            sha256=str(meta.get("sha256", "")),
            created=float(meta.get("created", 0.0)),
            columns={str(k): str(v) for k, v in dict(meta.get("columns") or {}).items()},
            refused=str(meta.get("refused", "")),
        )

    def get(self, dataset_id: str, *, now: float | None = None) -> StoredDataset | None:
        """The dataset with its bytes, or ``None`` when malformed, unknown or expired."""
        found = self.info(dataset_id, now=now)
        if found is None:
            return None
        try:
            data = self._paths(dataset_id)[0].read_bytes()
        except OSError:
            return None
        return replace(found, data=data)

    def set_columns(self, dataset_id: str, columns: dict[str, str]) -> bool:
        """Remember the column mapping that reads this dataset (for shared links)."""
        meta = self._meta(dataset_id)
        if meta is None:
            return False
        meta["columns"] = dict(columns)
        _write_atomic(self._paths(dataset_id)[1], json.dumps(meta).encode())
        return True

    def path(self, dataset_id: str) -> Path | None:
        """Where a dataset's bytes are (``None`` when malformed, unknown or expired), so
        that a reader can map the file instead of holding a copy of it."""
        data = self._paths(dataset_id)[0]
        return data if self.info(dataset_id) is not None and data.is_file() else None

    def put_reference(self, dataset_id: str, data: bytes, name: str) -> bool:
        """Keep ``data`` as the dataset's reference population (replacing any before);
        False when the dataset is unknown or expired."""
        meta = self._meta(dataset_id)
        if meta is None or self.info(dataset_id) is None:
            return False
        _write_atomic(self._reference_path(dataset_id), data)
        meta["reference"] = {
            "name": Path(name).name[:200] or "reference",
            "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
        }
        # The metadata goes last, as in put(): it names the reference once it is whole.
        _write_atomic(self._paths(dataset_id)[1], json.dumps(meta).encode())
        return True

    def reference_info(self, dataset_id: str) -> StoredReference | None:
        """Name and sha256 of the dataset's reference population (``data`` empty), or None."""
        meta = self._meta(dataset_id)
        if meta is None or self.info(dataset_id) is None:
            return None
        ref = meta.get("reference")
        if not isinstance(ref, dict) or not self._reference_path(dataset_id).is_file():
            return None
        return StoredReference(str(ref.get("name", "reference")), str(ref.get("sha256", "")), b"")

    def get_reference(self, dataset_id: str) -> StoredReference | None:
        """The dataset's reference population with its bytes, or None."""
        found = self.reference_info(dataset_id)
        if found is None:
            return None
        try:
            return replace(found, data=self._reference_path(dataset_id).read_bytes())
        except OSError:
            return None

    def delete_reference(self, dataset_id: str) -> bool:
        """Forget the dataset's reference population; True when there was one."""
        meta = self._meta(dataset_id)
        if meta is None or "reference" not in meta:
            return False
        del meta["reference"]
        _write_atomic(self._paths(dataset_id)[1], json.dumps(meta).encode())
        with contextlib.suppress(FileNotFoundError):
            self._reference_path(dataset_id).unlink()
        return True

    def set_refused(self, dataset_id: str, reason: str) -> bool:
        """Remember that this dataset is too large to analyse here, so that opening its
        link says so without reading it again."""
        meta = self._meta(dataset_id)
        if meta is None:
            return False
        meta["refused"] = reason
        _write_atomic(self._paths(dataset_id)[1], json.dumps(meta).encode())
        return True

    def remove_interrupted_writes(self, *, now: float | None = None) -> int:
        """Delete temporary files that no write has touched for a minute (left by a
        process killed mid-write); called when the server starts."""
        if not self.root.is_dir():
            return 0
        cutoff = (time.time() if now is None else now) - INTERRUPTED_WRITE_S
        removed = 0
        for path in self.root.glob(".tmp-*"):
            with contextlib.suppress(OSError):
                if path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed += 1
        return removed

    def delete(self, dataset_id: str, *, keep_refusal: bool = False) -> bool:
        """Remove a dataset; True when something was removed. With ``keep_refusal`` a
        refused upload loses its data but keeps its refusal, which its link then says."""
        if not is_valid_id(dataset_id):
            return False
        meta = self._meta(dataset_id)
        if keep_refusal and meta is not None and meta.get("refused"):
            self._reference_path(dataset_id).unlink(missing_ok=True)
            data = self._paths(dataset_id)[0]
            with contextlib.suppress(FileNotFoundError):
                data.unlink()
                return True
            return False
        removed = False
        # Metadata first: without it the id is unknown even if the data lingers.
        for path in (*reversed(self._paths(dataset_id)), self._reference_path(dataset_id)):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
                removed = True
        return removed

    def purge_expired(self, *, now: float | None = None) -> int:
        """Delete every expired dataset (and stray temporary files); returns how many."""
        if not self.root.is_dir():
            return 0
        count = 0
        for meta_path in self.root.glob("*.json"):
            dataset_id = meta_path.stem
            meta = self._meta(dataset_id)
            if meta is not None and self._expired(meta, now):
                count += int(self.delete(dataset_id))
        # Leftovers of interrupted writes: temporary files, and data whose metadata
        # never landed (such an id was never visible). A day old, so no write is cut.
        cutoff = (time.time() if now is None else now) - SECONDS_PER_DAY
        leftovers = [
            *self.root.glob(".tmp-*"),
            *(p for p in self.root.glob("*.data") if not p.with_suffix(".json").exists()),
            *(p for p in self.root.glob("*.reference") if not p.with_suffix(".json").exists()),
        ]
        for path in leftovers:
            with contextlib.suppress(OSError):
                if path.stat().st_mtime < cutoff:
                    path.unlink()
        return count
