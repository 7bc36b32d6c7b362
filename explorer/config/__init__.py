"""Every threshold in one frozen object, each with a sentence saying why.

Families live in their own modules (``places``, ``devices``, ``time``, ``mix``,
``quality``, ``severity``); :class:`Config` composes them. A user overrides any value
with a TOML or JSON file (``--config FILE``) shaped like ``Config.to_dict()``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from explorer.config.base import setting
from explorer.config.compare import CompareConfig
from explorer.config.coverage import CoverageConfig
from explorer.config.devices import DevicesConfig
from explorer.config.geography import GeographyConfig
from explorer.config.mix import MixConfig
from explorer.config.panel import PanelDevicesConfig, PanelGapsConfig, PanelShiftConfig
from explorer.config.places import PlacesConfig
from explorer.config.quality import QualityConfig
from explorer.config.severity import SeverityConfig
from explorer.config.snapping import SnappingConfig
from explorer.config.time import TimeConfig
from explorer.config.travel import TravelConfig
from explorer.errors import PingFileError

__all__ = ["Config", "load_config", "setting", "documentation"]


@dataclass(frozen=True)
class Config:
    """All thresholds, by detector family."""

    severity: SeverityConfig = field(default_factory=SeverityConfig)
    places: PlacesConfig = field(default_factory=PlacesConfig)
    devices: DevicesConfig = field(default_factory=DevicesConfig)
    time: TimeConfig = field(default_factory=TimeConfig)
    mix: MixConfig = field(default_factory=MixConfig)
    quality: QualityConfig = field(default_factory=QualityConfig)
    snapping: SnappingConfig = field(default_factory=SnappingConfig)
    geography: GeographyConfig = field(default_factory=GeographyConfig)
    travel: TravelConfig = field(default_factory=TravelConfig)
    panel_gaps: PanelGapsConfig = field(default_factory=PanelGapsConfig)
    panel_shift: PanelShiftConfig = field(default_factory=PanelShiftConfig)
    panel_devices: PanelDevicesConfig = field(default_factory=PanelDevicesConfig)
    coverage: CoverageConfig = field(default_factory=CoverageConfig)
    compare: CompareConfig = field(default_factory=CompareConfig)

    def to_dict(self) -> dict[str, dict[str, Any]]:
        return dataclasses.asdict(self)

    def sha256(self) -> str:
        text = json.dumps(self.to_dict(), sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()


def _override(section: Any, values: dict[str, Any], where: str) -> Any:
    known = {f.name: f for f in dataclasses.fields(section)}
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise PingFileError(
            f"Unknown setting {where}.{unknown[0]} in the config file; "
            f"use one of: {', '.join(sorted(known))}."
        )
    cast = {
        name: _checked(f"{where}.{name}", getattr(section, name), value)
        for name, value in values.items()
    }
    return dataclasses.replace(section, **cast)


def _checked(where: str, default: Any, value: Any) -> Any:
    """``value`` for the setting at ``where``, of its default's type and in its range."""
    if isinstance(default, tuple):
        if not isinstance(value, list | tuple) or not all(_is_number(v) for v in value):
            raise PingFileError(f"Setting {where} must be a list of numbers, got {value!r}.")
        for item in value:
            _check_range(where, item)
        return tuple(value)
    if isinstance(default, bool) != isinstance(value, bool) or (
        isinstance(default, str) != isinstance(value, str)
    ):
        raise PingFileError(f"Setting {where} must be a {type(default).__name__}, got {value!r}.")
    if isinstance(default, bool | str):
        return value
    if not _is_number(value) or (isinstance(default, int) and not float(value).is_integer()):
        kind = "whole number" if isinstance(default, int) else "number"
        raise PingFileError(f"Setting {where} must be a {kind}, got {value!r}.")
    _check_range(where, value)
    return type(default)(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_range(where: str, value: float) -> None:
    wanted = _range(where.rsplit(".", 1)[-1], value)
    if wanted:
        raise PingFileError(f"Setting {where} must be {wanted}, got {value!r}.")


#: Settings that are shares: "share" as a word of the name (not "shared_devices").
_SHARE = re.compile(r"(^|_)shares?(_|$)")


def _range(name: str, value: float) -> str | None:
    """What a numeric setting must be when ``value`` is out of its range (None when fine).

    Every threshold is a count, a distance, a ratio or a share, so none is negative (or
    not a number); shares are fractions, and the false-discovery rate is a probability.
    """
    if not math.isfinite(value) or value < 0:
        return "a number of at least 0"
    if name == "fdr" and not 0 < value < 1:
        return "a rate between 0 and 1 (exclusive)"
    if _SHARE.search(name) and value > 1:
        return "a share between 0 and 1"
    return None


def load_config(source: str | Path | dict[str, Any] | None = None) -> Config:
    """Defaults, overridden by a TOML/JSON file or a dict shaped like ``to_dict()``."""
    if source is None:
        return Config()
    if isinstance(source, dict):
        data = source
    else:
        path = Path(source)
        try:
            text = path.read_text(encoding="utf-8")
            data = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
        except FileNotFoundError:
            raise PingFileError(
                f"Config file {path.name} does not exist; check the path."
            ) from None
        except (tomllib.TOMLDecodeError, json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise PingFileError(
                f"Config file {path.name} is not valid TOML or JSON ({exc}); fix its syntax."
            ) from None
        except OSError as exc:  # a folder, no permission
            raise PingFileError(
                f"Config file {path.name} cannot be read ({exc.strerror}); check the path."
            ) from None
    if not isinstance(data, dict):
        raise PingFileError(
            f"A config must hold sections of settings shaped like Config().to_dict(), not a "
            f"{type(data).__name__}; see the README's --config."
        )
    config = Config()
    sections = {f.name for f in dataclasses.fields(Config)}
    for name, values in data.items():
        if name not in sections:
            raise PingFileError(
                f"Unknown config section {name!r}; use one of: {', '.join(sorted(sections))}."
            )
        if not isinstance(values, dict):
            raise PingFileError(
                f"Config section {name!r} must be a table of settings, got {values!r}."
            )
        config = dataclasses.replace(
            config, **{name: _override(getattr(config, name), values, name)}
        )
    return config


def documentation() -> list[tuple[str, str, Any, str]]:
    """(section, setting, default, why) for every setting, for docs and tests."""
    rows = []
    config = Config()
    for section in dataclasses.fields(Config):
        value = getattr(config, section.name)
        for item in dataclasses.fields(value):
            rows.append(
                (section.name, item.name, getattr(value, item.name), item.metadata.get("doc", ""))
            )
    return rows
