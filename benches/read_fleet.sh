#!/usr/bin/env bash
# Reading a 1M-machine fleet in every format with `cohort eval`, on this machine, one run:
# wall time, MB/s of file, and peak memory (VmHWM, printed by `--timings`); then DuckDB on
# the same NDJSON file computing 5 of the example groups with SQL of the same meaning, and
# cohort on the same 5 groups, when DuckDB's Python module is installed (`pip install
# duckdb`); skipped with a message when it is not. Member counts are compared.
#
#   bash benches/read_fleet.sh [MACHINES] [WORK_DIR]     # defaults: 1000000, target/fleet-bench
set -euo pipefail
cd "$(dirname "$0")/.."
count="${1:-1000000}"
work="${2:-target/fleet-bench}"
now="2026-11-25T12:00:00Z"
mkdir -p "$work"
cargo build --release --quiet --example gen_fleet
cargo build --release --quiet -p cohort-cli
cohort=target/release/cohort
for format in ndjson csv json; do
    file="$work/fleet-$count.$format"
    [ -s "$file" ] || target/release/examples/gen_fleet "$count" "--$format" "$file" > /dev/null
done
[ -s "$work/fleet-$count.ndjson.zst" ] || zstd -q -3 -f "$work/fleet-$count.ndjson" -o "$work/fleet-$count.ndjson.zst" 2> /dev/null || true
[ -s "$work/fleet-$count.ndjson.gz" ] || gzip -1 -k -f "$work/fleet-$count.ndjson"

seconds() { date +%s.%N; }
printf '%-24s %10s %9s %9s %12s\n' file MB seconds MB/s "peak MiB"
for file in "$work/fleet-$count".{ndjson,json,csv,ndjson.gz,ndjson.zst}; do
    [ -s "$file" ] || continue
    mb=$(python3 -c "import os,sys; print(round(os.path.getsize(sys.argv[1]) / 1e6))" "$file")
    start=$(seconds)
    timings=$("$cohort" eval --groups examples/groups --machines "$file" --now "$now" --format json --timings 2>&1 > /dev/null)
    end=$(seconds)
    peak=$(sed -n 's/.*peak memory \([0-9]*\) MiB.*/\1/p' <<< "$timings")
    python3 -c "import sys; f,mb,s,e,p=sys.argv[1:]; w=float(e)-float(s); print(f'{f:<24} {mb:>10} {w:>9.2f} {int(mb)/w:>9.0f} {p:>12}')" \
        "$(basename "$file")" "$mb" "$start" "$end" "$peak"
done

ndjson="$work/fleet-$count.ndjson"
if ! python3 -c "import duckdb" 2> /dev/null; then
    echo "DuckDB comparison skipped: its Python module is not installed (pip install duckdb)"
    exit 0
fi
python3 benches/duckdb/five_groups.py "$cohort" "$ndjson" "$now"
