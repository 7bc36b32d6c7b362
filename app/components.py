"""Small pieces every page draws: header, share link, badges, evidence charts, legend.

Charts only re-shape numbers ``explorer`` computed (evidence series, profiles): no
statistic is computed here. Text that came from a user's file (file and column names,
device types, and findings' titles and stories, which quote them) goes through
:func:`inert` before any Markdown element or label shows it.
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

import pandas as pd
import streamlit as st

from app.state import ViewState
from explorer.analysis import Analysis
from explorer.findings import Finding
from explorer.reports.contract import checks_sections
from explorer.reports.markdown import (
    checks_run_sentence,
    column_hint,
    not_run_sentence,
    skipped_groups,
)

BADGE_COLOURS = {"high": "red", "medium": "orange", "low": "blue"}
DEFAULT_BASE_URL = "http://localhost:8501/"
HOURS = 24


#: Every ASCII punctuation character: CommonMark lets each be escaped, and between them
#: they start all Markdown, LaTeX (``$``), HTML, emoji/icon (``:``) and colour syntax.
_PUNCTUATION = re.compile("([" + re.escape(string.punctuation) + "])")
#: Where GitHub-style autolinks would start (``://``, ``www.``, ``x@y``): Streamlit finds
#: them in the text after escapes are undone, so an invisible word joiner (U+2060), which
#: no URL or e-mail pattern crosses, is put there.
_AUTOLINK = re.compile(r"(?<=:)(?=//)|(?i:(?<=www))(?=\.)|(?=@)")
_WORD_JOINER = "\u2060"


def inert(text: object) -> str:
    """Text from a user's file, to be shown as itself in Markdown (``st.markdown``,
    alerts, captions, status and button labels): no image, link, LaTeX, HTML, emoji or
    emphasis can come from it.

    Whitespace runs become one space (a line break could start a list, a heading or a
    code block); every ASCII punctuation character is backslash-escaped.
    """
    flat = " ".join(str(text).split())
    return _PUNCTUATION.sub(r"\\\1", _AUTOLINK.sub(_WORD_JOINER, flat))


def dataset_header(name: str, note: str = "") -> None:
    """The dataset's name (contract: container ``dataset-name``, "Dataset: <name>")."""
    with st.container(key="dataset-name"):
        st.markdown(f"**Dataset:** {inert(name)}" + (f" · {note}" if note else ""))


def share_box(view: ViewState, url_path: str) -> None:
    """The full URL that reopens this view (contract: container ``share``)."""
    base = st.context.url or DEFAULT_BASE_URL
    root = base.rstrip("/")
    # st.context.url includes the page path; replace it with this page's.
    for known in ("findings", "map", "time", "devices", "panel", "coverage", "compare", "data"):
        if root.endswith("/" + known):
            root = root[: -len(known) - 1]
    query = urlencode(view.to_query())
    # The default page (Findings) lives at the root: Streamlit answers its named path
    # with a "page not found" notice.
    path = "" if url_path == "findings" else url_path
    url = f"{root}/{path}" + (f"?{query}" if query else "")
    with st.sidebar.container(key="share"):
        st.markdown("**Share this view**")
        st.code(url, language=None, wrap_lines=True)


def severity_badge(severity: str) -> None:
    st.badge(severity.upper(), color=BADGE_COLOURS.get(severity, "gray"))


def summary_line(findings: Sequence[Finding], pings: int) -> str:
    """E.g. "3 high · 2 medium · 1 low findings in 172,079 pings"."""
    counts = {s: sum(1 for f in findings if f.severity == s) for s in ("high", "medium", "low")}
    parts = [f"{n} {s}" for s, n in counts.items() if n]
    if not parts:
        return f"No findings in {pings:,} pings"
    noun = "finding" if len(findings) == 1 else "findings"
    return f"{' · '.join(parts)} {noun} in {pings:,} pings"


def evidence_chart(finding: Finding) -> None:
    """A finding's evidence as the HTML report draws it (explorer's display model:
    charts with labelled axes, key numbers in words with units, tables), and the button
    that does what its story asks."""
    from app.evidence import show_action, show_evidence

    show_evidence(finding)
    show_action(finding)


def profile_charts(area: Any, rest: Any, area_label: str) -> None:
    """Hour profile (line) and type mix (bars) of an area against the rest."""
    hours = pd.DataFrame(
        {area_label: area.hour_shares, "rest of the data": rest.hour_shares},
        index=pd.RangeIndex(HOURS, name="local hour"),
    )
    st.line_chart(hours, y_label="share of device-hours")
    types = sorted(set(area.type_shares) | set(rest.type_shares))
    mix = pd.DataFrame(
        {
            area_label: [area.type_shares.get(t, 0.0) for t in types],
            "rest of the data": [rest.type_shares.get(t, 0.0) for t in types],
        },
        index=pd.Index(types, name="device type"),
    )
    st.bar_chart(mix, stack=False, y_label="share of devices")


def skipped_checks(analysis: Analysis) -> None:
    """A caveat listing the checks that could not run and why (contract: container
    ``skipped-checks``); nothing when every check ran."""
    data = checks_sections(analysis)
    if not data["skipped"]:
        return
    reasons = "\n".join(
        f"- {inert(names)}: {inert(reason)}." for reason, names in skipped_groups(data)
    )
    with st.container(key="skipped-checks"):
        st.warning(
            f"**{inert(not_run_sentence(data))}** What they look for is neither found nor "
            f"ruled out:\n\n{reasons}"
        )
        if column_hint(data):
            # A column under a name that was not recognised: the form names it.
            from app.mapping import remap_section

            remap_section("remap-skipped")


def checks_run_note(analysis: Analysis) -> None:
    """Which checks ran (contract: container ``checks-run``), for a page without findings."""
    with st.container(key="checks-run"):
        st.caption(inert(checks_run_sentence(checks_sections(analysis))))


def not_drawn(what: str, reason: str) -> None:
    """Say why a chart is not drawn instead of drawing an empty one (contract: container
    ``not-drawn``)."""
    with st.container(key="not-drawn"):
        st.info(f"No {what}: {inert(reason)}.")
