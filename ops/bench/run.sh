#!/usr/bin/env bash
# Every benchmark in one command, on SQLite then PostgreSQL, ending in one table:
# measure | value | raw baseline in the same run | ratio | target.
#
#   ops/bench/run.sh                       # 1,000,000 events per backend (hours on 2 cores)
#   ops/bench/run.sh --events 20000        # a quick look (a few minutes per backend)
#   BACKENDS=postgres ops/bench/run.sh     # one backend only
#   GRAPHQL_ARGS="-n 400 --concurrency 4" FILING_ARGS="-n 400" ops/bench/run.sh
#   BENCH_DATA=/srv/bench ops/bench/run.sh # data sets under /srv/bench/<backend> instead of ops/bench/var/<backend>
#
# Per backend: generate.py (a province-size year through the domain; the library's batched save
# rate), projections.py (the library's read + decode rate, each projection's rebuild, all rebuilt
# twice more with the store's size after each), graphql.py (statistics p95 per level and period),
# filing.py (续报 over HTTP against the library's raw save, 1 and 4 in flight), known_at.py
# (as-known-at of one long process against its raw read + decode: 10,000 events, 2,000 when
# --events is below 200,000), and once roster_export.py (100,000 households, before/after).
# Logs go to <data>/logs/.
#
# Not a test and not run by CI. It replaces the data set under ops/bench/var/<backend>
# (and, on PostgreSQL, the schema "bench" of the database relief_bench).
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=.venv/bin/python
[ -x "$PY" ] || python3 -m venv .venv
if ! "$PY" -c "import httpx, ledger.runtime, api.app" 2>/dev/null; then
  "$PY" -m pip install --quiet --disable-pip-version-check -e '.[test]'
fi
BACKENDS="${BACKENDS:-sqlite postgres}"
DATA="${BENCH_DATA:-ops/bench/var}"
LOGS="$DATA/logs"
mkdir -p "$LOGS"
stamp="$(date +%Y%m%d-%H%M%S)"

EVENTS=1000000
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[i]}" in
    --events) EVENTS="${args[i + 1]}" ;;
    --events=*) EVENTS="${args[i]#--events=}" ;;
    --small) EVENTS=20000 ;;
  esac
done
KNOWN_AT_EVENTS="${KNOWN_AT_EVENTS:-$([ "$EVENTS" -lt 200000 ] && echo 2000 || echo 10000)}"
echo "relief-ledger bench · commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet 2>/dev/null || echo '+changes') · $(nproc) cores · load $(cut -d' ' -f1-3 /proc/loadavg) · $(date -Is)"

first=1
for backend in $BACKENDS; do
  if [ "$backend" = postgres ]; then
    ops/ensure-postgres
  fi
  echo "=== $backend · $(nproc) cores · load $(cut -d' ' -f1-3 /proc/loadavg) · $(date -Is)"
  where=(--backend "$backend" --data-dir "$DATA/$backend")
  "$PY" ops/bench/generate.py "${where[@]}" --reset --events "$EVENTS" 2>&1 | tee "$LOGS/$stamp-$backend-generate.log"
  # shellcheck disable=SC2086
  "$PY" ops/bench/projections.py "${where[@]}" --rounds 3 ${PROJECTIONS_ARGS:-} 2>&1 | tee "$LOGS/$stamp-$backend-projections.log"
  # shellcheck disable=SC2086
  "$PY" ops/bench/graphql.py "${where[@]}" ${GRAPHQL_ARGS:-} 2>&1 | tee "$LOGS/$stamp-$backend-graphql.log"
  # shellcheck disable=SC2086
  "$PY" ops/bench/filing.py "${where[@]}" ${FILING_ARGS:-} 2>&1 | tee "$LOGS/$stamp-$backend-filing.log"
  "$PY" ops/bench/known_at.py "${where[@]}" --events "$KNOWN_AT_EVENTS" 2>&1 | tee "$LOGS/$stamp-$backend-known-at.log"
  if [ "$first" = 1 ]; then  # the export does not depend on the backend: measured once, shown with the first
    # shellcheck disable=SC2086
    "$PY" ops/bench/roster_export.py "${where[@]}" --record ${ROSTER_ARGS:-} 2>&1 | tee "$LOGS/$stamp-roster-export.log"
    first=0
  fi
done
# shellcheck disable=SC2086
"$PY" ops/bench/summary.py --data "$DATA" $BACKENDS 2>&1 | tee "$LOGS/$stamp-summary.log"
