"""100,000 machines as dicts: cohort's `evaluate_fleet` against a pure-Python loop of the
same ten groups, written for the same meaning on this workload (case-insensitive text,
numbers compared as numbers, versions segment by segment, dates against `now`, lists
element by element, `member of`). Both give `{group: [machine ids]}`; the script checks
that they are equal before it reports a time.

Workload: the shipped example fleet (examples/fleet/fleet.json, 1,000 machines of 24
attributes each) repeated 100 times with new ids, so 100,000 dicts. Run it against a
release build:

    cd bindings/python && maturin build --release --out /tmp/wheels
    pip install /tmp/wheels/cohort-*.whl pyarrow
    python bench/bench_fleet.py

Each figure is the median of 7 runs; PERFORMANCE.md has one run's figures.
"""

import datetime
import json
import pathlib
import statistics
import time

import cohort

ROOT = pathlib.Path(__file__).resolve().parents[3]
NOW = datetime.datetime(2026, 11, 25, tzinfo=datetime.timezone.utc)
RUNS = 7

GROUPS = """
groups:
  - name: Servers Pending Reboot
    where: Machine Type equal Server and Pending Reboot is true
  - name: Outdated Agents
    where: Agent Version < 2024.1.0
  - name: Low Free Disk
    blocks:
      - ["[Free Disk %] < 10"]
      - ["[Free Disk GB] <= 5"]
  - name: Not Seen for 30 Days
    where: Last Seen older than 30 days
  - name: Windows 11
    where: OS contains 'Windows 11'
  - name: Chrome Installed
    where: Installed Software contains any of 'Google Chrome'
  - name: BitLocker Key Missing
    where: BitLocker Key Backup Status contains any of 'Not Available', 'Failed'
  - name: Globex Workstations
    where: Company equal Globex and Machine Type equal Workstation
  - name: Low RAM
    where: RAM GB < 8
  - name: Servers Low on Disk
    where: member of 'Low Free Disk' and Machine Type equal Server
"""


def fleet():
    data = json.loads((ROOT / "examples" / "fleet" / "fleet.json").read_text())
    machines = data["machines"] if isinstance(data, dict) else data
    out = []
    for copy in range(100):
        for machine in machines:
            out.append({**machine, "id": f"{machine['id']}-{copy}"})
    return out


# ---- the same groups in pure Python -------------------------------------------------


def text(value):
    """Text as cohort folds it for comparison, or None when the value is not text."""
    return value.lower() if isinstance(value, str) else None


def number(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def equal_text(value, literal):
    folded = text(value)
    return folded is not None and folded == literal


def contains_any(value, needles):
    items = value if isinstance(value, list) else [value]
    for item in items:
        folded = text(item)
        if folded is not None and any(needle in folded for needle in needles):
            return True
    return False


def version(value):
    if not isinstance(value, str):
        return None
    try:
        return tuple(int(part) for part in value.split("."))
    except ValueError:
        return None


def older_than(value, days, now):
    if not isinstance(value, str):
        return False
    try:
        when = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.timezone.utc)
    return when < now - datetime.timedelta(days=days)


def less(value, bound):
    n = number(value)
    return n is not None and n < bound


def python_groups(machines, now):
    result = {name: [] for name in (
        "Servers Pending Reboot", "Outdated Agents", "Low Free Disk", "Not Seen for 30 Days",
        "Windows 11", "Chrome Installed", "BitLocker Key Missing", "Globex Workstations",
        "Low RAM", "Servers Low on Disk")}
    agent_bound = (2024, 1, 0)
    for position, m in enumerate(machines):
        mid = m.get("id")
        mid = f"#{position + 1}" if mid is None else mid
        get = m.get
        server = equal_text(get("Machine Type"), "server")
        reboot = get("Pending Reboot")
        if server and (reboot is True or text(reboot) == "true"):
            result["Servers Pending Reboot"].append(mid)
        v = version(get("Agent Version"))
        if v is not None and v < agent_bound:
            result["Outdated Agents"].append(mid)
        gb = number(get("Free Disk GB"))
        low_disk = less(get("Free Disk %"), 10) or (gb is not None and gb <= 5)
        if low_disk:
            result["Low Free Disk"].append(mid)
        if older_than(get("Last Seen"), 30, now):
            result["Not Seen for 30 Days"].append(mid)
        if contains_any(get("OS"), ("windows 11",)):
            result["Windows 11"].append(mid)
        if contains_any(get("Installed Software"), ("google chrome",)):
            result["Chrome Installed"].append(mid)
        if contains_any(get("BitLocker Key Backup Status"), ("not available", "failed")):
            result["BitLocker Key Missing"].append(mid)
        if equal_text(get("Company"), "globex") and equal_text(get("Machine Type"), "workstation"):
            result["Globex Workstations"].append(mid)
        if less(get("RAM GB"), 8):
            result["Low RAM"].append(mid)
        if low_disk and server:
            result["Servers Low on Disk"].append(mid)
    return result


# ---- timing ---------------------------------------------------------------------------


def median_seconds(work):
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main():
    machines = fleet()
    groups = cohort.GroupSet.from_yaml(GROUPS)
    expected = groups.evaluate_fleet(machines, NOW)
    assert python_groups(machines, NOW) == expected, "the pure-Python groups disagree"
    counts = {name: len(ids) for name, ids in expected.items()}
    print(f"{len(machines):,} machines, {len(groups)} groups; members: {counts}")

    python = median_seconds(lambda: python_groups(machines, NOW))
    fleet_dicts = median_seconds(lambda: groups.evaluate_fleet(machines, NOW))
    per_machine = median_seconds(lambda: groups.memberships(machines, NOW))
    one_by_one = median_seconds(lambda: [groups.evaluate(m, NOW) for m in machines])
    rows = [
        ("pure-Python loop -> {group: [ids]}", python),
        ("cohort evaluate_fleet(list of dicts)", fleet_dicts),
        ("cohort memberships(list of dicts)", per_machine),
        ("cohort evaluate(dict), 100k calls", one_by_one),
    ]
    try:
        import pyarrow as pa
    except ImportError:
        pa = None
    if pa is not None:
        table = pa.Table.from_pylist(machines)
        assert groups.evaluate_fleet(table, NOW) == expected, "the Arrow path disagrees"
        rows.append(("cohort evaluate_fleet(pyarrow.Table)", median_seconds(
            lambda: groups.evaluate_fleet(table, NOW))))
    print(f"median of {RUNS} runs:")
    for name, seconds in rows:
        print(f"  {name:<40} {seconds * 1000:9.1f} ms   {python / seconds:6.2f}x the Python loop")


if __name__ == "__main__":
    main()
