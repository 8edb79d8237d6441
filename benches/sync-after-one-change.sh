#!/usr/bin/env bash
# Sync time at N incidents (default 10,000) after one change, for one or
# more builds side by side: a team of two (A published N demo incidents, B
# joined) on a bare remote on disk; each run B logs one entry and syncs, then
# A's `sync` brings that one commit in (timed: "in"), then A logs one entry
# and its `sync` sends it (timed: "out"). Prints the median of RUNS of each.
#
#   cargo build --release && cp target/release/breachdesk /tmp/bd-after
#   benches/sync-after-one-change.sh /tmp/bd-before /tmp/bd-after [N] [RUNS]
set -euo pipefail
N=${N:-10000}
RUNS=${RUNS:-7}
median() { sort -n | awk '{ v[NR] = $1 } END { printf "%.3f", v[int((NR + 1) / 2)] }'; }
ms() { date +%s%N; }
for B in "$@"; do
  W=$(mktemp -d)
  export HOME=$W GIT_CONFIG_NOSYSTEM=1
  git init --quiet --bare --initial-branch main "$W/team.git"
  printf '[responder]\nname = "Alice Able"\nemail = "alice@provider.example"\n' > "$W/a.toml"
  printf '[responder]\nname = "Bob Baker"\nemail = "bob@provider.example"\n' > "$W/b.toml"
  a() { "$B" --data-dir "$W/a" --config "$W/a.toml" "$@"; }
  b() { "$B" --data-dir "$W/b" --config "$W/b.toml" "$@"; }
  a demo --incidents "$N" --open 200 > /dev/null
  a sync init "$W/team.git" > /dev/null
  b sync init "$W/team.git" > /dev/null
  ID=$(a list --format json | python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["id"])')
  a sync > /dev/null; b sync > /dev/null
  ins=(); outs=()
  for i in $(seq "$RUNS"); do
    b log "$ID" "B's change $i" > /dev/null
    b sync > /dev/null
    t0=$(ms); a sync > /dev/null; t1=$(ms)
    ins+=("$(( (t1 - t0) / 1000 ))")
    a log "$ID" "A's change $i" > /dev/null
    t0=$(ms); a sync > /dev/null; t1=$(ms)
    outs+=("$(( (t1 - t0) / 1000 ))")
    b sync > /dev/null
  done
  in=$(printf '%s\n' "${ins[@]}" | median)
  out=$(printf '%s\n' "${outs[@]}" | median)
  printf '%s: %s incidents, %s runs: sync bringing one change in %s ms, sending one out %s ms (median)\n' \
    "$B" "$N" "$RUNS" "$(awk -v u="$in" 'BEGIN { printf "%.1f", u / 1000 }')" \
    "$(awk -v u="$out" 'BEGIN { printf "%.1f", u / 1000 }')"
  rm -rf "$W"
done
