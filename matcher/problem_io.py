"""Reading and writing v1 problem and solution JSON with strict, pointer-named validation."""

from __future__ import annotations

import dataclasses
import gc
import json
import math
import os
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from matcher.model import (
    EMPTY_MAP,
    FORMAT,
    GENDERS,
    STATUSES,
    Assignment,
    Credential,
    FrozenMap,
    Institution,
    Metrics,
    Pair,
    Problem,
    Settings,
    Shift,
    Solution,
    Unfilled,
    Volunteer,
    Weights,
    Window,
)

T = TypeVar("T")

VOLUNTEER_GENDERS = ("female", "male")
MAX_SEED = 2**31 - 1
MAX_INTEGER = 2**31 - 1  # any integer field: beyond is an error, not an overflow later
_MISSING = object()
EMPTY_PREFERENCES: FrozenMap[str, int] = EMPTY_MAP


class ProblemError(ValueError):
    """An invalid problem or solution document; `pointer` names the bad field (RFC 6901)."""

    def __init__(self, pointer: str, message: str) -> None:
        super().__init__(pointer, message)
        self.pointer = pointer
        self.message = message

    def __str__(self) -> str:
        return f"{self.pointer}: {self.message}" if self.pointer else self.message


def escape_token(token: str | int) -> str:
    """Escape one reference token for a JSON pointer (RFC 6901: ~ -> ~0, / -> ~1)."""
    return str(token).replace("~", "~0").replace("/", "~1")


def pointer(*tokens: str | int) -> str:
    """A JSON pointer from reference tokens; no tokens gives "" (the whole document)."""
    return "".join("/" + escape_token(t) for t in tokens)


# ---------------------------------------------------------------- reading raw documents


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _parse_json(text: str | bytes) -> Any:
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ProblemError("", f"invalid JSON: {exc}") from None


def read_document(data: Mapping[str, Any] | str | bytes | os.PathLike[str]) -> Any:
    """The parsed JSON document: a mapping as is, str/bytes JSON text, or a path to a file.

    A str whose first non-blank character is "{" or "[" is JSON text; any other str is a path.
    """
    if isinstance(data, Mapping):
        return data
    if isinstance(data, bytes | bytearray):
        return _parse_json(bytes(data))
    if isinstance(data, str) and data.lstrip()[:1] in ("{", "["):
        return _parse_json(data)
    if isinstance(data, str | os.PathLike):
        try:
            raw = Path(data).read_bytes()
        except OSError as exc:
            raise ProblemError("", f"cannot read {os.fspath(data)}: {exc.strerror}") from None
        return _parse_json(raw)
    raise TypeError(f"cannot load a document from {type(data).__name__}")


# ---------------------------------------------------------------- typed field readers


class _Reader:
    """Typed access to one JSON object, raising ProblemError with the field's pointer."""

    def __init__(self, value: Any, path: tuple[str | int, ...]) -> None:
        if not isinstance(value, Mapping):
            raise ProblemError(pointer(*path), f"expected an object, got {_kind(value)}")
        self.obj = value
        self.path = path

    def at(self, key: str) -> str:
        return pointer(*self.path, key)

    def raw(self, key: str, required: bool) -> Any:
        value = self.obj.get(key, _MISSING)
        if value is _MISSING and required:
            raise ProblemError(self.at(key), "missing required field")
        return value

    def get(
        self,
        key: str,
        parse: Callable[[Any, tuple[str | int, ...]], T],
        *,
        default: Any = _MISSING,
        nullable: bool = False,
    ) -> T:
        value = self.raw(key, required=default is _MISSING)
        if value is _MISSING:
            return default
        if value is None and nullable:
            return None  # type: ignore[return-value]
        return parse(value, (*self.path, key))


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return "an array"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__


def _string(value: Any, path: tuple[str | int, ...]) -> str:
    if not isinstance(value, str):
        raise ProblemError(pointer(*path), f"expected a string, got {_kind(value)}")
    return value


def _ident(value: Any, path: tuple[str | int, ...]) -> str:
    text = _string(value, path)
    if not text:
        raise ProblemError(pointer(*path), "empty id")
    return text


def _integer(value: Any, path: tuple[str | int, ...]) -> int:
    # JSON has one number type: many writers put 2.0 for an integer, so an integral float is
    # read as that integer (2.5 is not an integer)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ProblemError(pointer(*path), f"expected an integer, got {_kind(value)}")
    # counts, ages and minutes: 32 bits are plenty, and larger ones would overflow later
    if not -MAX_INTEGER <= value <= MAX_INTEGER:
        shown = value if abs(value) < 10**18 else f"{value:.3g}"
        limit = f"at most {MAX_INTEGER}" if value > 0 else f"at least {-MAX_INTEGER}"
        raise ProblemError(pointer(*path), f"must be {limit}, got {shown}")
    return value


def _number(value: Any, path: tuple[str | int, ...]) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ProblemError(pointer(*path), f"expected a number, got {_kind(value)}")
    try:
        number = float(value)
    except OverflowError:  # an integer beyond the float range
        number = math.inf
    if not math.isfinite(number):
        raise ProblemError(pointer(*path), "expected a finite number")
    return number


def _in_range(
    parse: Callable[[Any, tuple[str | int, ...]], Any],
    low: float | None,
    high: float | None,
    *,
    strict_low: bool = False,
) -> Callable[[Any, tuple[str | int, ...]], Any]:
    def read(value: Any, path: tuple[str | int, ...]) -> Any:
        result = parse(value, path)
        if low is not None and (result <= low if strict_low else result < low):
            relation = "greater than" if strict_low else "at least"
            raise ProblemError(pointer(*path), f"must be {relation} {_fmt(low)}, got {value}")
        if high is not None and result > high:
            raise ProblemError(pointer(*path), f"must be at most {_fmt(high)}, got {value}")
        return result

    return read


def _fmt(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)


def _one_of(choices: tuple[str, ...]) -> Callable[[Any, tuple[str | int, ...]], str]:
    def read(value: Any, path: tuple[str | int, ...]) -> str:
        text = _string(value, path)
        if text not in choices:
            allowed = ", ".join(choices)
            raise ProblemError(pointer(*path), f"must be one of {allowed}, got {text!r}")
        return text

    return read


def _fromiso(text: str) -> datetime:
    """`datetime.fromisoformat`, also with RFC 3339's lower-case "z" for UTC."""
    if text[-1:] == "z":
        text = text[:-1] + "Z"
    return datetime.fromisoformat(text)


def _datetime(value: Any, path: tuple[str | int, ...]) -> datetime:
    text = _string(value, path)
    try:
        moment = _fromiso(text)
    except ValueError:
        raise ProblemError(pointer(*path), f"invalid datetime {text!r}") from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ProblemError(pointer(*path), "naive datetime")
    return moment


def _array(value: Any, path: tuple[str | int, ...]) -> list[Any]:
    if not isinstance(value, list | tuple):
        raise ProblemError(pointer(*path), f"expected an array, got {_kind(value)}")
    return list(value)


def _strings(value: Any, path: tuple[str | int, ...]) -> frozenset[str]:
    return frozenset(_string(item, (*path, i)) for i, item in enumerate(_array(value, path)))


def _objects(
    value: Any,
    path: tuple[str | int, ...],
    parse: Callable[[_Reader], T],
) -> list[T]:
    return [parse(_Reader(item, (*path, i))) for i, item in enumerate(_array(value, path))]


def _int_map(
    value: Any, path: tuple[str | int, ...], item: Callable[[Any, tuple[str | int, ...]], int]
) -> dict[str, int]:
    if not isinstance(value, Mapping):
        raise ProblemError(pointer(*path), f"expected an object, got {_kind(value)}")
    result: dict[str, int] = {}
    for key, count in value.items():
        if not isinstance(key, str) or not key:
            raise ProblemError(pointer(*path, str(key)), "keys must be non-empty strings")
        result[key] = item(count, (*path, key))
    return result


def _window(reader: _Reader) -> Window:
    start = reader.get("start", _datetime)
    end = reader.get("end", _datetime)
    if end <= start:
        raise ProblemError(reader.at("end"), "must be after start")
    return Window(start, end)


def _unique_ids(items: list[Any], path: tuple[str | int, ...]) -> None:
    if len({item.id for item in items}) == len(items):
        return
    seen: set[str] = set()
    for i, item in enumerate(items):
        if item.id in seen:
            raise ProblemError(pointer(*path, i, "id"), f"duplicate id {item.id!r}")
        seen.add(item.id)


# ---------------------------------------------------------------- problem


def _institution(r: _Reader) -> Institution:
    return Institution(
        id=r.get("id", _ident),
        lat=r.get("lat", _in_range(_number, -90, 90)),
        lon=r.get("lon", _in_range(_number, -180, 180)),
        kind=r.get("kind", _string, default=None, nullable=True),
    )


def _credential(r: _Reader) -> Credential:
    return Credential(
        name=r.get("name", _ident),
        expires=r.get("expires", _datetime, default=None, nullable=True),
    )


def _volunteer(r: _Reader, institution_ids: set[str]) -> Volunteer:
    volunteer_id = r.get("id", _ident)
    preferences = r.get(
        "preferences",
        lambda v, p: _int_map(v, p, _in_range(_integer, 1, 3)),
        default={},
        nullable=True,
    )
    for key in preferences or {}:
        if key not in institution_ids:
            raise ProblemError(r.at("preferences") + pointer(key), f"unknown institution {key!r}")
    return Volunteer(
        id=volunteer_id,
        skills=r.get("skills", _strings, default=frozenset(), nullable=True) or frozenset(),
        gender=r.get("gender", _one_of(VOLUNTEER_GENDERS), default=None, nullable=True),
        age=r.get("age", _in_range(_integer, 0, None), default=None, nullable=True),
        lat=r.get("lat", _in_range(_number, -90, 90)),
        lon=r.get("lon", _in_range(_number, -180, 180)),
        max_travel_km=r.get("max_travel_km", _in_range(_number, 0, None)),
        availability=tuple(r.get("availability", lambda v, p: _objects(v, p, _window))),
        max_shifts=r.get("max_shifts", _in_range(_integer, 0, None), default=None, nullable=True),
        max_hours=r.get("max_hours", _in_range(_number, 0, None), default=None, nullable=True),
        preferences=preferences or {},
        credentials=tuple(
            r.get(
                "credentials", lambda v, p: _objects(v, p, _credential), default=[], nullable=True
            )
            or ()
        ),
        languages=r.get("languages", _strings, default=frozenset(), nullable=True) or frozenset(),
        no_show_rate=r.get("no_show_rate", _in_range(_number, 0, 1), default=0.0, nullable=True)
        or 0.0,
    )


def _shift(r: _Reader, institution_ids: set[str]) -> Shift:
    shift_id = r.get("id", _ident)
    institution_id = r.get("institution_id", _ident)
    if institution_id not in institution_ids:
        raise ProblemError(r.at("institution_id"), f"unknown institution {institution_id!r}")
    start = r.get("start", _datetime)
    end = r.get("end", _datetime)
    if end <= start:
        raise ProblemError(r.at("end"), "must be after start")
    needed = r.get("needed", _in_range(_integer, 1, None))
    required_skills = (
        r.get(
            "required_skills",
            lambda v, p: _int_map(v, p, _in_range(_integer, 1, None)),
            default={},
            nullable=True,
        )
        or {}
    )
    reserved = sum(required_skills.values())
    if reserved > needed:
        raise ProblemError(
            r.at("required_skills"), f"reserves {reserved} places but needed is {needed}"
        )
    return Shift(
        id=shift_id,
        institution_id=institution_id,
        start=start,
        end=end,
        needed=needed,
        required_skills=required_skills,
        gender=r.get("gender", _one_of(GENDERS), default="any", nullable=False),
        min_age=r.get("min_age", _in_range(_integer, 0, None), default=0),
        required_credentials=r.get(
            "required_credentials", _strings, default=frozenset(), nullable=True
        )
        or frozenset(),
        languages=r.get("languages", _strings, default=frozenset(), nullable=True) or frozenset(),
        priority=r.get("priority", _in_range(_integer, 1, 5), default=1),
    )


def _pairs(
    value: Any, path: tuple[str | int, ...], volunteer_ids: set[str], shift_ids: set[str]
) -> tuple[Pair, ...]:
    pairs: list[Pair] = []
    seen: set[Pair] = set()
    for i, item in enumerate(_array(value, path)):
        r = _Reader(item, (*path, i))
        pair = Pair(r.get("volunteer_id", _ident), r.get("shift_id", _ident))
        if pair.volunteer_id not in volunteer_ids:
            raise ProblemError(r.at("volunteer_id"), f"unknown volunteer {pair.volunteer_id!r}")
        if pair.shift_id not in shift_ids:
            raise ProblemError(r.at("shift_id"), f"unknown shift {pair.shift_id!r}")
        if pair in seen:
            raise ProblemError(pointer(*path, i), "duplicate pair")
        seen.add(pair)
        pairs.append(pair)
    return tuple(pairs)


def _weights(r: _Reader) -> Weights:
    base = Weights()
    non_negative = _in_range(_number, 0, None)
    return Weights(
        **{
            name: r.get(name, non_negative, default=getattr(base, name))
            for name in Weights.__dataclass_fields__
        }
    )


def _settings(r: _Reader) -> Settings:
    base = Settings()
    weights_raw = r.raw("weights", required=False)
    weights = (
        base.weights
        if weights_raw is _MISSING or weights_raw is None
        else _weights(_Reader(weights_raw, (*r.path, "weights")))
    )
    return Settings(
        min_rest_minutes=r.get("min_rest_minutes", _in_range(_integer, 0, None), default=0),
        time_limit_s=r.get(
            "time_limit_s",
            _in_range(_number, 0, None, strict_low=True),
            default=None,
            nullable=True,
        ),
        seed=r.get("seed", _in_range(_integer, 0, MAX_SEED), default=0),
        threads=r.get("threads", _in_range(_integer, 1, None), default=None, nullable=True),
        weights=weights,
    )


# ---------------------------------------------------------------- fast path
#
# Big problems are mostly volunteers and shifts written in the plain form. The fast readers
# below accept only values of exactly the expected JSON types within their ranges and build
# the same objects as the strict readers (skipping the model's re-validation, which they have
# already done); on anything else they return None and the strict reader runs on that item,
# so every error is still named by the strict reader, by the same pointer and message.


def _slot_constructor(cls: type[T]) -> Callable[..., T]:
    """A keyword constructor of the frozen slots dataclass `cls` from already validated,
    normalised fields: it fills the slots through their descriptors, skipping ``__init__``,
    ``__post_init__`` and the frozen ``__setattr__`` (about four times faster than
    ``object.__setattr__`` by name). Generated once per class, as dataclasses does."""
    names = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
    env: dict[str, Any] = {"new": object.__new__, "cls": cls}
    lines = [f"def make(*, {', '.join(names)}):", "    obj = new(cls)"]
    for name in names:
        env[f"set_{name}"] = cls.__dict__[name].__set__
        lines.append(f"    set_{name}(obj, {name})")
    lines.append("    return obj")
    exec("\n".join(lines), env)
    return env["make"]


_make_window = _slot_constructor(Window)
_make_credential = _slot_constructor(Credential)
_make_volunteer = _slot_constructor(Volunteer)
_make_shift = _slot_constructor(Shift)


class _Fast:
    """Caches of one load: datetimes by text, windows and credentials by their texts (equal
    frozen objects are shared), string lists interned as frozensets."""

    def __init__(self) -> None:
        self.moments: dict[str, datetime | None] = {}
        self.sets: dict[tuple[str, ...], frozenset[str]] = {}
        self.windows: dict[tuple[str, str], Window | None] = {}
        self.credentials: dict[tuple[str, str | None], Credential | None] = {}

    def moment(self, text: Any) -> datetime | None:
        if type(text) is not str:
            return None
        try:
            return self.moments[text]
        except KeyError:
            pass
        try:
            value: datetime | None = _fromiso(text)
        except ValueError:
            value = None
        if value is not None and (value.tzinfo is None or value.utcoffset() is None):
            value = None
        self.moments[text] = value
        return value

    def window(self, start: Any, end: Any) -> Window | None:
        """The window of two datetime texts, None when either is invalid or end <= start."""
        if type(start) is not str or type(end) is not str:
            return None
        key = (start, end)
        try:
            return self.windows[key]
        except KeyError:
            pass
        s = self.moment(start)
        e = self.moment(end)
        value = _make_window(start=s, end=e) if s is not None and e is not None and e > s else None
        self.windows[key] = value
        return value

    def credential(self, name: Any, expires: Any) -> Credential | None:
        """The credential of a name and an optional expiry text, None when either is invalid."""
        if type(name) is not str or not name or (expires is not None and type(expires) is not str):
            return None
        key = (name, expires)
        try:
            return self.credentials[key]
        except KeyError:
            pass
        moment = None if expires is None else self.moment(expires)
        value = (
            None
            if expires is not None and moment is None
            else _make_credential(name=name, expires=moment)
        )
        self.credentials[key] = value
        return value

    def names(self, value: Any) -> frozenset[str] | None:
        if value is None:
            return frozenset()
        if type(value) is not list:
            return None
        try:
            return self.sets[tuple(value)]  # only lists of strings are stored
        except (KeyError, TypeError):
            pass
        for x in value:
            if type(x) is not str:
                return None
        found = self.sets[tuple(value)] = frozenset(value)
        return found


def _fast_number(value: Any, low: float, high: float) -> float | None:
    t = type(value)
    if t is float:
        if low <= value <= high:  # NaN and infinities fail (high is finite or inf)
            return value if math.isfinite(value) else None
        return None
    if t is int and -(2**53) <= value <= 2**53 and low <= value <= high:
        return float(value)
    return None


_INF = math.inf
_MAX_INT_FLOAT = 2**53  # larger integers go to the strict reader


def _fast_volunteer(obj: Any, fast: _Fast, institution_ids: set[str]) -> Volunteer | None:
    if type(obj) is not dict:
        return None
    get = obj.get
    vid = get("id")
    if type(vid) is not str or not vid:
        return None
    names = fast.names
    skills = names(get("skills"))
    languages = names(get("languages"))
    if skills is None or languages is None:
        return None
    gender = get("gender")
    if gender is not None and gender != "female" and gender != "male":
        return None
    age = get("age")
    if age is not None and (type(age) is not int or not 0 <= age <= MAX_INTEGER):
        return None
    # lat, lon and max_travel_km: floats in range, or integers turned into floats
    lat = get("lat")
    if type(lat) is float:
        if not -90.0 <= lat <= 90.0:
            return None
    elif type(lat) is int and -90 <= lat <= 90:
        lat = float(lat)
    else:
        return None
    lon = get("lon")
    if type(lon) is float:
        if not -180.0 <= lon <= 180.0:
            return None
    elif type(lon) is int and -180 <= lon <= 180:
        lon = float(lon)
    else:
        return None
    radius = get("max_travel_km")
    if type(radius) is float:
        if not 0.0 <= radius < _INF:
            return None
    elif type(radius) is int and 0 <= radius <= _MAX_INT_FLOAT:
        radius = float(radius)
    else:
        return None
    max_shifts = get("max_shifts")
    if max_shifts is not None and (
        type(max_shifts) is not int or not 0 <= max_shifts <= MAX_INTEGER
    ):
        return None
    max_hours = get("max_hours")
    if max_hours is not None:
        max_hours = _fast_number(max_hours, 0.0, _INF)
        if max_hours is None:
            return None
    no_show = get("no_show_rate")
    if no_show is None:
        no_show_rate = 0.0
    else:
        no_show_rate = _fast_number(no_show, 0.0, 1.0)
        if no_show_rate is None:
            return None
    raw_windows = get("availability")
    if type(raw_windows) is not list:
        return None
    known = fast.windows
    windows = []
    for w in raw_windows:
        if type(w) is not dict:
            return None
        try:
            item = known[w["start"], w["end"]]
        except (KeyError, TypeError):  # new texts, a missing end or an unhashable value
            item = fast.window(w.get("start"), w.get("end"))
        if item is None:
            return None
        windows.append(item)
    prefs = get("preferences")
    if prefs is None:
        preferences = EMPTY_PREFERENCES
    else:
        if type(prefs) is not dict:
            return None
        for key, weight in prefs.items():
            if (
                type(key) is not str
                or key not in institution_ids
                or type(weight) is not int
                or not 1 <= weight <= 3
            ):
                return None
        preferences = FrozenMap(prefs)
    creds = get("credentials")
    credentials: tuple[Credential, ...] = ()
    if creds is not None:
        if type(creds) is not list:
            return None
        items = []
        for c in creds:
            if type(c) is not dict:
                return None
            item = fast.credential(c.get("name"), c.get("expires"))
            if item is None:
                return None
            items.append(item)
        credentials = tuple(items)
    return _make_volunteer(
        id=vid,
        skills=skills,
        gender=gender,
        age=age,
        lat=lat,
        lon=lon,
        max_travel_km=radius,
        availability=tuple(windows),
        max_shifts=max_shifts,
        max_hours=max_hours,
        preferences=preferences,
        credentials=credentials,
        languages=languages,
        no_show_rate=no_show_rate,
    )


def _fast_shift(obj: Any, fast: _Fast, institution_ids: set[str]) -> Shift | None:
    if type(obj) is not dict:
        return None
    get = obj.get
    sid = get("id")
    inst = get("institution_id")
    if type(sid) is not str or not sid or type(inst) is not str or inst not in institution_ids:
        return None
    span = fast.window(get("start"), get("end"))
    if span is None:
        return None
    needed = get("needed")
    if type(needed) is not int or not 1 <= needed <= MAX_INTEGER:
        return None
    req = get("required_skills")
    if req is None:
        required_skills = EMPTY_PREFERENCES
    else:
        if type(req) is not dict:
            return None
        total = 0
        for key, count in req.items():
            if (
                type(key) is not str
                or not key
                or type(count) is not int
                or not 1 <= count <= MAX_INTEGER
            ):
                return None
            total += count
        if total > needed:
            return None
        required_skills = FrozenMap(req)
    gender = get("gender", "any")
    if gender != "any" and gender != "female" and gender != "male":
        return None
    min_age = get("min_age", 0)
    if type(min_age) is not int or not 0 <= min_age <= MAX_INTEGER:
        return None
    priority = get("priority", 1)
    if type(priority) is not int or not 1 <= priority <= 5:
        return None
    creds = fast.names(get("required_credentials"))
    languages = fast.names(get("languages"))
    if creds is None or languages is None:
        return None
    return _make_shift(
        id=sid,
        institution_id=inst,
        start=span.start,
        end=span.end,
        needed=needed,
        required_skills=required_skills,
        gender=gender,
        min_age=min_age,
        required_credentials=creds,
        languages=languages,
        priority=priority,
    )


def _items(
    raw: Any,
    path: str,
    fast: Callable[[Any], T | None],
    strict: Callable[[_Reader], T],
) -> list[T]:
    """Every item of the array `raw` by the fast reader, or by the strict one where it gives up."""
    items = _array(raw, (path,))
    out: list[T] = []
    append = out.append
    for i, item in enumerate(items):
        value = fast(item)
        append(value if value is not None else strict(_Reader(item, (path, i))))
    return out


def load_problem(data: Mapping[str, Any] | str | bytes | os.PathLike[str]) -> Problem:
    """Parse and validate a v1 problem; raise ProblemError naming the first bad field."""
    # the parse builds millions of containers, none of them garbage: the cyclic collector
    # would walk them again and again while they grow (a third of the time at 100 000
    # volunteers), so it is paused meanwhile (and left as found)
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _load_problem(data)
    finally:
        if enabled:
            gc.enable()


def _load_problem(data: Mapping[str, Any] | str | bytes | os.PathLike[str]) -> Problem:
    r = _Reader(read_document(data), ())
    fmt = r.get("format", _string)
    if fmt != FORMAT:
        raise ProblemError("/format", f"expected {FORMAT!r}, got {fmt!r}")
    horizon = _window(_Reader(r.raw("horizon", required=True), ("horizon",)))

    institutions = r.get("institutions", lambda v, p: _objects(v, p, _institution))
    _unique_ids(institutions, ("institutions",))
    institution_ids = {i.id for i in institutions}

    fast = _Fast()
    volunteers = _items(
        r.raw("volunteers", required=True),
        "volunteers",
        lambda x: _fast_volunteer(x, fast, institution_ids),
        lambda x: _volunteer(x, institution_ids),
    )
    _unique_ids(volunteers, ("volunteers",))

    shifts = _items(
        r.raw("shifts", required=True),
        "shifts",
        lambda x: _fast_shift(x, fast, institution_ids),
        lambda x: _shift(x, institution_ids),
    )
    _unique_ids(shifts, ("shifts",))

    volunteer_ids = {v.id for v in volunteers}
    shift_ids = {s.id for s in shifts}
    locked = r.get(
        "locked", lambda v, p: _pairs(v, p, volunteer_ids, shift_ids), default=(), nullable=True
    )
    previous = r.get(
        "previous", lambda v, p: _pairs(v, p, volunteer_ids, shift_ids), default=(), nullable=True
    )
    settings_raw = r.raw("settings", required=False)
    settings = (
        Settings()
        if settings_raw is _MISSING or settings_raw is None
        else _settings(_Reader(settings_raw, ("settings",)))
    )
    return Problem(
        horizon=horizon,
        institutions=tuple(institutions),
        volunteers=tuple(volunteers),
        shifts=tuple(shifts),
        locked=locked or (),
        previous=previous or (),
        settings=settings,
    )


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def _window_dict(window: Window) -> dict[str, str]:
    return {"start": _iso(window.start), "end": _iso(window.end)}


def _pair_dict(pair: Pair) -> dict[str, str]:
    return {"volunteer_id": pair.volunteer_id, "shift_id": pair.shift_id}


def problem_to_dict(problem: Problem) -> dict[str, Any]:
    """The v1 JSON shape of a problem; load_problem(problem_to_dict(p)) == p."""
    settings = problem.settings
    weights = settings.weights
    return {
        "format": FORMAT,
        "horizon": _window_dict(problem.horizon),
        "institutions": [
            {"id": i.id, "lat": i.lat, "lon": i.lon, "kind": i.kind} for i in problem.institutions
        ],
        "volunteers": [
            {
                "id": v.id,
                "skills": sorted(v.skills),
                "gender": v.gender,
                "age": v.age,
                "lat": v.lat,
                "lon": v.lon,
                "max_travel_km": v.max_travel_km,
                "availability": [_window_dict(w) for w in v.availability],
                "max_shifts": v.max_shifts,
                "max_hours": v.max_hours,
                "preferences": dict(v.preferences),
                "credentials": [
                    {"name": c.name, "expires": _iso(c.expires) if c.expires is not None else None}
                    for c in v.credentials
                ],
                "languages": sorted(v.languages),
                "no_show_rate": v.no_show_rate,
            }
            for v in problem.volunteers
        ],
        "shifts": [
            {
                "id": s.id,
                "institution_id": s.institution_id,
                "start": _iso(s.start),
                "end": _iso(s.end),
                "needed": s.needed,
                "required_skills": dict(s.required_skills),
                "gender": s.gender,
                "min_age": s.min_age,
                "required_credentials": sorted(s.required_credentials),
                "languages": sorted(s.languages),
                "priority": s.priority,
            }
            for s in problem.shifts
        ],
        "locked": [_pair_dict(p) for p in problem.locked],
        "previous": [_pair_dict(p) for p in problem.previous],
        "settings": {
            "min_rest_minutes": settings.min_rest_minutes,
            "time_limit_s": settings.time_limit_s,
            "seed": settings.seed,
            "threads": settings.threads,
            "weights": {name: getattr(weights, name) for name in Weights.__dataclass_fields__},
        },
    }


def dump_problem(problem: Problem, *, indent: int | None = 2) -> str:
    """The problem as JSON text."""
    return json.dumps(problem_to_dict(problem), indent=indent, ensure_ascii=False)


# ---------------------------------------------------------------- solution


def _assignment(r: _Reader) -> Assignment:
    return Assignment(
        volunteer_id=r.get("volunteer_id", _ident),
        shift_id=r.get("shift_id", _ident),
        position=r.get("position", _ident, default=None, nullable=True),
    )


def _unfilled(r: _Reader) -> Unfilled:
    return Unfilled(
        shift_id=r.get("shift_id", _ident),
        position=r.get("position", _ident, default=None, nullable=True),
        missing=r.get("missing", _in_range(_integer, 0, None)),
        reasons=r.get(
            "reasons",
            lambda v, p: _int_map(v, p, _in_range(_integer, 0, None)),
            default={},
            nullable=True,
        )
        or {},
        suggestions=tuple(
            r.get(
                "suggestions",
                lambda v, p: [_string(x, (*p, i)) for i, x in enumerate(_array(v, p))],
                default=[],
                nullable=True,
            )
            or ()
        ),
    )


_METRIC_FIELDS = (
    "demand",
    "filled",
    "upper_bound",
    "status",
    "solve_seconds",
    "mean_km",
    "filled_by_priority",
    "fairness_spread",
)


def _priority_counts(value: Any, path: tuple[str | int, ...]) -> dict[int, int]:
    counts = _int_map(value, path, _in_range(_integer, 0, None))
    result: dict[int, int] = {}
    for key, count in counts.items():
        if not key.isdigit():
            raise ProblemError(pointer(*path, key), "priority keys must be integers")
        result[int(key)] = count
    return result


def _metrics(r: _Reader) -> Metrics:
    counter = _in_range(_integer, 0, None)
    return Metrics(
        demand=r.get("demand", counter),
        filled=r.get("filled", counter),
        upper_bound=r.get("upper_bound", counter),
        status=r.get("status", _one_of(STATUSES)),
        solve_seconds=r.get("solve_seconds", _in_range(_number, 0, None)),
        mean_km=r.get("mean_km", _in_range(_number, 0, None), default=None, nullable=True),
        filled_by_priority=r.get("filled_by_priority", _priority_counts, default={}, nullable=True)
        or {},
        fairness_spread=r.get("fairness_spread", _number, default=None, nullable=True),
        extra={k: v for k, v in r.obj.items() if k not in _METRIC_FIELDS},
    )


def load_solution(data: Mapping[str, Any] | str | bytes | os.PathLike[str]) -> Solution:
    """Parse and validate the shape of a v1 solution; raise ProblemError naming the bad field."""
    r = _Reader(read_document(data), ())
    fmt = r.get("format", _string)
    if fmt != FORMAT:
        raise ProblemError("/format", f"expected {FORMAT!r}, got {fmt!r}")
    return Solution(
        assignments=tuple(r.get("assignments", lambda v, p: _objects(v, p, _assignment))),
        unfilled=tuple(
            r.get("unfilled", lambda v, p: _objects(v, p, _unfilled), default=[], nullable=True)
            or ()
        ),
        metrics=_metrics(_Reader(r.raw("metrics", required=True), ("metrics",))),
        warnings=tuple(
            r.get(
                "warnings",
                lambda v, p: [_string(x, (*p, i)) for i, x in enumerate(_array(v, p))],
                default=[],
                nullable=True,
            )
            or ()
        ),
    )


def solution_to_dict(solution: Solution) -> dict[str, Any]:
    """The v1 JSON shape of a solution."""
    return solution.to_dict()


def dump_solution(solution: Solution, *, indent: int | None = 2) -> str:
    """The solution as JSON text."""
    return json.dumps(solution_to_dict(solution), indent=indent, ensure_ascii=False)
