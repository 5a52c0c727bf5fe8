"""Type stubs for cohort (the extension module ``cohort._cohort``)."""

import datetime
import os
from typing import Any, Iterable, Literal, Mapping, Optional, TypedDict, Union

__version__: str

Now = Union[datetime.datetime, datetime.date, str, None]
"""An evaluation time: a datetime (naive = UTC), a date (midnight UTC), RFC 3339 text, or
None for the current time."""

Machine = Mapping[str, Any]
"""A machine: a dict of attributes (str, int, float, bool, None, list, tuple, dict,
datetime, date), read as the same machine in JSON would be."""

class CohortError(Exception):
    """Definitions (or a schema) that do not load or check.

    ``str(error)`` is what the CLI prints; ``diagnostics`` lists every problem."""

    diagnostics: list[Diagnostic]

class Diagnostic:
    """One problem in group definitions, with where it is and how to fix it."""

    file: Optional[str]
    line: Optional[int]
    column: Optional[int]
    group: Optional[str]
    criterion: Optional[str]
    message: str
    help: Optional[str]
    rendered: str
    """The CLI's rendering: location, message, the offending line, help."""

class Schema:
    """A field schema (names, types, levels) to validate groups against."""

    @staticmethod
    def load(path: Union[str, os.PathLike[str]]) -> Schema:
        """Loads a schema file. Raises CohortError."""
    @staticmethod
    def from_yaml(text: str) -> Schema:
        """Reads a schema from YAML text (named ``<schema>`` in diagnostics)."""
    @property
    def fields(self) -> list[str]:
        """The declared fields' record keys (``Name`` or ``site:Name``)."""

class Explanation:
    """Why a machine is or is not in a group; ``str()`` is what ``cohort explain`` prints,
    ``bool()`` whether it is a member."""

    group: str
    matched: bool
    text: str
    def __bool__(self) -> bool: ...

class Event:
    """A membership change: ``machine`` joined or left ``group``."""

    machine: str
    group: str
    change: Literal["joined", "left"]
    def __init__(self, machine: str, group: str, change: Literal["joined", "left"]) -> None: ...

class Tracker:
    """Live membership over a changing fleet, with join/leave events. May be shared
    between threads: calls take turns."""

    def upsert(self, id: str, machine: Machine) -> list[Event]:
        """Adds or replaces machine ``id``; returns the memberships gained and lost."""
    def remove(self, id: str) -> list[Event]:
        """Removes machine ``id``: it leaves every group it was in."""
    def set_now(self, now: Now) -> list[Event]:
        """Moves the clock: groups with relative-date criteria are evaluated again."""
    def members(self, group: str) -> list[str]:
        """The ids of ``group``'s current members. KeyError for an unknown group."""
    def contains(self, id: str, group: str) -> bool:
        """Whether machine ``id`` is in ``group`` now."""
    def __len__(self) -> int:
        """The number of machines tracked."""

class GroupSet:
    """Checked, compiled groups: load once, evaluate many times. Immutable, thread-safe."""

    @staticmethod
    def load(path: Union[str, os.PathLike[str]], schema: Optional[Schema] = None) -> GroupSet:
        """Loads a definitions file or directory (as ``cohort check``). Raises CohortError."""
    @staticmethod
    def from_yaml(
        text: str, schema: Optional[Schema] = None, name: str = "<string>"
    ) -> GroupSet:
        """Loads groups from YAML text (called ``name`` in diagnostics). Raises CohortError."""
    @property
    def names(self) -> list[str]:
        """The group names, in definition order."""
    @property
    def fields_tested(self) -> list[str]:
        """The attribute names the groups read."""
    def __len__(self) -> int: ...
    def __contains__(self, name: str) -> bool: ...
    def evaluate(self, machine: Machine, now: Now = None) -> list[str]:
        """The groups one machine belongs to, in definition order."""
    def evaluate_fleet(
        self,
        machines: Union[Iterable[Machine], Any],
        now: Now = None,
        id_field: str = "id",
    ) -> dict[str, list[str]]:
        """``{group: [machine ids]}`` over a list of dicts or Arrow data (``pyarrow.Table``,
        anything with ``__arrow_c_stream__``); ``#N`` for a machine without an id. Releases
        the GIL while evaluating."""
    def memberships(
        self, machines: Union[Iterable[Machine], Any], now: Now = None
    ) -> list[list[str]]:
        """One list of group names per machine, in input order."""
    def explain(self, machine: Machine, group: str, now: Now = None) -> Explanation:
        """Why ``machine`` is or is not in ``group``. KeyError for an unknown group."""
    def tracker(self, now: Now = None) -> Tracker:
        """A live membership tracker over these groups, starting empty."""

class GroupChange(TypedDict):
    name: str
    kind: Literal["added", "removed", "changed", "through_member_of"]
    before: Optional[int]
    after: Optional[int]
    joins: list[str]
    leaves: list[str]

class DefinitionDiff(TypedDict):
    machines: int
    unchanged: int
    groups: list[GroupChange]

def diff(
    before: GroupSet,
    after: GroupSet,
    machines: Iterable[Machine],
    now: Now = None,
    id_field: str = "id",
) -> DefinitionDiff:
    """Who joins and who leaves each group when definitions change (plan before apply)."""

class Finding(TypedDict):
    code: str
    severity: Literal["error", "warning", "note"]
    file: Optional[str]
    line: Optional[int]
    column: Optional[int]
    group: str
    criterion: Optional[str]
    message: str
    help: str

def lint_yaml(text: str, schema: Optional[Schema] = None) -> list[Finding]:
    """Static lint findings for definitions given as YAML text. Raises CohortError."""

def lint_path(
    path: Union[str, os.PathLike[str]], schema: Optional[Schema] = None
) -> list[Finding]:
    """Static lint findings for a definitions file or directory. Raises CohortError."""
