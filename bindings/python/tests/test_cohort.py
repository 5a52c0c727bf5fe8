"""pytest for the Python bindings (run by .ci/run after `maturin develop`)."""

import datetime
import json
import pathlib
import threading

import pytest

import cohort

ROOT = pathlib.Path(__file__).resolve().parents[3]

GROUPS = """
groups:
  - name: Low Disk
    where: "[Free Disk %] < 10"
  - name: Servers
    where: Machine Type = Server
  - name: Low Disk Servers
    where: member of 'Low Disk' and member of Servers
  - name: Stale
    where: Last Seen older than 30 days
  - name: Chrome
    where: Installed Software contains any of "Google Chrome"
"""

NOW = datetime.datetime(2026, 11, 25, tzinfo=datetime.timezone.utc)

FLEET = [
    {"id": "SRV-1", "Machine Type": "Server", "Free Disk %": 4, "Last Seen": "2026-09-01"},
    {"id": "WS-2", "Machine Type": "Workstation", "Free Disk %": 3.5,
     "Installed Software": ["Google Chrome 131", "Slack"]},
    {"Machine Type": "server", "Free Disk %": "55", "Last Seen": datetime.date(2026, 11, 20)},
]


@pytest.fixture(scope="module")
def groups():
    return cohort.GroupSet.from_yaml(GROUPS)


def test_names_len_contains(groups):
    assert groups.names == ["Low Disk", "Servers", "Low Disk Servers", "Stale", "Chrome"]
    assert len(groups) == 5
    assert "Servers" in groups and "Nope" not in groups
    assert sorted(groups.fields_tested) == [
        "Free Disk %", "Installed Software", "Last Seen", "Machine Type"]
    assert cohort.__version__ == "0.1.0"


def test_evaluate_one_machine(groups):
    assert groups.evaluate(FLEET[0], NOW) == ["Low Disk", "Servers", "Low Disk Servers", "Stale"]
    assert groups.evaluate(FLEET[1], NOW) == ["Low Disk", "Chrome"]
    assert groups.evaluate(FLEET[2], NOW) == ["Servers"]
    assert groups.evaluate({}, NOW) == []


def test_fleet_results_and_per_machine_lists(groups):
    assert groups.evaluate_fleet(FLEET, NOW) == {
        "Low Disk": ["SRV-1", "WS-2"],
        "Servers": ["SRV-1", "#3"],
        "Low Disk Servers": ["SRV-1"],
        "Stale": ["SRV-1"],
        "Chrome": ["WS-2"],
    }
    assert groups.memberships(FLEET, NOW) == [
        ["Low Disk", "Servers", "Low Disk Servers", "Stale"],
        ["Low Disk", "Chrome"],
        ["Servers"],
    ]
    # Any iterable of dicts, and another id field.
    fleet = ({**m, "serial": i * 10} for i, m in enumerate(FLEET))
    assert groups.evaluate_fleet(fleet, NOW, id_field="serial")["Servers"] == ["0", "20"]


def test_dicts_mean_what_the_same_json_means(groups):
    """The fleet as dicts and as JSON through the CLI-equivalent reader agree."""
    machines = FLEET[:2] + [{**FLEET[2], "Last Seen": "2026-11-20"}]
    from_dicts = groups.evaluate_fleet(machines, NOW)
    reread = json.loads(json.dumps(machines))
    assert groups.evaluate_fleet(reread, NOW) == from_dicts


VALUE_GROUPS = """
groups:
  - {name: Blank, where: X is blank}
  - {name: Not Blank, where: X is not blank}
  - {name: Equal 1, where: X = 1}
  - {name: Not Equal 1, where: X != 1}
  - {name: Below 10, where: X < 10}
  - {name: Is True, where: X is true}
  - {name: Contains A, where: X contains a}
  - {name: Not Contains A, where: not X contains a}
  - {name: Any Of, where: "X is any of 1, 'a', true"}
  - {name: Version, where: X < 2024.1.0}
  - {name: Recent, where: X within last 30 days}
  - {name: Regex, where: "X matches regex '^[a-z]+$'"}
"""

VALUES = [None, True, False, 0, 1, -3, 2**70, -(2**70), 1.0, 9.99, 1e300, "", "1", "a", "A",
          "abc", "2024.0.9", "2026-11-20", [], [1], ["a", "b"], [[["a"]]], ("a", 1), {"k": "a"},
          [{"k": 1}], datetime.date(2026, 11, 20), datetime.datetime(2026, 11, 1, 12)]


def test_fleet_path_reads_values_as_one_machine_path():
    """memberships reads values by position (convert::attr); evaluate goes through the
    engine's own Machine implementation for JSON objects: they agree on every kind."""
    groups = cohort.GroupSet.from_yaml(VALUE_GROUPS)
    machines = [{"X": value} for value in VALUES] + [{}]
    one_by_one = [groups.evaluate(m, NOW) for m in machines]
    assert groups.memberships(machines, NOW) == one_by_one
    assert one_by_one[-1] == ["Blank", "Not Equal 1", "Not Contains A"]
    assert one_by_one[VALUES.index(None)] == ["Blank", "Not Equal 1", "Not Contains A"]


def test_now_forms(groups):
    machine = {"Last Seen": "2026-10-20"}
    assert groups.evaluate(machine, "2026-11-25T00:00:00Z") == ["Stale"]
    assert groups.evaluate(machine, datetime.date(2026, 11, 1)) == []
    assert groups.evaluate(machine, datetime.datetime(2026, 11, 25)) == ["Stale"]
    tz = datetime.timezone(datetime.timedelta(hours=-5))
    # 30 days after 2026-10-20 is 2026-11-19T00:00Z: 2026-11-18T20:00-05:00 is one hour
    # past it, the same wall time read as UTC (naive) four hours before it.
    assert groups.evaluate(machine, datetime.datetime(2026, 11, 18, 20, tzinfo=tz)) == ["Stale"]
    assert groups.evaluate(machine, datetime.datetime(2026, 11, 18, 20)) == []
    # None: the system clock, which is after 2000-02-01.
    assert groups.evaluate({"Last Seen": "2000-01-01"}) == ["Stale"]
    with pytest.raises(ValueError, match="is not an RFC 3339 time"):
        groups.evaluate(machine, "tomorrow")
    with pytest.raises(TypeError, match="`now` must be"):
        groups.evaluate(machine, 5)


def test_arrow_table_column_by_column(groups):
    pa = pytest.importorskip("pyarrow")
    table = pa.table({
        "id": ["SRV-1", "WS-2", None],
        "Machine Type": ["Server", "Workstation", "server"],
        "Free Disk %": [4.0, 3.5, 55.0],
        "Last Seen": ["2026-09-01", None, "2026-11-20"],
        "Installed Software": [None, ["Google Chrome 131", "Slack"], []],
        "Unused": [1, 2, 3],
    })
    expected = {
        "Low Disk": ["SRV-1", "WS-2"],
        "Servers": ["SRV-1", "#3"],
        "Low Disk Servers": ["SRV-1"],
        "Stale": ["SRV-1"],
        "Chrome": ["WS-2"],
    }
    assert groups.evaluate_fleet(table, NOW) == expected
    # Several batches, and a record batch reader.
    batches = table.to_batches(max_chunksize=1)
    assert len(batches) == 3
    assert groups.evaluate_fleet(pa.Table.from_batches(batches), NOW) == expected
    reader = pa.RecordBatchReader.from_batches(table.schema, batches)
    assert groups.evaluate_fleet(reader, NOW) == expected
    assert groups.memberships(table, NOW) == groups.memberships(FLEET, NOW)
    bad_ids = pa.table({"id": [[1], [2]]})
    with pytest.raises(ValueError, match="the id column `id` has type"):
        groups.evaluate_fleet(bad_ids, NOW)
    assert groups.memberships(bad_ids, NOW) == [[], []]  # ids are not read for it


def test_explain(groups):
    why = groups.explain({"Machine Type": "Laptop"}, "Servers", NOW)
    assert why.group == "Servers" and not why.matched and not why
    assert str(why).startswith("Servers: not a member\n")
    assert "Laptop" in str(why)
    assert groups.explain(FLEET[0], "Low Disk Servers", NOW).matched
    with pytest.raises(KeyError, match="no group named `Server`; did you mean `Servers`"):
        groups.explain({}, "Server", NOW)


def test_definition_errors_carry_every_diagnostic():
    with pytest.raises(cohort.CohortError) as caught:
        cohort.GroupSet.from_yaml(
            "groups:\n"
            "  - name: G\n"
            "    blocks:\n"
            "      - - {field: OS, operator: contans any of, value: x}\n"
            "  - name: H\n"
            "    where: member of Nowhere\n")
    error = caught.value
    assert len(error.diagnostics) == 2
    first = error.diagnostics[0]
    assert (first.file, first.line, first.column, first.group) == ("<string>", 4, 33, "G")
    assert first.message == "unknown operator `contans any of`"
    assert first.help == "did you mean `contains any of`?"
    assert first.criterion == "block 1, criterion 1 (`OS`)"
    assert str(first).startswith("<string>:4:33: unknown operator `contans any of`\n  in group `G`")
    assert error.diagnostics[1].group == "H"
    assert str(error).startswith(str(first))


def test_named_text_and_schema_name_the_text_in_diagnostics():
    schema = cohort.Schema.from_yaml("fields:\n  - {name: Free Disk %, type: number}\n")
    with pytest.raises(cohort.CohortError) as caught:
        cohort.GroupSet.from_yaml(
            "name: Disk\nwhere: \"'Free Disk %' contains 10\"\n",
            schema=schema,
            name="disk.yaml",
        )
    first = caught.value.diagnostics[0]
    assert first.file == "disk.yaml"
    assert "a number field" in first.message


def test_schema_validation_and_files(tmp_path):
    schema = cohort.Schema.from_yaml("fields:\n  - {name: Free Disk %, type: number}\n")
    assert schema.fields == ["Free Disk %"]
    with pytest.raises(cohort.CohortError) as caught:
        cohort.GroupSet.from_yaml("name: D\nwhere: \"'Free Disk %' contains 10\"\n", schema)
    assert caught.value.diagnostics[0].message == (
        "`contains any of` does not apply to `Free Disk %`, a number field")
    assert len(cohort.GroupSet.from_yaml("name: D\nwhere: \"'Free Disk %' < 10\"\n", schema)) == 1

    (tmp_path / "groups.yaml").write_text(GROUPS)
    (tmp_path / "schema.yml.txt").write_text("fields:\n  - {name: Free Disk %, type: number}\n")
    loaded = cohort.GroupSet.load(tmp_path)
    assert loaded.names == cohort.GroupSet.from_yaml(GROUPS).names
    disk = tmp_path / "disk"
    disk.mkdir()
    (disk / "d.yaml").write_text("name: D\nwhere: \"'Free Disk %' contains 10\"\n")
    with pytest.raises(cohort.CohortError) as caught:
        cohort.GroupSet.load(disk, cohort.Schema.load(tmp_path / "schema.yml.txt"))
    assert caught.value.diagnostics[0].file == str(disk / "d.yaml")
    assert caught.value.diagnostics[0].line == 2
    with pytest.raises(cohort.CohortError, match="missing.yaml"):
        cohort.GroupSet.load(tmp_path / "missing.yaml")

    # The shipped example groups load and evaluate the shipped fleet.
    examples = cohort.GroupSet.load(ROOT / "examples" / "groups")
    assert len(examples) > 0


def test_tracker_events():
    groups = cohort.GroupSet.from_yaml(GROUPS)
    tracker = groups.tracker(datetime.date(2026, 10, 1))
    Event = cohort.Event
    assert tracker.upsert("SRV-1", {"Machine Type": "Server", "Free Disk %": 50,
                                    "Last Seen": "2026-09-15"}) == [
        Event("SRV-1", "Servers", "joined")]
    assert tracker.upsert("SRV-1", {"Machine Type": "Server", "Free Disk %": 5,
                                    "Last Seen": "2026-09-15"}) == [
        Event("SRV-1", "Low Disk", "joined"), Event("SRV-1", "Low Disk Servers", "joined")]
    assert tracker.set_now(NOW) == [Event("SRV-1", "Stale", "joined")]
    assert tracker.members("Low Disk") == ["SRV-1"]
    assert tracker.contains("SRV-1", "Servers")
    assert len(tracker) == 1
    del groups  # the tracker keeps its groups alive
    events = tracker.remove("SRV-1")
    assert [(e.group, e.change) for e in events] == [
        ("Low Disk", "left"), ("Servers", "left"), ("Low Disk Servers", "left"), ("Stale", "left")]
    assert tracker.remove("never-seen") == []
    with pytest.raises(KeyError, match="did you mean `Low Disk`"):
        tracker.members("Low Dsk")
    with pytest.raises(ValueError):
        Event("a", "b", "moved")


def test_diff_plan_before_apply():
    before = cohort.GroupSet.from_yaml("name: Old Agents\nwhere: 'Agent Version < 2024.1.0'")
    after = cohort.GroupSet.from_yaml(
        "groups:\n"
        "  - {name: Old Agents, where: 'Agent Version < 2024.3.0'}\n"
        "  - {name: Any Agent, where: Agent Version is not blank}\n")
    machines = [{"id": "a", "Agent Version": "2023.6.1"}, {"id": "b", "Agent Version": "2024.2.0"},
                {"Agent Version": "2024.3.1"}]
    result = cohort.diff(before, after, machines, NOW)
    assert result == {
        "machines": 3,
        "unchanged": 0,
        "groups": [
            {"name": "Old Agents", "kind": "changed", "before": 1, "after": 2,
             "joins": ["b"], "leaves": []},
            {"name": "Any Agent", "kind": "added", "before": None, "after": 3,
             "joins": ["a", "b", "#3"], "leaves": []},
        ],
    }


def test_lint(tmp_path):
    text = 'name: Low Disk\nblocks:\n  - - "[Free Disk %] is blank"\n    - "[Free Disk %] < 10"\n'
    findings = cohort.lint_yaml(text)
    assert len(findings) == 1
    assert findings[0]["code"] == "L002"
    assert findings[0]["severity"] == "error"
    assert (findings[0]["file"], findings[0]["line"], findings[0]["group"]) == (
        "<string>", 1, "Low Disk")
    assert findings[0]["message"].startswith("group can never have members")
    (tmp_path / "g.yaml").write_text(text)
    from_file = cohort.lint_path(tmp_path / "g.yaml")
    assert [f["code"] for f in from_file] == [f["code"] for f in findings]
    assert cohort.lint_yaml("name: Fine\nwhere: OS = Linux\n") == []
    with pytest.raises(cohort.CohortError):
        cohort.lint_yaml("name: Bad\nwhere: OS bogus Linux\n")


def test_hostile_input(groups):
    # Values that are not attributes, with the machine and field named.
    with pytest.raises(TypeError, match=r"machine 1, field `Free Disk %`: a `bytes` cannot be"):
        groups.evaluate_fleet([{"id": "a"}, {"Free Disk %": b"4"}], NOW)
    with pytest.raises(TypeError, match="machine 0: a `str`, expected a dict"):
        groups.evaluate_fleet(["not a machine"], NOW)
    with pytest.raises(TypeError, match="a dict with a key that is not text"):
        groups.evaluate({"Installed Software": [{1: "x"}]}, NOW)
    with pytest.raises(ValueError, match="is not a number JSON can hold"):
        groups.evaluate({"Free Disk %": float("nan")}, NOW)
    with pytest.raises(ValueError, match="not valid Unicode"):
        groups.evaluate({"Machine Type": "\ud800"}, NOW)
    # A list that holds itself, and deep nesting: the JSON reader's depth limit.
    loop = []
    loop.append(loop)
    with pytest.raises(ValueError, match="nested more than 128 deep"):
        groups.evaluate({"Installed Software": loop}, NOW)
    # The fleet reader's limit on list elements in one machine's tested values.
    with pytest.raises(ValueError, match="more than 100000 list elements"):
        groups.evaluate({"Installed Software": ["x"] * 100_001}, NOW)
    assert groups.evaluate({"Installed Software": ["x"] * 100_000}, NOW) == []
    # Huge ints read as the JSON reader reads them: the nearest float.
    assert groups.evaluate({"Free Disk %": 2**70}, NOW) == []
    assert groups.evaluate({"Free Disk %": -(2**70)}, NOW) == ["Low Disk"]
    # Definitions past the limit of a definitions file, as the CLI refuses the file.
    with pytest.raises(cohort.CohortError) as caught:
        cohort.GroupSet.from_yaml("#" * (16 * 1024 * 1024 + 1))
    assert str(caught.value) == (
        "`<string>` is over the limit of 16777216 bytes for a definitions file")
    assert caught.value.diagnostics[0].file == "<string>"
    with pytest.raises(cohort.CohortError, match="`<schema>` is over the limit"):
        cohort.Schema.from_yaml("#" * (16 * 1024 * 1024 + 1))
    # Unknown attribute kinds in the ignored fields are not read at all.
    assert groups.evaluate({"Other": object(), "Machine Type": "Server"}, NOW) == ["Servers"]


def test_threads_share_a_group_set(groups):
    fleet = FLEET * 2000
    expected = groups.evaluate_fleet(fleet, NOW)
    results = []

    def work():
        results.append(groups.evaluate_fleet(fleet, NOW))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [expected] * 4


def test_the_gil_is_released_while_a_fleet_is_evaluated(groups):
    """Another Python thread runs while Arrow data is read and evaluated: with the GIL
    held, it could not run at all between the call's start and end."""
    pa = pytest.importorskip("pyarrow")
    import time

    rows = 400_000
    table = pa.table({
        "id": pa.array([f"M{i}" for i in range(rows)]),
        "Machine Type": pa.array(["Server", "Laptop", "Workstation", "server"] * (rows // 4)),
        "Free Disk %": pa.array([float(i % 100) for i in range(rows)]),
        "Last Seen": pa.array(["2026-09-01", "2026-11-20"] * (rows // 2)),
    })
    samples = []
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            samples.append(time.perf_counter())
            time.sleep(0.001)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        time.sleep(0.02)
        started = time.perf_counter()
        result = groups.evaluate_fleet(table, NOW)
        ended = time.perf_counter()
    finally:
        stop.set()
        sampler.join()
    assert len(result["Servers"]) == rows // 2
    if ended - started < 0.1:
        pytest.skip(f"the call took only {ended - started:.3f} s: too short to tell")
    margin = 0.02
    during = [t for t in samples if started + margin < t < ended - margin]
    assert during, f"no other thread ran during {ended - started:.3f} s of evaluation"


def test_a_tracker_shared_between_threads(groups):
    tracker = groups.tracker(NOW)
    joined = []

    def feed(thread):
        for i in range(500):
            events = tracker.upsert(f"{thread}-{i}", {"Machine Type": "Server", "Free Disk %": i % 20})
            joined.extend(e for e in events if e.group == "Low Disk")

    threads = [threading.Thread(target=feed, args=(t,)) for t in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(tracker) == 2000
    assert len(tracker.members("Servers")) == 2000
    assert sorted(tracker.members("Low Disk")) == sorted(e.machine for e in joined)
    assert len(joined) == 4 * 250
