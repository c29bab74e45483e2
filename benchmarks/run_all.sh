#!/usr/bin/env bash
# Regenerate the three benchmark tables in benchmarks/results/ (SET.csv,
# SET.meta.json and solutions/SET/), every cost re-checked by the independent
# evaluator, with the time limits the documentation quotes:
#
#   pvrpif           60 s per instance and engine   (40 instances x 2 engines: ~80 min)
#   cvrp_x, solomon  30 s per instance and engine,  plus plain PyVRP and VROOM
#                    as references at the same limit (5 x 4 runs each: ~10 min each)
#   pvrpif subset    both engines side by side at ENGINES_TIME (30 s) on the 12
#                    horizon-4 instances matching ENGINES_SUBSET, into RESULTS/engines
#                    (~12 min), when the main pvrpif run has one engine only
#
# Then `python benchmarks/make_report.py` renders docs/benchmarks.md from RESULTS (run
# here at the end). Measure on an idle machine: the OR-Tools engine's budget is work
# (solutions), so on a busy one it takes longer, with the same routes.
#
# bench_work.py then measures the work clock's rates on this machine (results/work.md).
# SCALE=1 also runs benchmarks/bench_scale.py (the scaling curve) before the report.
# Overrides: PVRPIF_TIME, VRP_TIME, ENGINE (pyvrp, ortools or all), SEED,
# DATA_ROOT (the folder holding pvrpif/, cvrp_x/ and solomon/; by default the
# runner looks in ../shared/benchmarks) and RESULTS (default: the repository's
# benchmarks/results). Run from anywhere.
set -euo pipefail

cd "$(dirname "$0")/.."

PVRPIF_TIME="${PVRPIF_TIME:-60}"
VRP_TIME="${VRP_TIME:-30}"
ENGINE="${ENGINE:-all}"
SEED="${SEED:-0}"
RESULTS="${RESULTS:-benchmarks/results}"
ENGINES_TIME="${ENGINES_TIME:-30}"
ENGINES_SUBSET="${ENGINES_SUBSET:-*_0[23]0_4_[0-5]}"

if command -v planner >/dev/null 2>&1; then
    bench() { planner bench "$@"; }
else
    bench() { python -c 'from planner.cli import main; main()' bench "$@"; }
fi

run() {
    local set_name="$1" limit="$2"
    local data=()
    if [[ -n "${DATA_ROOT:-}" ]]; then
        data=(--data "$DATA_ROOT/$set_name")
    fi
    echo "== $set_name: $limit s per instance, engine $ENGINE, seed $SEED"
    bench "$set_name" "${data[@]}" --time-limit "$limit" --engine "$ENGINE" --seed "$SEED" \
        --results "$RESULTS" "${@:3}"
}

run pvrpif "$PVRPIF_TIME"
run cvrp_x "$VRP_TIME"
run solomon "$VRP_TIME"
if [[ "$ENGINE" != "all" ]]; then
    ENGINE=all RESULTS="$RESULTS/engines" run pvrpif "$ENGINES_TIME" --instances "$ENGINES_SUBSET"
fi
if [[ -n "${SCALE:-}" ]]; then
    # The scaling curve (long: about an hour of CPU): cut vs whole where both run,
    # then the larger sizes cut, into $RESULTS/scale.json.
    python benchmarks/bench_scale.py --sizes 200 400 800 --modes whole depots \
        --time-limit 30 --json "$RESULTS/scale.json"
    python benchmarks/bench_scale.py --sizes 1600 1800 3200 --json "$RESULTS/scale.json"
fi
# The work clock's rates against this machine (a few minutes), into $RESULTS/work.md.
python benchmarks/bench_work.py --json "$RESULTS/work.json" --md "$RESULTS/work.md"
python benchmarks/make_report.py --results "$RESULTS"
