"""The reading stage: files in, canonical pings out.

In: a CSV (plain or gzip, any common delimiter and encoding) or Parquet file, its bytes,
a folder or a glob, and an optional column mapping. Out: a :class:`ReadResult` holding
canonical pings (device id or its hash, UTC timestamp, lat, lon, normalised device
type), the rows rejected counted by reason, which column plays which role, and how the
timestamps were read. A file that cannot be used at all raises
:class:`~explorer.errors.PingFileError` with a one-sentence fix.

Modules: :mod:`.pings` (``read_pings``) and :mod:`.one_file` (one input's read),
:mod:`.sources` and :mod:`.paths` (what files an input names; special files and system
errors in one sentence), :mod:`.decode` (bytes: capped gzip, encodings),
:mod:`.long_lines` (over-long lines become rejected rows), :mod:`.csv_text` and
:mod:`.parquet` (the parsers), :mod:`.mapped_columns` (the mapped columns as a frame),
:mod:`.column_names` (which column is which: explicit, then names from
:mod:`.column_aliases`, then values read by :mod:`.column_content` and decided by
:mod:`.column_guess`; each choice a :mod:`.column_choice` name saying how and why),
:mod:`.detection` (device types, epoch units, timestamp formats), :mod:`.parse`
(vectorised parsing and rejection), :mod:`.chunks` and :mod:`.many_files` (bounded
chunks, several files), :mod:`.device_hash`.
"""

from explorer.reading.pings import REJECT_REASONS, ReadResult, preview_table, read_pings

__all__ = ["REJECT_REASONS", "ReadResult", "preview_table", "read_pings"]
