"""Spill partitions are planned from what the input unpacks to, not its packed size."""

import gzip

from explorer.engines.chunked import BYTES_PER_PING, GZIP_PLANNED_RATIO, partition_count
from explorer.reading.sources import expand_source


def test_a_gzip_file_is_planned_from_its_unpacked_size(tmp_path):
    rows = b"device_id,timestamp,lat,lon\n" + b"d1,1700000000,40.71,-73.99\n" * 400_000
    packed = tmp_path / "p.csv.gz"
    packed.write_bytes(gzip.compress(rows, 9))
    plain = tmp_path / "p.csv"
    plain.write_bytes(rows)
    [gz_file], [csv_file] = expand_source(packed), expand_source(plain)
    assert gz_file.size * GZIP_PLANNED_RATIO < len(rows)  # compresses far better than 8x
    chunk = 10_000
    expected = len(rows) // BYTES_PER_PING // chunk + 1
    assert partition_count([gz_file], chunk) == partition_count([csv_file], chunk) == expected


def test_a_gzip_file_is_planned_at_least_at_the_planned_ratio(tmp_path):
    """The trailer holds the size modulo 4 GiB: a file that unpacks to a multiple of it
    would look tiny, so the packed size times the planned ratio is the floor."""
    packed = tmp_path / "p.csv.gz"
    packed.write_bytes(gzip.compress(b"", 9) + b"\0" * 200_000)  # a trailer saying 0 bytes
    packed.write_bytes(packed.read_bytes()[:-4] + (0).to_bytes(4, "little"))
    [gz_file] = expand_source(packed)
    chunk = 1_000
    planned = gz_file.size * GZIP_PLANNED_RATIO // BYTES_PER_PING // chunk + 1
    assert partition_count([gz_file], chunk) == planned
