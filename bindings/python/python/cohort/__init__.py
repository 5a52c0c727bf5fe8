"""cohort: the criteria rule engine for the dynamic groups of RMM tools.

Load and check group definitions once, then evaluate machines against them::

    import cohort

    groups = cohort.GroupSet.from_yaml('''
    name: Low Disk
    where: "[Free Disk %] < 10"
    ''')
    groups.evaluate({"Free Disk %": 4})                  # ['Low Disk']
    groups.evaluate_fleet([{"id": "WS-1", "Free Disk %": 4}, {"id": "WS-2"}])
    # {'Low Disk': ['WS-1']}

A machine is a dict of attributes and means what the same machine means as JSON (what
``json.dumps`` would write; ``datetime`` and ``date`` values as their ISO text). Problems in
definitions raise :class:`CohortError`, whose ``diagnostics`` list every problem with its
file, line, column, group, message and help.
"""

from ._cohort import (
    CohortError,
    Diagnostic,
    Event,
    Explanation,
    GroupSet,
    Schema,
    Tracker,
    __version__,
    diff,
    lint_path,
    lint_yaml,
)

__all__ = [
    "CohortError",
    "Diagnostic",
    "Event",
    "Explanation",
    "GroupSet",
    "Schema",
    "Tracker",
    "__version__",
    "diff",
    "lint_path",
    "lint_yaml",
]
