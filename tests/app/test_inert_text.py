"""Names and values from a user's file reach Markdown only escaped (AppTest).

A file whose column names, device types and file name are hostile Markdown (an image,
LaTeX, bold, an HTML tag, a code span, an autolink) is uploaded, mapped through the
form, and every page is drawn with its device-type finding selected. Every text that
Streamlit renders as Markdown (bodies of markdown, captions, alerts and headings;
labels of widgets, buttons and status boxes) must hold the hostile strings only as
:func:`app.components.inert` writes them.
"""

from __future__ import annotations

import re

from streamlit.testing.v1 import AppTest

from app.components import inert
from explorer.analysis import analyze
from explorer.reading.decode import shown_name
from tests.app.conftest import PAGES, finding_ids
from tests.hostile import hostile_file_name, hostile_pings, hostile_text

#: Elements whose ``value`` Streamlit renders as Markdown (``label``s always are).
MARKDOWN_VALUES = {
    "markdown", "caption", "title", "header", "subheader", "error", "warning", "info",
    "success",
}  # fmt: skip
#: Pieces of the hostile strings that must never appear unescaped.
MARKERS = ("![", "](", "$\\frac", "**bold**", "<b>x", "<img", "`tick`", "www.", "a@b")
FILE_NAME = hostile_file_name("http:\\\\127.0.0.1:9\\f.png")


def markdown_texts(at: AppTest) -> list[str]:
    """Every string of the page that Streamlit renders as Markdown."""
    found: list[str] = []

    def walk(node: object) -> None:
        value, label = getattr(node, "value", None), getattr(node, "label", None)
        if getattr(node, "type", None) in MARKDOWN_VALUES and isinstance(value, str):
            found.append(value)
        if isinstance(label, str):
            found.append(label)
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at.main)
    walk(at.sidebar)
    return found


def unescaped(markdown: str) -> str:
    """What is left of ``markdown`` once every backslash-escaped character is removed."""
    return re.sub(r"\\.", "", markdown)


def assert_inert(texts: list[str], page: str) -> None:
    for text in texts:
        left = unescaped(text)
        raw = [m for m in MARKERS if m in left]
        assert not raw, (page, raw, text)


def test_hostile_names_and_values_are_escaped_on_every_page(page_app) -> None:
    data, columns, device_type = hostile_pings("http://127.0.0.1:9")
    at = page_app("findings").run()
    at.file_uploader(key="upload").set_value((FILE_NAME, data, "text/csv")).run()
    assert not at.exception
    texts = markdown_texts(at)
    assert_inert(texts, "mapping form")
    # The warning names the columns (shortened, so that it stays one line).
    assert inert(shown_name(columns["lat"])) in at.warning[0].value
    assert any(inert(FILE_NAME) in t for t in texts)  # the header names the file

    for role, column in columns.items():
        at.selectbox(key=f"map_{role}").set_value(column)
    at.button[0].click()  # the form's submit button
    at.run()
    assert not at.exception
    expected = analyze(data, columns=columns, name=FILE_NAME).findings
    skew = next(f for f in expected if f.kind == "device_type_skew")
    assert device_type in skew.title and skew.id in finding_ids(at)
    at.button(key=f"select-{skew.id}").click().run()

    shown: dict[str, list[str]] = {}
    for name, target in PAGES.items():
        at.session_state["test_page"] = target
        at.run()
        assert not at.exception, name
        shown[name] = markdown_texts(at)
        assert_inert(shown[name], name)
    findings = "\n".join(shown["findings"])
    assert f"**{inert(skew.title)}**" in findings and inert(skew.story) in findings
    assert any(inert(skew.title) in t for t in shown["time"])
    assert any(inert(skew.title) in t for t in shown["devices"])
    data_page = "\n".join(shown["data"])
    assert all(inert(column) in data_page for column in columns.values())  # columns used
    assert f"Rows behind “{inert(skew.title)}” (CSV)" in data_page


def test_inert_text_reads_back_as_itself() -> None:
    """Undoing the escapes (as Markdown does) and the invisible joiners gives the text."""
    text = hostile_text("x", "http://h.example/x.png") + " :smile: :red[r] www.x.com a@b.co"
    escaped = inert(text)
    assert re.sub(r"\\(.)", r"\1", escaped).replace("\u2060", "") == text
    assert "\n" not in inert("a\n\n    # b\n1. c") and inert("a\n\n  b") == "a b"
