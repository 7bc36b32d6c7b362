"""Ping Bias Explorer: the Streamlit entry point (page config and navigation only)."""

from __future__ import annotations

import streamlit as st

from app.views.compare import compare_page
from app.views.coverage import coverage_page
from app.views.data import data_page
from app.views.device_types import devices_page
from app.views.findings import findings_page
from app.views.map_view import map_page
from app.views.panel import panel_page
from app.views.time_of_day import time_page

PAGES = (
    (findings_page, "Findings", "findings"),
    (map_page, "Map", "map"),
    (time_page, "Time of day", "time"),
    (devices_page, "Device types", "devices"),
    (panel_page, "Panel", "panel"),
    (coverage_page, "Coverage", "coverage"),
    (compare_page, "Compare", "compare"),
    (data_page, "Data", "data"),
)


def main() -> None:
    """Configure the page and run the chosen one (Findings by default)."""
    st.set_page_config(page_title="Ping Bias Explorer", layout="wide")
    pages = [
        st.Page(func, title=title, url_path=path, default=(path == "findings"))
        for func, title, path in PAGES
    ]
    st.navigation(pages).run()


main()
