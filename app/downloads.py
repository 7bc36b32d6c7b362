"""Downloads of the Data page: reports, per-cell tables and polygons, fixes.

Every file is produced only when its button is pressed (a callable ``data``), so
drawing the page costs nothing. Every CSV is written by :mod:`explorer.safe_csv`
(formula-safe). The fixes hold the user's own rows, device ids in clear: they are
offered to the browser session that uploaded the file (and for the bundled sample),
never to someone who opened a shared link.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import streamlit as st

from app import cache, state
from app.components import inert
from app.frame import Page
from explorer import cleaning as actions
from explorer import safe_csv
from explorer.findings import Finding
from explorer.reports import geo
from explorer.reports.contract import render


def _stem(page: Page) -> str:
    return _file_stem(page.dataset.name)


def _file_stem(file_name: str) -> str:
    name = Path(file_name).name
    for suffix in (".gz", ".csv", ".parquet"):
        name = name.removesuffix(suffix)
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name) or "pings"


def download_section(page: Page) -> None:
    """Report (HTML, Markdown, JSON), per-cell CSV, GeoJSON and GeoParquet."""
    st.subheader("Downloads")
    analysis = page.analysis
    stem = _stem(page)

    def metrics():
        return cache.metrics_for(*page.args)[0]

    cols = st.columns(3)
    for col, (fmt, ext, mime) in zip(
        cols,
        (
            ("html", "html", "text/html"),
            ("markdown", "md", "text/markdown"),
            ("json", "json", "application/json"),
        ),
    ):
        col.download_button(
            f"Report ({fmt.upper() if fmt != 'markdown' else 'Markdown'})",
            data=lambda fmt=fmt: render(analysis, fmt),
            file_name=f"{stem}-report.{ext}",
            mime=mime,
            key=f"dl-report-{fmt}",
            on_click="ignore",
        )
    cols = st.columns(3)
    cols[0].download_button(
        "Cells (CSV)",
        data=lambda: geo.cells_csv(metrics()),
        file_name=f"{stem}-cells.csv",
        mime="text/csv",
        key="dl-cells-csv",
        on_click="ignore",
    )
    cols[1].download_button(
        "Cells and findings (GeoJSON)",
        data=lambda: _geojson(metrics(), analysis.findings),
        file_name=f"{stem}-cells.geojson",
        mime="application/geo+json",
        key="dl-geojson",
        on_click="ignore",
    )
    cols[2].download_button(
        "Cells (GeoParquet)",
        data=lambda: geo.to_geoparquet(geo.cells_geodataframe(metrics())),
        file_name=f"{stem}-cells.parquet",
        mime="application/vnd.apache.parquet",
        key="dl-geoparquet",
        on_click="ignore",
    )
    if any(f.cells for f in analysis.findings):
        st.download_button(
            "Findings' areas (GeoParquet)",
            data=lambda: geo.to_geoparquet(geo.findings_geodataframe(analysis.findings)),
            file_name=f"{stem}-findings.parquet",
            mime="application/vnd.apache.parquet",
            key="dl-findings-geoparquet",
            on_click="ignore",
        )


def _geojson(metrics, findings) -> str:
    """One FeatureCollection: cell hexagons, then findings' areas (``layer`` says which)."""
    import pandas as pd

    cells = geo.cells_geodataframe(metrics).assign(layer="cell")
    areas = geo.findings_geodataframe(findings).assign(layer="finding")
    both = pd.concat([cells, areas], ignore_index=True)
    return geo.to_geojson(both)


def _cleaned(page: Page, drop: tuple[str, ...]) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "cleaned.csv"
        actions.clean(page.read, drop, out, analysis=page.analysis)
        return out.read_bytes()


def _affected_csv(page: Page, finding: Finding) -> bytes:
    """The rows behind ``finding``, as formula-safe CSV."""
    return safe_csv.csv_bytes(actions.affected_rows(page.read, finding, page.analysis))


def _rows_offered(page: Page) -> bool:
    """Whether this session may download rows of the file: its uploader, or anyone for
    the bundled sample."""
    return page.dataset.is_sample or state.owns(page.dataset.key)


def fixes_section(page: Page) -> None:
    """The fixes: rows behind the selected finding, a cleaned copy of the file."""
    st.subheader("Fixes")
    if not _rows_offered(page):
        st.caption("Only the browser session that uploaded this file can download its rows.")
        return
    st.caption("These files hold your own rows with their original values (device ids too).")
    finding = page.selected_finding()
    stem = _stem(page)
    if finding is None:
        st.caption("Select a finding (Show on map) to download the rows behind it.")
    else:
        st.download_button(
            # The title quotes the data; a button label is Markdown.
            f"Rows behind “{inert(finding.title)}” (CSV)",
            data=lambda: _affected_csv(page, finding),
            file_name=f"{stem}-{finding.kind}-rows.csv",
            mime="text/csv",
            key="dl-affected",
            on_click="ignore",
        )
    present = {f.kind for f in page.analysis.findings}
    droppable = [k for k in actions.DROPPABLE if k in present]
    if not droppable:
        st.caption("No finding here has rows that a cleaned copy would drop.")
        return
    drop = st.multiselect("Drop the rows of", droppable, default=droppable, key="drop-kinds")
    if drop:
        st.download_button(
            "Cleaned file (CSV)",
            data=lambda: _cleaned(page, tuple(drop)),
            file_name=f"{stem}-cleaned.csv",
            mime="text/csv",
            key="dl-cleaned",
            on_click="ignore",
        )


def _cleaned_of_view(view: state.ViewState, kind: str) -> bytes:
    """The dataset of ``view`` without the rows of ``kind``, as formula-safe CSV (the
    devices of a concentration come from an analysis of the whole file)."""
    from app import pipeline

    dataset, _ = pipeline.resolve(view)
    read = cache.read_dataset(dataset.key, dataset.columns, dataset.zone)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "cleaned.csv"
        actions.clean(read, (kind,), out, resolution=view.res)
        return out.read_bytes()


def cleaned_copy_button(finding: Finding) -> None:
    """ "Download a cleaned copy": the file on screen without the finding's rows, for the
    session that uploaded it (or anyone, for the bundled sample)."""
    view = state.read_view()
    key = view.ds or cache.SAMPLE_KEY
    if key != cache.SAMPLE_KEY and not state.owns(key):
        st.caption("Only the browser session that uploaded this file can download a copy of it.")
        return
    name = cache.sample_path().name if view.ds is None else cache.store().info(key).name
    st.download_button(
        "Download a cleaned copy (CSV)",
        data=lambda: _cleaned_of_view(view, finding.kind),
        file_name=f"{_file_stem(name)}-without-{finding.kind}.csv",
        mime="text/csv",
        key=f"dl-clean-{finding.id}",
        on_click="ignore",
        help="Your own rows with their original values, without the rows of this finding.",
    )
