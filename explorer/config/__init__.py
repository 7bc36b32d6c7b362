"""Every threshold in one frozen object, each with a sentence saying why.

Families live in their own modules (``places``, ``devices``, ``time``, ``mix``,
``quality``, ``severity``); :class:`Config` composes them. A user overrides any value
with a TOML or JSON file (``--config FILE``) shaped like ``Config.to_dict()``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from explorer.config.base import setting
from explorer.config.devices import DevicesConfig
from explorer.config.mix import MixConfig
from explorer.config.places import PlacesConfig
from explorer.config.quality import QualityConfig
from explorer.config.severity import SeverityConfig
from explorer.config.snapping import SnappingConfig
from explorer.config.time import TimeConfig
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
    cast = {}
    for name, value in values.items():
        default = getattr(section, name)
        if (
            isinstance(default, bool) != isinstance(value, bool)
            or (isinstance(default, int | float) and not isinstance(value, int | float))
            or (isinstance(default, str) and not isinstance(value, str))
        ):
            raise PingFileError(
                f"Setting {where}.{name} must be a {type(default).__name__}, got {value!r}."
            )
        cast[name] = type(default)(value) if isinstance(default, int | float) else value
    return dataclasses.replace(section, **cast)


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
    config = Config()
    sections = {f.name for f in dataclasses.fields(Config)}
    for name, values in data.items():
        if name not in sections or not isinstance(values, dict):
            raise PingFileError(
                f"Unknown config section {name!r}; use one of: {', '.join(sorted(sections))}."
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
