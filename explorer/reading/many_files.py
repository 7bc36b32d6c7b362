"""Reading several files as one input: per-file results summed, empty files counted.

Every file is read with the same explicit mapping and its own column detection. An
empty file (no bytes, blank, header only, Parquet without rows) is counted under
``files.empty``; any other unusable file stops the read with an error naming it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from explorer.errors import PingFileError
from explorer.reading import decode as _io_bytes
from explorer.reading import sources
from explorer.reading.column_choice import combined
from explorer.reading.decode import EmptyInputError
from explorer.reading.one_file import REJECT_REASONS, ReadResult, check_all_rejected, read_raw


def named(label: str, exc: PingFileError) -> PingFileError:
    """A new error naming the file (its name put in front unless the message has it).

    Always a new object: ``raise named(...) from exc`` must not make ``exc`` its own
    cause (a cycle that Dask's traceback pickling never finishes).
    """
    message = str(exc)
    return PingFileError(message if label in message else f"{label}: {message}")


def load(file: sources.InputFile) -> _io_bytes.Buffer:
    """A local file as a memory map (no copy), a URL's bytes otherwise."""
    if file.url:
        return file.read_bytes()
    return _io_bytes.load_bytes(file.path, file.label)[0]


@dataclass
class Totals:
    """Counts summed over files (or chunks): rows, rejections, time reading, mapping."""

    rows_read: int = 0
    rejected: dict[str, int] = field(default_factory=lambda: dict.fromkeys(REJECT_REASONS, 0))
    interpretations: list[str] = field(default_factory=list)
    naive: bool = False
    columns: dict[str, list[str]] = field(default_factory=dict)
    files_read: int = 0
    files_empty: int = 0
    empty_message: str = ""

    def add(
        self,
        rows_read: int,
        rejected: Mapping[str, int],
        interpretation: str,
        naive: bool,
        columns: Mapping[str, str],
    ) -> None:
        self.rows_read += rows_read
        for reason, n in rejected.items():
            self.rejected[reason] = self.rejected.get(reason, 0) + int(n)
        if interpretation and interpretation not in self.interpretations:
            self.interpretations.append(interpretation)
        self.naive = self.naive or naive
        for role, column in columns.items():
            names = self.columns.setdefault(role, [])
            if column not in names:
                names.append(column)

    def add_chunk(self, chunk: Any) -> None:
        """Count one chunk read by ``explorer.reading.chunks`` (rows, rejections, columns)."""
        self.add(
            chunk.rows_read,
            chunk.rejected,
            chunk.timing.interpretation,
            chunk.timing.naive,
            chunk.columns,
        )

    @property
    def interpretation(self) -> str:
        return "; ".join(self.interpretations)

    @property
    def mapping(self) -> dict[str, str]:
        """Role -> column; a role named differently in different files lists every name."""
        return {role: combined(names) for role, names in self.columns.items()}

    @property
    def files(self) -> dict[str, int]:
        return {"read": self.files_read, "empty": self.files_empty}

    def check_usable(self, used: int, label: str) -> None:
        """Raise when nothing at all could be used."""
        if used:
            return
        if self.files_read == 1 and self.empty_message:
            raise EmptyInputError(self.empty_message)
        if self.files_read == self.files_empty:
            raise EmptyInputError(
                f"{label}: all {self.files_read} files are empty; check the export."
            )
        check_all_rejected(self.rejected, self.rows_read, label)


def read_many(
    files: Iterable[sources.InputFile],
    columns: Mapping[str, str] | None,
    tz: str | None,
    label: str,
    *,
    digest: bool = True,
    device_ids: bool = True,
    max_unpacked: int | None = None,
) -> ReadResult:
    """Read every file in memory and concatenate their pings (for small inputs).

    ``digest``, ``device_ids`` and ``max_unpacked`` (per file) as in
    :func:`explorer.reading.pings.read_pings`."""
    totals, frames, digests = Totals(), [], []
    for file in files:
        totals.files_read += 1
        try:
            result = read_raw(
                load(file),
                file.label,
                columns,
                tz,
                strict=False,
                digest=digest,
                device_ids=device_ids,
                max_unpacked=max_unpacked,
            )
        except EmptyInputError as exc:
            totals.files_empty += 1
            totals.empty_message = str(exc)
            continue
        except PingFileError as exc:
            raise named(file.label, exc) from exc
        totals.add(
            result.rows_read,
            result.rejected_by_reason,
            result.time_interpretation,
            result.naive_timestamps,
            result.columns,
        )
        frames.append(result.pings)
        digests.append(result.input_sha256)
    used = sum(f.height for f in frames)
    totals.check_usable(used, label)
    # Contiguous now: the summary's first step would copy them anyway, and the pings
    # would be held twice while it runs.
    pings = pl.concat(frames, how="vertical").rechunk()
    frames.clear()
    return ReadResult(
        pings=pings,
        source=label,
        rows_read=totals.rows_read,
        rejected_by_reason=totals.rejected,
        time_interpretation=totals.interpretation,
        naive_timestamps=totals.naive,
        columns=totals.mapping,
        input_sha256=sources.combined_sha256(digests) if digest else "",
        files=totals.files,
    )
