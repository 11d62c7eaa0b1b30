"""Typed, immutable problem and solution model of the volunteer-matching/v1 format."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any, TypeVar

FORMAT = "volunteer-matching/v1"
GENDERS = ("any", "female", "male")
STATUSES = ("OPTIMAL", "FILL_OPTIMAL", "FEASIBLE", "EMPTY")

K = TypeVar("K")
V = TypeVar("V")


class FrozenMap(Mapping[K, V]):
    """A read-only, hashable mapping that keeps insertion order (used inside frozen dataclasses)."""

    __slots__ = ("_data", "_hash")

    def __init__(self, data: Mapping[K, V] | Iterable[tuple[K, V]] = ()) -> None:
        self._data: dict[K, V] = dict(data)
        self._hash: int | None = None

    def __getitem__(self, key: K) -> V:
        return self._data[key]

    def __iter__(self) -> Iterator[K]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(frozenset(self._data.items()))
        return self._hash

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):
            return dict(self._data.items()) == dict(other.items())
        return NotImplemented

    def __repr__(self) -> str:
        return f"FrozenMap({self._data!r})"


EMPTY_MAP: FrozenMap[Any, Any] = FrozenMap()


def _set(obj: object, name: str, value: object) -> None:
    object.__setattr__(obj, name, value)


def _require_aware(value: datetime, what: str) -> None:
    if not isinstance(value, datetime):
        raise TypeError(f"{what}: expected a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what}: naive datetime")


def _require_order(start: datetime, end: datetime, what: str) -> None:
    _require_aware(start, f"{what}.start")
    _require_aware(end, f"{what}.end")
    if end <= start:
        raise ValueError(f"{what}: end must be after start")


@dataclass(frozen=True, slots=True)
class Window:
    """A time interval [start, end) with tz-aware ends (availability window or horizon)."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        _require_order(self.start, self.end, "window")

    def contains(self, start: datetime, end: datetime) -> bool:
        """True when [start, end] lies wholly inside this window (ends may touch)."""
        return self.start <= start and end <= self.end


@dataclass(frozen=True, slots=True)
class Credential:
    """A credential a volunteer holds; `expires` None means it never expires."""

    name: str
    expires: datetime | None = None

    def __post_init__(self) -> None:
        if self.expires is not None:
            _require_aware(self.expires, "credential.expires")


@dataclass(frozen=True, slots=True)
class Institution:
    """A place where shifts happen."""

    id: str
    lat: float
    lon: float
    kind: str | None = None


@dataclass(frozen=True, slots=True)
class Volunteer:
    """A volunteer with their static attributes, availability and caps."""

    id: str
    skills: frozenset[str]
    gender: str | None
    age: int | None
    lat: float
    lon: float
    max_travel_km: float
    availability: tuple[Window, ...]
    max_shifts: int | None = None
    max_hours: float | None = None
    preferences: Mapping[str, int] = EMPTY_MAP
    credentials: tuple[Credential, ...] = ()
    languages: frozenset[str] = frozenset()
    no_show_rate: float = 0.0

    def __post_init__(self) -> None:
        _set(self, "skills", frozenset(self.skills))
        _set(self, "availability", tuple(self.availability))
        _set(self, "preferences", FrozenMap(self.preferences))
        _set(self, "credentials", tuple(self.credentials))
        _set(self, "languages", frozenset(self.languages))


@dataclass(frozen=True, slots=True)
class Shift:
    """A shift: `needed` places, of which `required_skills` are reserved per skill."""

    id: str
    institution_id: str
    start: datetime
    end: datetime
    needed: int
    required_skills: Mapping[str, int] = EMPTY_MAP
    gender: str = "any"
    min_age: int = 0
    required_credentials: frozenset[str] = frozenset()
    languages: frozenset[str] = frozenset()
    priority: int = 1

    def __post_init__(self) -> None:
        _require_order(self.start, self.end, f"shift {self.id}")
        _set(self, "required_skills", FrozenMap(self.required_skills))
        _set(self, "required_credentials", frozenset(self.required_credentials))
        _set(self, "languages", frozenset(self.languages))

    @property
    def duration_hours(self) -> float:
        """Length of the shift in hours, (end - start) / 1 h."""
        return (self.end - self.start).total_seconds() / 3600.0

    @property
    def open_places(self) -> int:
        """Places open to anyone eligible: needed minus the reserved skill places."""
        return self.needed - sum(self.required_skills.values())


@dataclass(frozen=True, slots=True)
class Pair:
    """A (volunteer, shift) pair, used for `locked` and `previous`."""

    volunteer_id: str
    shift_id: str


@dataclass(frozen=True, slots=True)
class Weights:
    """Weights of the secondary objectives (fill always comes first)."""

    previous: float = 8.0
    preferences: float = 4.0
    same_institution: float = 2.0
    travel: float = 1.0
    fairness: float = 1.0
    reliability: float = 10.0


@dataclass(frozen=True, slots=True)
class Settings:
    """Solver settings carried by a problem."""

    min_rest_minutes: int = 0
    time_limit_s: float | None = None
    seed: int = 0
    threads: int | None = None
    weights: Weights = Weights()


def _index(items: tuple[Any, ...]) -> Mapping[str, Any]:
    return MappingProxyType({item.id: item for item in items})


@dataclass(frozen=True, slots=True)
class Problem:
    """A whole matching problem; lookups by id are built once at construction."""

    horizon: Window
    institutions: tuple[Institution, ...]
    volunteers: tuple[Volunteer, ...]
    shifts: tuple[Shift, ...]
    locked: tuple[Pair, ...] = ()
    previous: tuple[Pair, ...] = ()
    settings: Settings = Settings()
    institution_by_id: Mapping[str, Institution] = field(
        init=False, repr=False, compare=False, default=EMPTY_MAP
    )
    volunteer_by_id: Mapping[str, Volunteer] = field(
        init=False, repr=False, compare=False, default=EMPTY_MAP
    )
    shift_by_id: Mapping[str, Shift] = field(
        init=False, repr=False, compare=False, default=EMPTY_MAP
    )

    def __post_init__(self) -> None:
        _set(self, "institutions", tuple(self.institutions))
        _set(self, "volunteers", tuple(self.volunteers))
        _set(self, "shifts", tuple(self.shifts))
        _set(self, "locked", tuple(self.locked))
        _set(self, "previous", tuple(self.previous))
        _set(self, "institution_by_id", _index(self.institutions))
        _set(self, "volunteer_by_id", _index(self.volunteers))
        _set(self, "shift_by_id", _index(self.shifts))

    def institution_of(self, shift: Shift) -> Institution:
        """The institution a shift belongs to."""
        return self.institution_by_id[shift.institution_id]

    @property
    def demand(self) -> int:
        """Total number of places over all shifts."""
        return sum(shift.needed for shift in self.shifts)


@dataclass(frozen=True, slots=True)
class Assignment:
    """A volunteer filling one place of a shift; `position` is the skill or None (open place)."""

    volunteer_id: str
    shift_id: str
    position: str | None = None


@dataclass(frozen=True, slots=True)
class Unfilled:
    """Places of one position of a shift left open, with why and what would help."""

    shift_id: str
    position: str | None
    missing: int
    reasons: Mapping[str, int] = EMPTY_MAP
    suggestions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _set(self, "reasons", FrozenMap(self.reasons))
        _set(self, "suggestions", tuple(self.suggestions))


@dataclass(frozen=True, slots=True)
class Metrics:
    """Summary figures of a solution; `extra` carries further JSON-ready figures."""

    demand: int
    filled: int
    upper_bound: int
    status: str
    solve_seconds: float
    mean_km: float | None = None
    filled_by_priority: Mapping[int, int] = EMPTY_MAP
    fairness_spread: float | None = None
    extra: Mapping[str, Any] = EMPTY_MAP

    def __post_init__(self) -> None:
        _set(self, "filled_by_priority", FrozenMap(self.filled_by_priority))
        _set(self, "extra", FrozenMap(self.extra))

    def to_dict(self) -> dict[str, Any]:
        """The v1 JSON shape of the metrics object (optional figures only when set)."""
        out: dict[str, Any] = {
            "demand": self.demand,
            "filled": self.filled,
            "upper_bound": self.upper_bound,
            "status": self.status,
            "solve_seconds": self.solve_seconds,
            "mean_km": self.mean_km,
        }
        if self.filled_by_priority:
            out["filled_by_priority"] = {
                str(k): v for k, v in sorted(self.filled_by_priority.items())
            }
        if self.fairness_spread is not None:
            out["fairness_spread"] = self.fairness_spread
        for key, value in self.extra.items():
            out.setdefault(key, value)
        return out


@dataclass(frozen=True, slots=True)
class Solution:
    """A solver result: assignments, open places with reasons, metrics and warnings."""

    assignments: tuple[Assignment, ...]
    unfilled: tuple[Unfilled, ...]
    metrics: Metrics
    warnings: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _set(self, "assignments", tuple(self.assignments))
        _set(self, "unfilled", tuple(self.unfilled))
        _set(self, "warnings", tuple(self.warnings))

    def to_dict(self) -> dict[str, Any]:
        """The v1 JSON shape of the solution."""
        return {
            "format": FORMAT,
            "assignments": [
                {"volunteer_id": a.volunteer_id, "shift_id": a.shift_id, "position": a.position}
                for a in self.assignments
            ],
            "unfilled": [
                {
                    "shift_id": u.shift_id,
                    "position": u.position,
                    "missing": u.missing,
                    "reasons": dict(u.reasons),
                    "suggestions": list(u.suggestions),
                }
                for u in self.unfilled
            ],
            "metrics": self.metrics.to_dict(),
            "warnings": list(self.warnings),
        }
