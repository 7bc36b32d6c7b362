"""Reading with ``device_ids=False`` (the memory engine's way): each ping's ``device`` hash
instead of its id, hashed by polars as it decodes Parquet, and by the reader for CSV.

The hashes must be exactly what a summary makes of the ids, and a summary of pings read
either way must be the same, duplicates included (the row hash uses the device hash)."""

from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from polars.testing import assert_frame_equal

from explorer.engines.choose import summarise_source
from explorer.reading import parquet as pqa
from explorer.reading.device_hash import HASH_SEED, device_hashes
from explorer.reading.pings import HASHED_PINGS_SCHEMA, PINGS_SCHEMA, read_pings
from explorer.summary import summarise
from explorer.synth.pings import generate_pings, write_pings
from tests.conftest import assert_same_summary

#: Ids as a vendor writes them: repeated, empty (no device), missing, padded (kept as is).
IDS = ["a", "b", "", None, "a", " a", "b"]
#: The fourth ping's latitude is out of range: its row (and its id's slot) is dropped.
LATS = [40.71, 40.72, 40.73, 95.0, 40.75, 40.76, 40.77]


def _columns(ids: list) -> dict[str, pa.Array]:
    n = len(ids)
    return {
        "device_id": pa.array(ids),
        "timestamp": pa.array([1_700_000_000 + 60 * i for i in range(n)]),
        "lat": pa.array(LATS[:n]),
        "lon": pa.array([-74.0 - i / 100 for i in range(n)]),
        "os": pa.array(["iOS", "Android"] * (n // 2) + ["iOS"] * (n % 2)),
    }


def _files(tmp_path: Path) -> dict[str, Path]:
    table = pa.table(_columns(IDS))
    paths = {name: tmp_path / name for name in ("p.parquet", "p.csv", "groups.parquet")}
    pq.write_table(table, paths["p.parquet"])
    pq.write_table(table, paths["groups.parquet"], row_group_size=2)  # ids in chunks
    pl.from_arrow(table).write_csv(paths["p.csv"])
    return paths


def _hash(text: str) -> int:
    return pl.Series([text]).hash(HASH_SEED)[0]


@pytest.mark.parametrize("name", ["p.parquet", "p.csv", "groups.parquet"])
def test_hashed_ids_are_the_summarys_hashes_of_the_ids(tmp_path, name):
    path = _files(tmp_path)[name]
    with_ids = read_pings(path)
    hashed = read_pings(path, device_ids=False)
    assert with_ids.pings.schema == pl.DataFrame(schema=PINGS_SCHEMA).schema
    assert hashed.pings.schema == pl.DataFrame(schema=HASHED_PINGS_SCHEMA).schema
    # Worked by hand: the out-of-range row is gone, empty ids are no device, " a" is not "a".
    wanted = [_hash("a"), _hash("b"), None, _hash("a"), _hash(" a"), _hash("b")]
    assert hashed.pings["device"].to_list() == wanted
    assert hashed.pings["device"].equals(device_hashes(with_ids.pings["device_id"]))
    assert_frame_equal(hashed.pings.drop("device"), with_ids.pings.drop("device_id"))
    assert hashed.rejected_by_reason == with_ids.rejected_by_reason
    assert hashed.rows_read == with_ids.rows_read == 7
    # The file's bytes (an upload) hash the same as the file.
    from_bytes = read_pings(path.read_bytes(), device_ids=False, name=name).pings
    assert_frame_equal(from_bytes, hashed.pings, categorical_as_str=True)


def test_parquet_ids_of_other_types_hash_as_their_text(tmp_path):
    """Numeric ids hash as the text a CSV of them would hold (so a file's profile does not
    depend on its format); a column read for two roles is not hashed while decoding."""
    numbers = tmp_path / "numbers.parquet"
    pq.write_table(pa.table({**_columns(IDS[:3]), "device_id": pa.array([7, 8, 7])}), numbers)
    got = read_pings(numbers, device_ids=False).pings["device"].to_list()
    assert got == [_hash("7"), _hash("8"), _hash("7")]
    shared = tmp_path / "shared.parquet"
    pq.write_table(pa.table(_columns(IDS[:3])), shared)
    mapping = {"device_id": "os", "device_type": "os"}
    assert pqa.hashed_column(mapping, hash_ids=True) is None
    got = read_pings(shared, columns=mapping, device_ids=False).pings["device"].to_list()
    assert got == [_hash("iOS"), _hash("Android"), _hash("iOS")]


def test_a_file_without_ids_has_no_devices_either_way(tmp_path):
    path = tmp_path / "no_ids.parquet"
    columns = _columns(IDS)
    del columns["device_id"]
    pq.write_table(pa.table(columns), path)
    hashed = read_pings(path, device_ids=False).pings
    assert hashed.schema == pl.DataFrame(schema=HASHED_PINGS_SCHEMA).schema
    assert hashed["device"].null_count() == hashed.height == 6


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_summaries_of_pings_read_either_way_are_the_same(tmp_path, suffix):
    """Duplicates included: their row hash takes the device hash instead of the id."""
    path = tmp_path / f"pings{suffix}"
    write_pings(generate_pings(3_000, seed=5, biases=("duplicate_pings",)), path)
    with_ids, hashed = read_pings(path), read_pings(path, device_ids=False)
    expected = summarise(with_ids.pings, 8)
    assert expected.tables["rows"].filter(pl.col("pings") > 1).height > 10  # duplicates seen
    assert_same_summary(expected, summarise(hashed.pings, 8))
    # The memory engine reads hashed ids; a folder of the file reads them too.
    folder = tmp_path / "folder"
    folder.mkdir()
    path.rename(folder / path.name)
    for source in (folder / path.name, folder):
        summary, _ = summarise_source(source, resolution=8, engine="memory")
        full, _ = summarise_source(source, resolution=8, engine="chunked")
        assert_same_summary(full, summary)
