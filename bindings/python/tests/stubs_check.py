"""Type-checked against the package's stubs by `.ci/run` (`mypy --strict`); not a pytest
module (it is not named test_*), though it runs too: `python tests/stubs_check.py`."""

import datetime
import cohort

groups = cohort.GroupSet.from_yaml("name: A\nwhere: OS = x")
members: dict[str, list[str]] = groups.evaluate_fleet([{"OS": "x"}], now=datetime.datetime.now())
names: list[str] = groups.evaluate({"OS": "x"})
why = groups.explain({"OS": "x"}, "A")
ok: bool = why.matched
tracker = groups.tracker()
events = tracker.upsert("a", {"OS": "x"})
change: str = events[0].change
findings = cohort.lint_yaml("name: A\nwhere: OS = x")
code: str = findings[0]["code"] if findings else ""
d = cohort.diff(groups, groups, [{"OS": "x"}])
n: int = d["machines"]
assert members == {"A": ["#1"]} and names == ["A"] and ok and change == "joined"
assert code == "" and n == 1
