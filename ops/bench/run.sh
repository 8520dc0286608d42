#!/usr/bin/env bash
# Benchmarks on SQLite then PostgreSQL: generate a province-size data set (江苏, one
# year, ~1,000,000 events), measure the log read rate and every projection's
# catch-up, then GraphQL latency. Prints all figures; logs go to ops/bench/var/logs/.
#
#   ops/bench/run.sh                       # 1,000,000 events per backend (about an hour or more on 2 cores)
#   ops/bench/run.sh --small               # ~20,000 events: a quick check of the scripts
#   ops/bench/run.sh --events 200000       # extra arguments go to generate.py
#   BACKENDS=postgres ops/bench/run.sh     # one backend only
#   GRAPHQL_ARGS="-n 400 --concurrency 4" ops/bench/run.sh
#   BENCH_DATA=/srv/bench ops/bench/run.sh # data sets under /srv/bench/<backend> instead of ops/bench/var/<backend>
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

for backend in $BACKENDS; do
  if [ "$backend" = postgres ]; then
    ops/ensure-postgres
  fi
  echo "=== $backend · $(nproc) cores · load $(cut -d' ' -f1-3 /proc/loadavg) · $(date -Is)"
  where=(--backend "$backend" --data-dir "$DATA/$backend")
  "$PY" ops/bench/generate.py "${where[@]}" --reset "$@" 2>&1 | tee "$LOGS/$stamp-$backend-generate.log"
  # shellcheck disable=SC2086
  "$PY" ops/bench/projections.py "${where[@]}" ${PROJECTIONS_ARGS:-} 2>&1 | tee "$LOGS/$stamp-$backend-projections.log"
  # shellcheck disable=SC2086
  "$PY" ops/bench/graphql.py "${where[@]}" ${GRAPHQL_ARGS:-} 2>&1 | tee "$LOGS/$stamp-$backend-graphql.log"
  if [ "$backend" = postgres ]; then
    # again after VACUUM (ANALYZE): the rebuild leaves dead rows, and a server may run without autovacuum
    # shellcheck disable=SC2086
    "$PY" ops/bench/graphql.py "${where[@]}" --vacuum ${GRAPHQL_ARGS:-} 2>&1 | tee "$LOGS/$stamp-$backend-graphql-vacuumed.log"
  fi
done
# shellcheck disable=SC2086
"$PY" ops/bench/summary.py --data "$DATA" $BACKENDS
