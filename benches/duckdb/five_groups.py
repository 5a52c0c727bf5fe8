"""cohort against DuckDB on one NDJSON fleet: the members of five groups, in one run.

    python3 benches/duckdb/five_groups.py COHORT_BINARY FLEET.ndjson NOW

DuckDB reads the file with read_json_auto and computes each group's members with SQL of
the same meaning as benches/duckdb/five-groups.yaml (text tests case-insensitive, as
cohort's are); cohort runs `eval` on the same file and groups. Prints both times, their
ratio, and each group's member count from both (they must agree).
"""

import json
import subprocess
import sys
import time

import duckdb

GROUPS = {
    "BitLocker Key Missing": """contains(lower("BitLocker Key Backup Status"), 'not available')""",
    "Chrome Installed": """len(list_filter("Installed Software", lambda x: contains(lower(x), 'google chrome'))) > 0""",
    "Windows 10 Machines": """contains(lower("OS"), 'windows 10') AND NOT contains(lower("OS"), 'server')""",
    "Low Free Disk Space": """"Free Disk %" < 10 OR "Free Disk GB" <= 5""",
    "Servers Pending Reboot": """lower("Machine Type") = 'server' AND "Pending Reboot" = true""",
}


def duckdb_counts(path):
    connection = duckdb.connect()
    connection.execute(
        f"CREATE TEMP VIEW fleet AS SELECT * FROM read_json_auto('{path}', format='newline_delimited')"
    )
    members = ", ".join(
        f"list(id) FILTER (WHERE coalesce({condition}, false)) AS \"{name}\""
        for name, condition in GROUPS.items()
    )
    row = connection.execute(f"SELECT {members} FROM fleet").fetchone()
    return {name: len(ids or []) for name, ids in zip(GROUPS, row)}


def cohort_counts(binary, path, now):
    output = subprocess.run(
        [binary, "eval", "--groups", "benches/duckdb/five-groups.yaml", "--machines", path,
         "--now", now, "--format", "json"],
        check=True, capture_output=True,
    ).stdout
    return {group["name"]: group["count"] for group in json.loads(output)["groups"]}


def timed(run):
    start = time.perf_counter()
    result = run()
    return time.perf_counter() - start, result


def main():
    binary, path, now = sys.argv[1:4]
    duck_seconds, duck = timed(lambda: duckdb_counts(path))
    cohort_seconds, ours = timed(lambda: cohort_counts(binary, path, now))
    print(f"DuckDB {duckdb.__version__}: {duck_seconds:.2f} s; cohort: {cohort_seconds:.2f} s "
          f"({cohort_seconds / duck_seconds:.2f}x DuckDB's time), 5 groups over {path}")
    agree = True
    for name in GROUPS:
        mark = "" if duck[name] == ours[name] else "   <- differ"
        agree &= duck[name] == ours[name]
        print(f"  {name:<24} cohort {ours[name]:>8}  duckdb {duck[name]:>8}{mark}")
    sys.exit(0 if agree else 1)


if __name__ == "__main__":
    main()
