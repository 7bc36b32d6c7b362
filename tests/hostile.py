"""A pings file whose names and text values are hostile Markdown, LaTeX and HTML.

Shared by the app test and the browser test of inert text: every role's column name and
the device type of one area's devices carry an image pointing at ``image_root``, LaTeX,
bold, an HTML tag and a code span. The area's devices are all of that type, so the
device-type-skew finding quotes it in its title and story.
"""

from __future__ import annotations

import polars as pl

from explorer.synth.pings import generate_pings

#: What makes a string hostile, after its image: math, emphasis, a tag, a code span.
FORMATTING = "$\\frac12$ **bold** <b>x</b> `tick`"
#: Roles of the mapping form, each given a hostile column name.
ROLES = ("lat", "lon", "timestamp", "device_id", "device_type")
#: Pings and seed that give a medium device-type-skew finding (and a null-island one).
N_PINGS, SEED = 8_000, 1
#: Half the side (degrees) of the square around the median ping whose devices get the type.
AREA_DEG = 0.02


def hostile_text(tag: str, url: str) -> str:
    """An image of ``url`` followed by math, bold, an HTML tag and a code span."""
    return f"![{tag}]({url}) {FORMATTING}"


def hostile_file_name(url: str) -> str:
    """A file name with an image of ``url``, math, bold, HTML tags and a code span.

    A file name holds no ``/``: ``url`` may use backslashes instead, and the tags are
    left open.
    """
    return f"![f]({url}) $\\frac12$ **bold** <b>x <img src={url}> `tick` www.x.com a@b.co.csv"


def hostile_pings(image_root: str) -> tuple[bytes, dict[str, str], str]:
    """CSV bytes, the role -> column-name mapping that reads them, and the device type.

    ``image_root`` (e.g. ``http://127.0.0.1:8123``) is where the images point, each named
    ``hostile-*.png``. Names and the type are lower case, as the reader lower-cases
    device types.
    """
    device_type = hostile_text("t", f"{image_root}/hostile-type.png")
    columns = {role: hostile_text(role, f"{image_root}/hostile-{role}.png") for role in ROLES}
    pings = generate_pings(N_PINGS, biases=("null_island",), seed=SEED).pings
    lat0, lon0 = pings["lat"].median(), pings["lon"].median()
    near = ((pl.col("lat") - lat0).abs() < AREA_DEG) & ((pl.col("lon") - lon0).abs() < AREA_DEG)
    devices = pings.filter(near)["device_id"].unique().implode()
    typed = pings.with_columns(
        pl.col("timestamp").dt.epoch("ms"),
        device_type=pl.when(pl.col("device_id").is_in(devices))
        .then(pl.lit(device_type))
        .otherwise(pl.lit("android")),
    )
    # A second latitude, named like the first: the reader cannot tell which is meant, so
    # the upload goes through the mapping form (whose texts are under test too).
    copy = hostile_text("lat", f"{image_root}/hostile-lat-copy.png")
    typed = typed.with_columns(pl.col("lat").alias(copy))
    data = typed.select([*ROLES, copy]).rename(columns).write_csv().encode()
    return data, columns, device_type
