"""The column-mapping form, shown when a file's columns cannot be found (or not surely).

The form opens with the reader's best guesses chosen (``ColumnMappingError.guesses``):
the app guesses nothing itself.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import streamlit as st

from app import cache, state
from app.components import inert
from explorer.errors import PingFileError
from explorer.reading.pings import preview_table

#: Roles the form asks for, with their labels; the first three are required unless a
#: date + time pair stands in for the timestamp.
ROLES = (
    ("lat", "Latitude"),
    ("lon", "Longitude"),
    ("timestamp", "Timestamp"),
    ("date", "Date (with a separate time column)"),
    ("time", "Time of day (with a date column)"),
    ("device_id", "Device id"),
    ("device_type", "Device type / OS"),
)
NONE = "—"
#: A command-line column flag, with its "NAME" placeholder, and a list of them.
_FLAG = r"--[a-z]+(?:-[a-z]+)*(?: NAME)?"
_FLAGS = rf"{_FLAG}(?:(?:, | and | |/){_FLAG})*"
#: Command-line advice in explorer's messages, in the form's words (most specific first).
_IN_THE_FORM = (
    (re.compile(rf"\b(name them|choose|confirm or change) with {_FLAGS}"), r"\1 in the form below"),
    (re.compile(rf"\bcheck {_FLAGS}"), "check the form below"),
    (re.compile(rf" ?\({_FLAGS}\)"), " in the form below"),
    (re.compile(_FLAGS), "the form below"),
)
REMAP_NOTE = "Say which column is which; the file is read again with them."


def in_form_words(message: str) -> str:
    """explorer's message with its command-line flags (``--lat-col NAME``) said as the
    form below, which is what the app offers instead."""
    for pattern, words in _IN_THE_FORM:
        message = pattern.sub(words, message)
    return message


def _stored_bytes(dataset_key: str) -> bytes | None:
    found = cache.store().get(dataset_key)
    return None if found is None else found.data


def _index(choices: list[str], column: str | None) -> int:
    """Where ``column`` is among the choices (0, "—", when it is not one)."""
    return choices.index(column) if column in choices[1:] else 0


def mapping_form(
    dataset, message: str, guesses: Mapping[str, str] | None = None, form_key: str = "mapping"
) -> None:
    """Explain what is missing, preview the file, and ask which column is which.

    ``message`` names the file's columns, so it is shown as text; so are the column
    names in the preview (a table) and the choices (options are never Markdown). Each
    role starts at its column in ``guesses`` (role -> column), if any. ``form_key`` names
    a second form on one page (its selectboxes are ``<form_key>_<role>``; the first
    form's are ``map_<role>``).
    """
    st.warning(inert(in_form_words(message)))
    data = _stored_bytes(dataset.key)
    if data is None:
        return
    try:
        columns, preview = preview_table(data, n=5)
    except PingFileError as exc:
        st.error(inert(exc))
        return
    st.caption("The first rows of the file:")
    st.dataframe(preview.to_pandas(), hide_index=True)
    prefix = "map" if form_key == "mapping" else form_key
    with st.form(form_key):
        st.markdown("**Which column holds what?**")
        choices = [NONE, *columns]
        start = {role: _index(choices, (guesses or {}).get(role)) for role, _ in ROLES}
        picked = {
            role: st.selectbox(label, choices, index=start[role], key=f"{prefix}_{role}")
            for role, label in ROLES
        }
        submitted = st.form_submit_button("Read the file with these columns")
    if submitted:
        mapping = {role: col for role, col in picked.items() if col != NONE}
        has_time = "timestamp" in mapping or {"date", "time"} <= set(mapping)
        if not {"lat", "lon"} <= set(mapping) or not has_time:
            st.error("Choose the latitude, longitude and timestamp (or date and time) columns.")
            return
        state.remember_mapping(dataset.sha256, mapping)
        cache.store().set_columns(dataset.key, mapping)
        st.rerun()


def remap_section(form_key: str) -> None:
    """ "Map these columns": the column form for the dataset on screen, opened from a
    finding or a skipped check that a column the reader did not recognise would settle.
    Nothing for the bundled sample, whose columns are known."""
    from app import pipeline

    view = state.read_view()
    if view.ds is None:
        return
    dataset, _ = pipeline.resolve(view)
    used = cache.read_dataset(dataset.key, dataset.columns, dataset.zone).columns
    with st.expander("Map these columns"):
        mapping_form(dataset, REMAP_NOTE, dict(used), form_key=form_key)
