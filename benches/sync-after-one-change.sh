#!/usr/bin/env bash
# Sync time at N incidents (default 10,000) after one change, for one or
# more builds side by side: for each build, a team of two (A published N
# demo incidents, B joined) on a bare remote on disk. Each round, for each
# build in turn (so a change in the machine's load hits all alike): B logs
# one entry and syncs, then A's `sync` brings that one commit in (timed:
# "in"), then A logs one entry and its `sync` sends it (timed: "out").
# Prints the median of RUNS rounds of each.
#
#   cargo build --release && cp target/release/breachdesk /tmp/bd-after
#   benches/sync-after-one-change.sh /tmp/bd-before /tmp/bd-after   # N=…, RUNS=… to change
set -euo pipefail
N=${N:-10000}
RUNS=${RUNS:-9}
ROOT=$(mktemp -d)
trap 'rm -rf "$ROOT"' EXIT
export HOME=$ROOT GIT_CONFIG_NOSYSTEM=1
median() { sort -n | awk '{ v[NR] = $1 } END { printf "%.1f", v[int((NR + 1) / 2)] / 1000 }'; }
us() { echo $(( $(date +%s%N) / 1000 )); }
run() { # BUILD_INDEX WHO ARGS...
  local b=$1 who=$2; shift 2
  "${BUILDS[$b]}" --data-dir "$ROOT/$b/$who" --config "$ROOT/$b/$who.toml" "$@"
}
BUILDS=("$@")
declare -A IDS
for i in "${!BUILDS[@]}"; do
  w="$ROOT/$i"; mkdir -p "$w"
  git init --quiet --bare --initial-branch main "$w/team.git"
  printf '[responder]\nname = "Alice Able"\nemail = "alice@provider.example"\n' > "$w/a.toml"
  printf '[responder]\nname = "Bob Baker"\nemail = "bob@provider.example"\n' > "$w/b.toml"
  run "$i" a demo --incidents "$N" --open 200 > /dev/null
  run "$i" a sync init "$w/team.git" > /dev/null
  run "$i" b sync init "$w/team.git" > /dev/null
  IDS[$i]=$(run "$i" a list --format json | python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["id"])')
  run "$i" a sync > /dev/null; run "$i" b sync > /dev/null
  : > "$w/in"; : > "$w/out"
done
for r in $(seq "$RUNS"); do
  for i in "${!BUILDS[@]}"; do
    w="$ROOT/$i"; id=${IDS[$i]}
    run "$i" b log "$id" "B's change $r" > /dev/null
    run "$i" b sync > /dev/null
    t0=$(us); run "$i" a sync > /dev/null; t1=$(us); echo $(( t1 - t0 )) >> "$w/in"
    run "$i" a log "$id" "A's change $r" > /dev/null
    t0=$(us); run "$i" a sync > /dev/null; t1=$(us); echo $(( t1 - t0 )) >> "$w/out"
    run "$i" b sync > /dev/null
  done
done
for i in "${!BUILDS[@]}"; do
  w="$ROOT/$i"
  printf '%s: %s incidents, %s rounds: sync bringing one change in %s ms, sending one out %s ms (median)\n' \
    "${BUILDS[$i]}" "$N" "$RUNS" "$(median < "$w/in")" "$(median < "$w/out")"
done
