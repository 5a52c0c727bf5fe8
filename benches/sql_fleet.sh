#!/usr/bin/env bash
# The example groups over the 1,000,000-machine example fleet: `cohort eval` in memory (over
# the NDJSON file) against `cohort eval --db` in SQLite and in PostgreSQL, output compared
# byte for byte. Prints wall seconds and peak memory of each step (/usr/bin/time), and the
# `--timings` lines (in memory: reading and evaluating; in the database: the query with its
# rows read out).
#
#   bash benches/sql_fleet.sh                 # 1,000,000 machines, a throwaway server
#   FLEET=/path/fleet.ndjson bash benches/sql_fleet.sh
#
# PostgreSQL: the server COHORT_TEST_POSTGRES names, else one started by .ci/postgres.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
cargo build --release --quiet -p cohort-cli
cohort="$CARGO_TARGET_DIR/release/cohort"
count="${COUNT:-1000000}"
work="$(mktemp -d)"
started_server=""
cleanup() {
    rm -rf "$work"
    if [ -n "$started_server" ]; then .ci/postgres stop "$COHORT_TEST_POSTGRES_DATA" || true; fi
}
trap cleanup EXIT

fleet="${FLEET:-$CARGO_TARGET_DIR/fleet-bench/fleet-$count.ndjson}"
if [ ! -f "$fleet" ]; then
    mkdir -p "$(dirname "$fleet")"
    cargo run --release --quiet --example gen_fleet -- "$count" --ndjson "$fleet"
fi
if [ -z "${COHORT_TEST_POSTGRES:-}" ]; then
    eval "$(.ci/postgres)"
    started_server=1
fi
database="cohort_bench_$$"
psql "$COHORT_TEST_POSTGRES" -qc "CREATE DATABASE $database"
pg="postgres:$COHORT_TEST_POSTGRES dbname=$database"

now=2026-11-25T00:00:00Z
timed() {
    local label="$1"
    shift
    /usr/bin/time -f "$label: %e s wall, %M KiB peak, %U+%S s CPU" "$@"
}

echo "== load ($(wc -l < "$fleet") machines, $(du -h "$fleet" | cut -f1))"
timed "db load, SQLite" "$cohort" db load --machines "$fleet" --db "sqlite:$work/fleet.db"
timed "db load, PostgreSQL" "$cohort" db load --machines "$fleet" --db "$pg"
psql "$COHORT_TEST_POSTGRES dbname=$database" -qc "VACUUM ANALYZE machines"
echo "SQLite file: $(du -h "$work/fleet.db" | cut -f1); PostgreSQL table: $(psql "$COHORT_TEST_POSTGRES dbname=$database" -Atc "SELECT pg_size_pretty(pg_total_relation_size('machines'))")"

for run in 1 2; do
    echo "== eval, run $run (examples/groups, --format json)"
    timed "in memory (file)" "$cohort" eval --groups examples/groups --machines "$fleet" --now "$now" \
        --format json --timings > "$work/memory.json"
    timed "SQLite" "$cohort" eval --groups examples/groups --db "sqlite:$work/fleet.db" --now "$now" \
        --format json --timings > "$work/sqlite.json"
    timed "PostgreSQL" "$cohort" eval --groups examples/groups --db "$pg" --now "$now" \
        --format json --timings > "$work/postgres.json"
    cmp "$work/memory.json" "$work/sqlite.json" && echo "SQLite output = in-memory output"
    cmp "$work/memory.json" "$work/postgres.json" && echo "PostgreSQL output = in-memory output"
done
psql "$COHORT_TEST_POSTGRES" -qc "DROP DATABASE $database"
