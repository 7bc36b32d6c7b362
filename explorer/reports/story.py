"""The data story: what the data is and whether it can be trusted, in 3–6 plain sentences.

Written from the analysis for the reader who reads nothing else: what the pings are
(how many, from how many devices, where, when, which device types), the problems that
would change a conclusion, the checks that passed, and what the data is fit for and
not fit for. Places are named offline (:func:`explorer.geography.naming.name_point`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl

from explorer.binning.cells import cell_centres, cells_to_parent, connected_components
from explorer.findings import Finding
from explorer.geography.naming import PlaceName, name_point
from explorer.reports.story_words import (
    NEED_WORDS,
    NOT_FIT,
    NOT_FIT_LACKING,
    PASSED,
    USES,
    join_words,
    number_word,
    plural_about,
    problem_clause,
    share_words,
)
from explorer.summary.mass import near_null_island, weighted_quantile

if TYPE_CHECKING:  # pragma: no cover - typing only
    from explorer.analysis import Analysis
    from explorer.summary import Summary

__all__ = ["data_story", "story_sentences"]

#: Places are groups of touching cells at this resolution (coarser for sparse data).
PLACE_RESOLUTION = 5
#: Most coarse cells grouped into places: beyond it the grid is made coarser.
PLACE_MAX_CELLS = 2_000
#: A place holding this share of pings is one of the data's main places.
PLACE_SHARE = 0.1
#: Degrees around (0, 0) left out of places: null island is a problem, not a place.
NULL_ISLAND_DEG = 0.5
#: Main places named in the story; the others are counted.
NAMED_PLACES = 4
#: Problems told, most serious first; the others are counted.
TOLD_PROBLEMS = 3
#: Checks that passed named in the story; the others are counted.
NAMED_CHECKS = 4
#: Device types named with their share; the rest are "other types".
NAMED_TYPES = 3
#: Severities of a problem that would change a conclusion.
SERIOUS = ("high", "medium")
#: Device-type values that say nothing about the type.
NO_TYPE = ("unknown", None)


def data_story(analysis: Analysis) -> str:
    """The story of ``analysis`` as one paragraph, computed once per analysis."""
    cached = analysis.__dict__.get("_data_story")
    if cached is None:
        cached = " ".join(story_sentences(analysis))
        # Analysis is frozen; the story is derived from it, so it is kept beside its fields.
        analysis.__dict__["_data_story"] = cached
    return cached


def story_sentences(analysis: Analysis) -> list[str]:
    """What the data is (one to three sentences), its problems, what passed, its fitness."""
    serious = serious_by_kind(analysis.findings)
    sentences = what_sentences(analysis.summary)
    sentences.append(problems_sentence(serious))
    sentences.append(passed_sentence(analysis, serious))
    sentences.append(fitness_sentence(analysis, serious))
    return [s for s in sentences if s]


def serious_by_kind(findings: list[Finding]) -> dict[str, list[Finding]]:
    """Medium and high findings grouped by kind, kinds in rank order of their first."""
    out: dict[str, list[Finding]] = {}
    for finding in findings:
        if finding.severity in SERIOUS:
            out.setdefault(finding.kind, []).append(finding)
    return out


# What the data is


def what_sentences(summary: Summary) -> list[str]:
    """How many pings from how many devices, where and when; then the device types."""
    places = main_places(summary)
    devices = summary.tables["devices"]["device"].n_unique()
    who = f" from {plural_about(devices, 'device')}" if devices else ""
    head = f"The data holds {plural_about(summary.rows_used, 'ping')}{who}"
    when = time_phrase(summary, places[0].named.zone if places else "UTC")
    if len(places) <= 1:
        where = places[0].named.where if places else "with no usable location"
        sentences = [f"{head} {where}, {when}."]
    else:
        sentences = [f"{head} {when}.", places_sentence(places)]
    types = types_phrase(summary, bool(devices))
    if devices:
        return [*sentences, f"{types[:1].upper()}{types[1:]}."]
    return [*sentences, f"It has no device ids, so every count is of pings, not people; {types}."]


def time_phrase(summary: Summary, zone: str) -> str:
    """'over 14 days, from 3 to 16 June 2024', 'over about 4 hours on 29 November 2019'
    (dates on the clock of ``zone``)."""
    cells = summary.tables["cells"]
    if cells.is_empty():
        return "at no known time"
    tz = ZoneInfo(zone)
    start, end = cells["first_seen"].min(), cells["last_seen"].max()
    first, last = start.astimezone(tz).date(), end.astimezone(tz).date()
    hours = (end - start) / dt.timedelta(hours=1)
    days = (last - first).days + 1
    if hours < 23:
        length = f"about {round(hours)} hours" if hours >= 1.5 else "less than two hours"
        return f"over {length} {_dates(first, last)}"
    if days == 1:
        return _dates(first, last)
    if days <= 62:
        length = f"{days} days"
    elif days < 730:
        length = f"about {round(days / 30.44)} months"
    else:
        length = f"about {round(days / 365.25)} years"
    return f"over {length}, {_dates(first, last)}"


def _dates(first: dt.date, last: dt.date) -> str:
    """'on 3 June 2024', 'from 3 to 16 June 2024', 'from 23 April 2009 to 23 October 2010'."""

    def day(d: dt.date, month: bool = True, year: bool = True) -> str:
        return " ".join([str(d.day)] + [d.strftime("%B")] * month + [str(d.year)] * year)

    if first == last:
        return f"on {day(first)}"
    same_year = first.year == last.year
    same_month = same_year and first.month == last.month
    return f"from {day(first, not same_month, not same_year)} to {day(last)}"


def types_phrase(summary: Summary, has_devices: bool) -> str:
    """The device-type mix: of devices (each by its main type) or, without ids, of pings."""
    if has_devices:
        frame = summary.tables["devices"].sort("pings", descending=True)
        frame = frame.group_by("device").agg(pl.col("device_type").first())
        counts, unit = frame.group_by("device_type").agg(n=pl.len()), "devices"
    else:
        counts = summary.tables["cell_types"].group_by("device_type").agg(n=pl.col("pings").sum())
        unit = "pings"
    total = int(counts["n"].sum())
    shares = {t: n / total for t, n in zip(counts["device_type"], counts["n"]) if total and n}
    unknown = sum(shares.pop(t, 0.0) for t in NO_TYPE)
    if not shares:
        return "the file gives no device types"
    named = sorted(shares.items(), key=lambda item: (-item[1], str(item[0])))
    if len(named) == 1 and not unknown:
        return f"all {unit} are {_type_name(named[0][0])}"
    shown = named if len(named) <= NAMED_TYPES + 1 else named[:NAMED_TYPES]
    parts = [f"{share_words(s)} {_type_name(t)}" for t, s in shown]
    rest = sum(s for _, s in named[len(shown) :])
    parts += [f"{share_words(rest)} other types"] if rest else []
    parts += [f"{share_words(unknown)} of no known type"] if unknown else []
    return f"by device type, the {unit} are {join_words(parts)}"


def _type_name(value: str) -> str:
    """A device type as people write it: iOS, Android, or the data's own (short) words."""
    text = " ".join(str(value).replace("_", " ").split())[:30]
    return {"ios": "iOS", "android": "Android"}.get(text, text.replace("{", "(").replace("}", ")"))


@dataclass(frozen=True)
class Place:
    """A main place of the data: its share of the pings and its name."""

    share: float
    named: PlaceName


def main_places(summary: Summary) -> list[Place]:
    """The data's main places, largest first: groups of touching coarse cells with
    ``PLACE_SHARE`` of the pings, or the centre of everything when none has it."""
    cells = summary.tables["cells"].select("cell", "pings").filter(pl.col("pings") > 0)
    if cells.is_empty():
        return []
    res = min(PLACE_RESOLUTION, summary.resolution)
    coarse = _coarser(cells, res)
    while coarse.height > PLACE_MAX_CELLS and res > 0:
        res -= 1
        coarse = _coarser(coarse, res)
    lat, lon = cell_centres(coarse["cell"])
    coarse = coarse.with_columns(lat=pl.Series(lat), lon=pl.Series(lon))
    coarse = coarse.filter(~near_null_island(pl.col("lat"), pl.col("lon"), NULL_ISLAND_DEG))
    total = int(coarse["pings"].sum())
    if not total:
        return []
    groups = [
        coarse.filter(pl.col("cell").is_in(members))
        for members in connected_components(coarse["cell"].to_list())
    ]
    big = [g for g in groups if g["pings"].sum() >= PLACE_SHARE * total]
    big = sorted(big, key=lambda g: -int(g["pings"].sum())) or [coarse]
    return [Place(int(g["pings"].sum()) / total, _name_of(g)) for g in big]


def _coarser(cells: pl.DataFrame, resolution: int) -> pl.DataFrame:
    parents = cells.with_columns(cell=cells_to_parent(cells["cell"], resolution))
    return parents.group_by("cell").agg(pl.col("pings").sum())


def _name_of(group: pl.DataFrame) -> PlaceName:
    """The name of a group of cells, at its ping-weighted median centre."""
    w = group["pings"].to_numpy().astype(float)
    lat, lon = group["lat"].to_numpy(), group["lon"].to_numpy()
    ref = lon[int(np.argmax(w))]
    unwrapped = lon + 360.0 * np.round((ref - lon) / 360.0)  # a place across ±180°
    lat0 = weighted_quantile(lat, w, 0.5)
    lon0 = (weighted_quantile(unwrapped, w, 0.5) + 180.0) % 360.0 - 180.0
    return name_point(lat0, lon0)


def places_sentence(places: list[Place]) -> str:
    """'They lie in 4 places on 4 continents: New York, United States (25 %); …'."""
    continents = {p.named.continent for p in places}
    several = None not in continents and len(continents) > 1
    on = f" on {len(continents)} continents" if several else ""
    named = [f"{p.named.name} ({share_words(p.share)})" for p in places[:NAMED_PLACES]]
    more = len(places) - NAMED_PLACES
    named += [f"{more} smaller {'place' if more == 1 else 'places'}"] if more > 0 else []
    return f"They lie in {len(places)} places{on}: {join_words(named, sep='; ')}."


# Problems, passed checks and fitness


def problems_sentence(serious: dict[str, list[Finding]]) -> str:
    """The most serious problems, one clause each with what it would change."""
    if not serious:
        return "No check found a problem serious enough to change a conclusion."
    first = [findings[0] for findings in serious.values()][:TOLD_PROBLEMS]
    clauses = [problem_clause(f) for f in first]
    n = len(serious)
    if n == 1:
        return f"One problem would change a conclusion: {clauses[0]}."
    told = join_words(clauses, sep="; ")
    if n <= TOLD_PROBLEMS:
        return f"{number_word(n)} problems would change conclusions: {told}."
    return f"{number_word(n)} problems would change conclusions; the most serious: {told}."


def passed_sentence(analysis: Analysis, serious: dict[str, list[Finding]]) -> str:
    """The checks that ran and found nothing serious, a few named; those that could not run."""
    passed = [k for k in analysis.checks_run if k not in serious]
    order = {kind: i for i, kind in enumerate(PASSED)}
    passed.sort(key=lambda k: order.get(k, len(order)))
    named = [PASSED.get(k, k.replace("_", " ")) for k in passed]
    n = len(passed)
    other = "other " if serious else ""
    if n == 0:
        text = ""
    elif n <= NAMED_CHECKS:
        checks = "check" if n == 1 else "checks"
        text = f"The {other}{checks} of {join_words(named)} found nothing wrong"
    else:
        some = join_words(named[:NAMED_CHECKS] + [f"{n - NAMED_CHECKS} more"])
        text = f"{'The other' if serious else 'All'} {n} checks that ran found nothing wrong"
        text += f", among them {some}"
    skipped = len(analysis.skipped)
    if skipped:
        checks = "check" if skipped == 1 else "checks"
        lead = f"{text}; {skipped}" if text else number_word(skipped)
        text = f"{lead} {checks} could not run because {_lacking_words(analysis.lacking)}"
    return f"{text}." if text else ""


def _lacking_words(lacking: dict[str, str]) -> str:
    """Why checks could not run: the one reason as it was given, or what the data lacks."""
    reasons = list(dict.fromkeys(lacking.values()))
    if len(reasons) == 1:
        return reasons[0]
    needs = [n for n in NEED_WORDS if n in lacking]
    if "whole_day" in needs and "several_days" in needs:
        needs.remove("several_days")  # less than a day says it already
    return join_words([NEED_WORDS[n] for n in needs])


def fitness_sentence(analysis: Analysis, serious: dict[str, list[Finding]]) -> str:
    """What the data is fit for and, while its problems stand, what it is not fit for."""
    kinds = set(serious)
    fit = []
    for words, need, everywhere, locally in USES:
        needs = (need,) if isinstance(need, str) else need or ()
        if any(n in analysis.lacking for n in needs) or kinds & everywhere:
            continue
        text = words.format(resolution=analysis.resolution)
        fit.append(f"{text} away from the flagged places" if kinds & locally else text)
    unfit = [NOT_FIT.get(k, f"what the {k.replace('_', ' ')} finding touches") for k in serious]
    unfit += [text for need, text in NOT_FIT_LACKING.items() if need in analysis.lacking]
    unfit = list(dict.fromkeys(unfit))[:TOLD_PROBLEMS]
    not_for = join_words(unfit, "or", sep="; ")
    if fit and unfit:
        return f"It is fit for {join_words(fit)}, but not for {not_for}."
    if fit:
        return f"It is fit for {join_words(fit)}."
    return f"Until these problems are fixed, it is not fit for {not_for}."
