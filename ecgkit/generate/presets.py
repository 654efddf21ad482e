"""Named, versioned settings (TOML) for generating samples, and drawing values from them.

A preset has three tables, ``[layout]``, ``[style]`` and ``[output]``. Each value is either

* a fixed value: ``grid = "red"``,
* a list to choose from uniformly: ``grid = ["red", "pink"]``,
* a weighted choice: ``grid = { choices = ["red", "bw"], weights = [3, 1] }``,
* a range drawn uniformly: ``pen_mm = { min = 0.2, max = 0.4 }`` (integers if both ends are).

Colours are lists of three integers (a list of such lists is a choice). Unknown keys and values
out of range are refused with a message that names the file, the table and the key.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import numpy as np

from ecgkit.errors import EcgkitError
from ecgkit.generate.layout import (
    GAINS,
    ORDERS,
    ORIENTATIONS,
    PAPER_SIZES,
    PULSE_HEIGHTS,
    PULSE_SIDES,
    SPACINGS,
    SPEEDS,
    parse_layout_name,
)
from ecgkit.generate.render import (
    FONTS,
    GRID_CHOICES,
    GRID_KINDS,
    LABEL_CASES,
    LABEL_POSITIONS,
    SEPARATORS,
)

#: The built-in presets: TOML files shipped inside the package (``ecgkit/data/presets``), read
#: through importlib.resources so that a wheel or a zipped install finds them too.
PRESET_DIR = resources.files("ecgkit") / "data" / "presets"
PRESET_SCHEMA = 1


def _one_of(options: tuple) -> Callable[[Any], str | None]:
    def check(v: Any) -> str | None:
        if isinstance(v, bool) or v not in options:
            return f"must be one of {', '.join(str(o) for o in options)}"
        return None

    return check


def _number(lo: float, hi: float) -> Callable[[Any], str | None]:
    def check(v: Any) -> str | None:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not lo <= v <= hi:
            return f"must be a number from {lo:g} to {hi:g}"
        return None

    return check


def _bool(v: Any) -> str | None:
    return None if isinstance(v, bool) else "must be true or false"


def _rgb(v: Any) -> str | None:
    ok = (
        isinstance(v, list)
        and len(v) == 3
        and all(isinstance(c, int) and not isinstance(c, bool) and 0 <= c <= 255 for c in v)
    )
    return None if ok else "must be a colour [r, g, b] with 0..255 integers"


def _layout_name(v: Any) -> str | None:
    if not isinstance(v, str):
        return "must be a layout name such as '3x4+II'"
    try:
        parse_layout_name(v)
    except EcgkitError as exc:
        return str(exc)
    return None


SCHEMA: dict[str, dict[str, Callable[[Any], str | None]]] = {
    "layout": {
        "name": _layout_name,
        "order": _one_of(ORDERS),
        "paper": _one_of(tuple(PAPER_SIZES)),
        "orientation": _one_of(ORIENTATIONS),
        "dpi": _number(50, 600),
        "speed": _one_of(SPEEDS),
        "gain": _one_of(GAINS),
        "chest_gain": _one_of(GAINS),
        "start": _number(0, 3600),
        "seconds": _number(0.5, 60),
        "margin_mm": _number(0, 40),
        "header_mm": _number(0, 80),
        "spacing": _one_of(SPACINGS),
    },
    "style": {
        "grid": _one_of(GRID_CHOICES),
        "grid_major_rgb": _rgb,
        "grid_minor_rgb": _rgb,
        "paper_rgb": _rgb,
        "ink_rgb": _rgb,
        "pen_mm": _number(0.05, 2.0),
        "minor_mm": _number(0.02, 1.0),
        "major_mm": _number(0.02, 1.0),
        "labels": _bool,
        "pulses": _bool,
        "separators": _bool,
        "header": _bool,
        "footer": _bool,
        "font": _one_of(FONTS),
        "font_mm": _number(1.0, 10.0),
        "grid_kind": _one_of(GRID_KINDS),
        "pulse_side": _one_of(PULSE_SIDES),
        "pulse_mv": _one_of(PULSE_HEIGHTS),
        "separator": _one_of(SEPARATORS),
        "separator_rgb": _rgb,
        "label_position": _one_of(LABEL_POSITIONS),
        "label_case": _one_of(LABEL_CASES),
    },
    "output": {
        "format": _one_of(("png", "jpg")),
        "jpeg_quality": _number(1, 100),
        "mask": _bool,
    },
}
_RGB_KEYS = {k for k, v in SCHEMA["style"].items() if v is _rgb}


@dataclass(frozen=True)
class Preset:
    """A loaded, validated preset.

    Attributes
    ----------
    name : str
    version : int
    description : str
    values : dict
        ``{table: {key: spec}}`` where spec is a fixed value, a choice or a range.
    source : str
        File it came from.
    artifacts : dict
        ``{artifact name: {"probability": p, "strength": s or {"min": a, "max": b}}}``, applied
        by :func:`ecgkit.artifacts.apply_artifacts` in pipeline order.
    mix : dict
        For a mixture preset (a ``[mix]`` table), ``{"style": spec, "capture": spec}``: each a
        choice of built-in presets (with weights). Each image draws one of each: the page's
        ``[layout]`` and ``[style]`` from the style preset, its ``[output]`` and artifacts from
        the capture preset (see :meth:`pick`). Empty for an ordinary preset.
    """

    name: str
    version: int
    description: str
    values: dict[str, dict[str, Any]] = field(default_factory=dict)
    source: str = ""
    artifacts: dict[str, dict[str, Any]] = field(default_factory=dict)
    mix: dict[str, Any] = field(default_factory=dict)

    def pick(self, rng: np.random.Generator) -> Preset:
        """The preset one image is drawn from: itself, or a mixture's draw of its components.

        An ordinary preset returns itself and draws nothing from ``rng``. A mixture draws its
        style preset, then its capture preset, and returns a preset with the style's layout
        and style values, the capture's output values and artifacts, and the components'
        names in :attr:`description` (``"style + capture"``).

        Parameters
        ----------
        rng : numpy.random.Generator

        Returns
        -------
        Preset
        """
        if not self.mix:
            return self
        style = load_preset(_draw("style", self.mix["style"], rng))
        capture = load_preset(_draw("capture", self.mix["capture"], rng))
        values = {t: dict(v) for t, v in style.values.items() if t != "output"}
        if "output" in capture.values:
            values["output"] = dict(capture.values["output"])
        return Preset(
            self.name,
            self.version,
            f"{style.name} + {capture.name}",
            values,
            self.source,
            dict(capture.artifacts),
        )

    def draw(self, rng: np.random.Generator) -> dict[str, dict[str, Any]]:
        """Draw concrete values: every choice and range resolved with ``rng``.

        Keys are drawn in sorted order, so the same generator state gives the same values and
        overriding one value afterwards does not change the others.

        Parameters
        ----------
        rng : numpy.random.Generator

        Returns
        -------
        dict
            ``{table: {key: value}}``.
        """
        out: dict[str, dict[str, Any]] = {}
        for table in sorted(self.values):
            out[table] = {
                k: _draw(k, self.values[table][k], rng) for k in sorted(self.values[table])
            }
        return out


def _is_choice(key: str, spec: Any) -> bool:
    if isinstance(spec, dict):
        return "choices" in spec
    if isinstance(spec, list):
        return not (key in _RGB_KEYS and spec and not isinstance(spec[0], list))
    return False


def _draw(key: str, spec: Any, rng: np.random.Generator) -> Any:
    if isinstance(spec, dict) and "min" in spec:
        lo, hi = spec["min"], spec["max"]
        if isinstance(lo, int) and isinstance(hi, int):
            return int(rng.integers(lo, hi + 1))
        return float(rng.uniform(lo, hi))
    if _is_choice(key, spec):
        choices = spec["choices"] if isinstance(spec, dict) else spec
        weights = spec.get("weights") if isinstance(spec, dict) else None
        p = None if weights is None else np.asarray(weights, float) / np.sum(weights)
        return choices[int(rng.choice(len(choices), p=p))]
    return spec


def _candidates(key: str, spec: Any, where: str) -> list[Any]:
    """Every value a spec can produce (the ends of a range), checking the spec's own form."""
    if isinstance(spec, dict):
        keys = set(spec)
        if keys == {"min", "max"}:
            lo, hi = spec["min"], spec["max"]
            if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (lo, hi)):
                raise EcgkitError(f"{where}: range ends must be numbers")
            if lo > hi:
                raise EcgkitError(f"{where}: range min {lo} is above max {hi}")
            return [lo, hi]
        if keys in ({"choices"}, {"choices", "weights"}):
            choices = spec["choices"]
            weights = spec.get("weights", [1] * len(choices))
            if not isinstance(choices, list) or not choices:
                raise EcgkitError(f"{where}: choices must be a non-empty list")
            if (
                not isinstance(weights, list)
                or len(weights) != len(choices)
                or any(not isinstance(w, (int, float)) or w < 0 for w in weights)
                or sum(weights) <= 0
            ):
                raise EcgkitError(f"{where}: weights must be one non-negative number per choice")
            return list(choices)
        raise EcgkitError(
            f"{where}: a table value needs either min and max, or choices (and weights); "
            f"got keys {', '.join(sorted(keys))}"
        )
    if _is_choice(key, spec):
        if not spec:
            raise EcgkitError(f"{where}: an empty list gives nothing to choose from")
        return list(spec)
    return [spec]


def parse_preset(data: Mapping[str, Any], source: str = "<preset>") -> Preset:
    """Validate a preset's parsed TOML.

    Parameters
    ----------
    data : mapping
        The parsed TOML document.
    source : str
        Where it came from, for messages.

    Returns
    -------
    Preset
    """
    allowed_top = {"name", "version", "description", "schema", "artifacts", "mix", *SCHEMA}
    for key in data:
        if key not in allowed_top:
            raise EcgkitError(
                f"{source}: unknown key {key!r}; valid keys: {', '.join(sorted(allowed_top))}"
            )
    schema = data.get("schema", PRESET_SCHEMA)
    if schema != PRESET_SCHEMA:
        raise EcgkitError(
            f"{source}: preset schema {schema!r} is not supported (this ecgkit "
            f"reads schema {PRESET_SCHEMA})"
        )
    values: dict[str, dict[str, Any]] = {}
    for table, checks in SCHEMA.items():
        section = data.get(table, {})
        if not isinstance(section, dict):
            raise EcgkitError(f"{source}: [{table}] must be a table")
        for key, spec in section.items():
            where = f"{source}: [{table}] {key}"
            if key not in checks:
                raise EcgkitError(
                    f"{source}: unknown key {key!r} in [{table}]; valid keys: {', '.join(checks)}"
                )
            for value in _candidates(key, spec, where):
                problem = checks[key](value)
                if problem:
                    raise EcgkitError(f"{where} = {value!r} {problem}")
        values[table] = dict(section)
    artifacts = parse_artifacts(data.get("artifacts", {}), source)
    version = data.get("version", 1)
    if not isinstance(version, int):
        raise EcgkitError(f"{source}: version must be an integer")
    name = data.get("name", Path(source).stem)
    mix = _parse_mix(data, source) if "mix" in data else {}
    return Preset(
        str(name), version, str(data.get("description", "")), values, source, artifacts, mix
    )


def _parse_mix(data: Mapping[str, Any], source: str) -> dict[str, Any]:
    """Check a ``[mix]`` table: ``style`` and ``capture``, each a choice of built-in presets."""
    mix = data["mix"]
    if not isinstance(mix, dict) or set(mix) != {"style", "capture"}:
        raise EcgkitError(f"{source}: [mix] needs exactly the keys style and capture")
    own = [t for t in (*SCHEMA, "artifacts") if data.get(t)]
    if own:
        raise EcgkitError(
            f"{source}: a [mix] preset takes everything from its components; "
            f"remove [{'], ['.join(own)}]"
        )
    known = list_presets()
    for key, spec in mix.items():
        for value in _candidates(key, spec, f"{source}: [mix] {key}"):
            if value not in known:
                raise EcgkitError(
                    f"{source}: [mix] {key} = {value!r} is not a built-in preset; "
                    f"built-in presets: {', '.join(known)}"
                )
            text = (PRESET_DIR / f"{value}.toml").read_text(encoding="utf-8")
            if "mix" in tomllib.loads(text):  # one level only: no mixture of mixtures
                raise EcgkitError(f"{source}: [mix] {key} = {value!r} is itself a mixture")
    return dict(mix)


def parse_artifacts(section: Any, source: str = "<preset>") -> dict[str, dict[str, Any]]:
    """Validate an ``[artifacts]`` table: ``[artifacts.NAME]`` with probability and strength.

    Parameters
    ----------
    section : mapping
        ``{name: {"probability": p, "strength": s}}``.
    source : str
        Where it came from, for messages.

    Returns
    -------
    dict
        The same, with defaults filled in (probability 1, strength 0.5).
    """
    from ecgkit.artifacts import artifact_names

    if not isinstance(section, dict):
        raise EcgkitError(f"{source}: [artifacts] must be a table of [artifacts.NAME] tables")
    known = artifact_names()
    out: dict[str, dict[str, Any]] = {}
    for name, spec in section.items():
        where = f"{source}: [artifacts.{name}]"
        if name not in known:
            raise EcgkitError(f"{source}: unknown artifact {name!r}; known: {', '.join(known)}")
        if not isinstance(spec, dict):
            raise EcgkitError(f"{where} must be a table with probability and strength")
        for key in spec:
            if key not in ("probability", "strength"):
                raise EcgkitError(
                    f"{where}: unknown key {key!r}; valid keys: probability, strength"
                )
        p = spec.get("probability", 1.0)
        problem = _number(0, 1)(p)
        if problem:
            raise EcgkitError(f"{where} probability = {p!r} {problem}")
        strength = spec.get("strength", 0.5)
        for value in _candidates("strength", strength, f"{where} strength"):
            problem = _number(0, 1)(value)
            if problem:
                raise EcgkitError(f"{where} strength = {value!r} {problem}")
        if isinstance(strength, dict) and "choices" in strength:
            raise EcgkitError(f"{where} strength must be a number or a range {{min, max}}")
        out[name] = {"probability": float(p), "strength": strength}
    return out


def list_presets() -> list[str]:
    """Names of the built-in presets (the TOML files in ``ecgkit/data/presets``)."""
    return sorted(p.name[: -len(".toml")] for p in PRESET_DIR.iterdir() if p.name.endswith(".toml"))


def load_preset(name_or_path: str | Path) -> Preset:
    """Load a built-in preset by name, or a user's TOML file by path.

    Parameters
    ----------
    name_or_path : str or Path
        ``"clean"`` or ``"my/preset.toml"``.

    Returns
    -------
    Preset
    """
    text = str(name_or_path)
    path: Path | Traversable = Path(text)
    if not (text.endswith(".toml") or path.is_file()):
        path = PRESET_DIR / f"{text}.toml"
        if not path.is_file():
            raise EcgkitError(
                f"unknown preset {text!r}; built-in presets: {', '.join(list_presets())} "
                "(or give the path of a .toml file)"
            )
    if not path.is_file():
        raise EcgkitError(f"preset file {text} not found")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise EcgkitError(f"{path}: not valid TOML ({exc})") from None
    return parse_preset(data, str(path))
