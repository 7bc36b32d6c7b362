"""One input's bytes into canonical, validated pings: the columns found, coordinates and
timestamps parsed in vectorised polars, rejected rows counted by reason, and a
:class:`PingFileError` with a one-sentence fix for an input that cannot be used at all.
"""

from __future__ import annotations

import hashlib
import threading
import zoneinfo
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

import polars as pl

from explorer.errors import PingFileError
from explorer.reading import decode as _io_bytes
from explorer.reading import mapped_columns as src
from explorer.reading import parse
from explorer.reading.column_choice import column_choices
from explorer.reading.decode import EmptyInputError
from explorer.reading.device_hash import device_hashes

#: Rejection reasons, in the order they are checked; a row counts under the first that applies.
REJECT_REASONS = (
    "malformed_line",
    "latitude_missing",
    "latitude_unparsable",
    "latitude_out_of_range",
    "longitude_missing",
    "longitude_unparsable",
    "longitude_out_of_range",
    "timestamp_missing",
    "timestamp_unparsable",
)

#: Share of latitudes outside ±90° (with every longitude inside ±90°) that means swapped columns.
SWAP_SHARE = 0.9

PINGS_SCHEMA = {
    "device_id": pl.String,
    "timestamp": pl.Datetime("us", "UTC"),
    "lat": pl.Float64,
    "lon": pl.Float64,
    # Normalised types, a code per ping: see explorer.reading.mapped_columns.device_types.
    "device_type": pl.Categorical,
}
#: The pings of ``read_pings(device_ids=False)``: each id's hash instead of the id (see
#: :func:`explorer.reading.device_hash.device_hash`), null where there is none.
HASHED_PINGS_SCHEMA = {
    "device": pl.UInt64,
    **{k: v for k, v in PINGS_SCHEMA.items() if k != "device_id"},
}


@dataclass(frozen=True)
class ReadResult:
    """Canonical pings plus what reading them took: counts, column choices, time reading."""

    pings: pl.DataFrame
    source: str
    rows_read: int
    rejected_by_reason: dict[str, int]
    time_interpretation: str
    naive_timestamps: bool
    columns: dict[str, str]
    input_sha256: str  # "" when the caller did not ask for it (``digest=False``)
    files: dict[str, int] = field(default_factory=lambda: {"read": 1, "empty": 0})

    @property
    def rows_used(self) -> int:
        """Rows kept (every row that was read and not rejected)."""
        return self.pings.height

    @property
    def rows_rejected(self) -> int:
        """Rows rejected, all reasons together."""
        return sum(self.rejected_by_reason.values())

    @property
    def column_choices(self) -> list[dict[str, str]]:
        """Why each column plays its role: role, column, how (explicit, name or content)
        and why (see :mod:`explorer.reading.column_choice`)."""
        return column_choices(self.columns)


class _Digest:
    """The input's sha256, hashed on a thread (hashlib releases the GIL) from :meth:`start`
    on: the reader starts it once the file is parsed, when the single-threaded steps
    after the parse leave a core idle.
    """

    def __init__(self, raw: _io_bytes.Buffer) -> None:
        self._raw = raw
        self._future: Future[str] = Future()
        self._started = False

    def start(self) -> None:
        if not self._started:
            self._started = True
            threading.Thread(target=self._work).start()

    def _work(self) -> None:
        try:
            self._future.set_result(_sha256(self._raw))
        except BaseException as exc:  # never leave the reader waiting
            self._future.set_exception(exc)

    def wait(self) -> None:
        """Wait for a started hash to finish (the input must outlive it)."""
        if self._started:
            wait([self._future])

    def result(self) -> str:
        self.start()
        try:
            return self._future.result()
        except OSError:  # the file became unreadable after it was mapped: hash the map
            return hashlib.sha256(self._raw).hexdigest()


def _sha256(raw: _io_bytes.Buffer) -> str:
    """A mapped file is hashed from the file in buffered reads, so that hashing does not
    bring the parsed (and released) pages back into the process."""
    if isinstance(raw, _io_bytes.FileMap):
        with open(raw.path, "rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()
    return hashlib.sha256(raw).hexdigest()


class _NoDigest:
    """:class:`_Digest`'s interface for a read that was not asked for the sha256."""

    def start(self) -> None:
        return None

    def wait(self) -> None:
        return None

    def result(self) -> str:
        return ""


def check_zone(tz: str | None) -> None:
    if tz is None:
        return
    try:
        zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise PingFileError(
            f"Time zone {tz!r} is not a known IANA zone; give one like Europe/Paris or UTC."
        ) from exc


def read_raw(
    raw: _io_bytes.Buffer,
    label: str,
    columns: Mapping[str, str] | None,
    tz: str | None,
    *,
    strict: bool = True,
    digest: bool = True,
    device_ids: bool = True,
    max_unpacked: int | None = None,
) -> ReadResult:
    """Read one file's bytes; ``strict=False`` accepts a file whose every row is rejected
    (``digest``, ``device_ids`` and ``max_unpacked`` as in :func:`read_pings`)."""
    sha256 = _Digest(raw) if digest else _NoDigest()

    def parsed() -> None:
        _io_bytes.release_pages(raw)  # the parsed table holds its own copy
        sha256.start()

    try:
        table = src.read_table(
            raw, columns, label, parsed, hash_ids=not device_ids, max_unpacked=max_unpacked
        )
        pings, counts, timing = validate(table, tz, label, strict=strict, device_ids=device_ids)
    except src.DECODE_ERRORS as exc:
        raise unreadable(label, exc) from exc
    finally:
        sha256.wait()
    return ReadResult(
        pings=pings,
        source=label,
        rows_read=table.frame.height + table.malformed,
        rejected_by_reason=counts,
        time_interpretation=timing.interpretation,
        naive_timestamps=timing.naive,
        columns=dict(table.mapping),
        input_sha256=sha256.result(),
    )


def unreadable(label: str, exc: Exception) -> PingFileError:
    """Never a bare engine traceback: the user gets one sentence (the cause stays chained)."""
    return PingFileError(
        f"{label} could not be read ({type(exc).__name__}); check that it is a ping CSV "
        "or Parquet file, or pass the column mapping explicitly."
    )


def _reason_codes(lat: parse.Parsed, lon: parse.Parsed, stamp: parse.Parsed) -> pl.Series:
    """Reason index per row (0 = kept), the first failing check in design order."""
    checks = [
        lat.missing,
        lat.unparsable,
        _outside(lat.values, 90.0),
        lon.missing,
        lon.unparsable,
        _outside(lon.values, 180.0),
        stamp.missing,
        stamp.unparsable,
    ]
    if not any(check.any() for check in checks):  # a clean file: nothing to classify
        return pl.zeros(lat.values.len(), pl.UInt8, eager=True).alias("reason")
    frame = pl.DataFrame(dict(zip("abcdefgh", checks, strict=True)))
    expr = pl.lit(0, pl.UInt8)
    for code, column in reversed(list(enumerate("abcdefgh", start=1))):
        expr = pl.when(pl.col(column).fill_null(False)).then(pl.lit(code, pl.UInt8)).otherwise(expr)
    return frame.select(expr.alias("reason")).to_series()


def _outside(values: pl.Series, limit: float) -> pl.Series:
    """True where a parsed coordinate lies beyond ±``limit`` (null where there is none).

    A range test, so that no column of absolute values is made.
    """
    return ~values.is_between(-limit, limit)


def _check_swapped(lat: pl.Series, lon: pl.Series, mapping: Mapping[str, str]) -> None:
    """Raise when latitude and longitude look swapped throughout the file.

    ``lat`` and ``lon`` are parsed values, null where not finite.
    """
    both = pl.DataFrame({"lat": lat, "lon": lon}).select(
        usable=(pl.col("lat").is_not_null() & pl.col("lon").is_not_null()).sum(),
        lat_out=(~pl.col("lat").is_between(-90.0, 90.0) & pl.col("lon").is_not_null()).sum(),
        lon_out=(~pl.col("lon").is_between(-90.0, 90.0) & pl.col("lat").is_not_null()).sum(),
    )
    usable, lat_out, lon_out = both.row(0)
    if usable and lat_out > SWAP_SHARE * usable and lon_out == 0:
        raise PingFileError(
            f"Latitude and longitude look swapped ({lat_out / usable:.0%} of latitudes are "
            f"outside ±90°); read the file with --lat-col {mapping['lon']} "
            f"--lon-col {mapping['lat']}."
        )


def _counts(codes: pl.Series, malformed: int) -> dict[str, int]:
    tally = codes.value_counts()
    by_code = dict(zip(tally["reason"].to_list(), tally["count"].to_list(), strict=True))
    counts = {"malformed_line": malformed}
    for code, reason in enumerate(REJECT_REASONS[1:], start=1):
        counts[reason] = int(by_code.get(code, 0))
    return counts


def check_all_rejected(counts: dict[str, int], rows_read: int, label: str) -> None:
    """Raise the error for an input none of whose rows is usable."""
    if rows_read == 0:
        raise EmptyInputError(
            f"{label} has a header but no data rows; export the file again with its rows."
        )
    # The commonest reasons, largest first (ties in the design's order): one reason named
    # as "most often" would be wrong when several share the lead.
    named = sorted((r for r in REJECT_REASONS if counts[r]), key=lambda r: -counts[r])[:3]
    reasons = ", ".join(f"{reason}: {counts[reason]:,}" for reason in named)
    raise PingFileError(
        f"Every one of the {rows_read:,} rows of {label} was rejected ({reasons}); check the "
        "column mapping (--lat-col/--lon-col/--time-col) and the file's format."
    )


def validate(
    table: src.RawTable,
    tz: str | None,
    label: str,
    *,
    strict: bool = True,
    device_ids: bool = True,
) -> tuple[pl.DataFrame, dict[str, int], parse.Timing]:
    """Parse, classify and keep rows; localise naive times of the kept rows.

    With ``strict`` (one whole file) a table none of whose rows is usable is an error;
    chunks and files of a folder are judged together instead, by the caller. Without
    ``device_ids`` the pings have the ids' hashes instead (:data:`HASHED_PINGS_SCHEMA`).
    """
    frame, mapping = table.frame, table.mapping
    # The ids are cleaned or hashed on the other core while the columns below are parsed.
    with ThreadPoolExecutor(1) as pool:
        devices = pool.submit(_devices, frame, device_ids)
        lat = parse.parse_number(frame["lat"], table.decimal_comma)
        lon = parse.parse_number(frame["lon"], table.decimal_comma)
        _check_swapped(lat.values, lon.values, mapping)
        stamp, timing = parse.parse_timestamps(frame, mapping, tz)
        codes = _reason_codes(lat, lon, stamp)
        counts = _counts(codes, table.malformed)
        keep = codes == 0
        if strict and not bool(keep.any()):
            check_all_rejected(counts, frame.height + table.malformed, label)
        device_column = devices.result()
    columns = {
        device_column.name: device_column,
        "timestamp": stamp.values,
        "lat": lat.values,
        "lon": lon.values,
        "device_type": frame["device_type"]  # normalised by the source reader
        if "device_type" in frame.columns
        else pl.repeat("unknown", frame.height, dtype=pl.Categorical, eager=True),
    }
    if sum(counts.values()) > table.malformed:  # filtering copies: skip it for clean files
        columns = {role: values.filter(keep) for role, values in columns.items()}
    columns["timestamp"] = parse.to_utc(
        columns["timestamp"], timing, columns["lat"], columns["lon"], tz
    )
    pings = pl.DataFrame(columns, schema=PINGS_SCHEMA if device_ids else HASHED_PINGS_SCHEMA)
    return pings, counts, timing


def _devices(frame: pl.DataFrame, device_ids: bool) -> pl.Series:
    """The pings' ``device_id`` column, or with ``device_ids=False`` their ``device``
    hashes (a Parquet reader may have hashed them already)."""
    if "device" in frame.columns:
        return frame["device"]
    ids = (
        frame["device_id"]
        if "device_id" in frame.columns
        else pl.repeat(None, frame.height, dtype=pl.String, eager=True)
    )
    return parse.clean_device_id(ids) if device_ids else device_hashes(ids)
