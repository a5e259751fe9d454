#!/usr/bin/env bash
# Run every fuzz harness for SECONDS in total (split evenly), from the seed corpus.
#   fuzz/run_all.sh 600           # ten minutes
#   fuzz/run_all.sh 60 lockfiles  # one harness
# Prints the executions per harness and in total; exits 1 if any harness found a crash
# or a hang (the reproducer is written to fuzz/artifacts/).
set -uo pipefail
cd "$(dirname "$0")/.."
SECONDS_TOTAL=${1:-120}
shift || true
HARNESSES=("$@")
if [ ${#HARNESSES[@]} -eq 0 ]; then
    HARNESSES=(lockfiles environment config osv pickle models archive targets)
fi
PY=${PYTHON:-.venv/bin/python}
PER=$(( SECONDS_TOTAL / ${#HARNESSES[@]} ))
[ "$PER" -lt 1 ] && PER=1
WORK=${FUZZ_WORK:-$(mktemp -d)}
mkdir -p fuzz/artifacts "$WORK/corpus"
PYTHONPATH=fuzz "$PY" fuzz/seeds.py "$WORK/corpus" || exit 2
total=0
failed=0
for h in "${HARNESSES[@]}"; do
    log="$WORK/$h.log"
    PYTHONPATH=fuzz "$PY" "fuzz/fuzz_$h.py" -max_total_time="$PER" -timeout=30 \
        -rss_limit_mb=4096 -print_final_stats=1 -artifact_prefix="fuzz/artifacts/$h-" \
        "$WORK/corpus/$h" >"$log" 2>&1
    code=$?
    runs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
    runs=${runs:-0}
    total=$(( total + runs ))
    if [ "$code" -ne 0 ]; then
        failed=1
        echo "fuzz $h: FAILED (exit $code) after $runs cases; see $log and fuzz/artifacts/"
        grep -E 'Error|Exception|Uncaught|timeout|deadly' "$log" | head -5
    else
        echo "fuzz $h: $runs cases in ${PER}s, no crash"
    fi
done
echo "fuzz total: $total cases"
exit $failed
