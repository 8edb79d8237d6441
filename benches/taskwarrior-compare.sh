#!/usr/bin/env bash
# breachdesk `list` / `list --all` against taskwarrior's `task list` /
# `task all`, each on 10,000 items of which 200 are open (pending), on this
# machine, with hyperfine. Needs: taskwarrior (`task`, 2.6), hyperfine, and
# a release build (`cargo build --release`). Everything lives in a temp
# directory that is removed at the end.
#
#   apt-get install taskwarrior hyperfine
#   cargo build --release
#   bash benches/taskwarrior-compare.sh [RUNS]
set -euo pipefail
runs=${1:-20}
here=$(cd "$(dirname "$0")/.." && pwd)
bd="$here/target/release/breachdesk"
command -v task >/dev/null || { echo "taskwarrior (task) is not installed" >&2; exit 1; }
command -v hyperfine >/dev/null || { echo "hyperfine is not installed" >&2; exit 1; }
[ -x "$bd" ] || { echo "$bd missing: run cargo build --release" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# breachdesk: 10,000 incidents, 200 open; the index settled by one writer.
"$bd" --data-dir "$work/bd" demo --incidents 10000 --open 200 >/dev/null
touch -d '1 hour ago' "$work/bd/incidents"
"$bd" --data-dir "$work/bd" watch --once >/dev/null 2>&1 || true

# taskwarrior: 10,000 tasks, 200 pending and 9,800 completed, imported at once.
export TASKDATA="$work/task" TASKRC="$work/taskrc"
mkdir -p "$TASKDATA"
printf 'data.location=%s\nconfirmation=off\nverbose=nothing\ngc=on\n' "$TASKDATA" >"$TASKRC"
python3 - "$work/tasks.json" <<'EOF'
import json, sys, uuid, random
random.seed(7)
tasks = []
for i in range(10000):
    t = {"uuid": str(uuid.UUID(int=random.getrandbits(128))),
         "description": f"Incident {i}: demo task with a title of typical length",
         "entry": "20260101T000000Z", "project": "breach",
         "priority": random.choice(["H", "M", "L"]), "tags": ["demo"]}
    if i < 200:
        t["status"] = "pending"; t["due"] = "20261201T000000Z"
    else:
        t["status"] = "completed"; t["end"] = "20260201T000000Z"
    tasks.append(t)
json.dump(tasks, open(sys.argv[1], "w"))
EOF
task import "$work/tasks.json" >/dev/null 2>&1
echo "taskwarrior: $(task status:pending count) pending, $(task status:completed count) completed"
echo "breachdesk:  $("$bd" --data-dir "$work/bd" list --format json | grep -c '"id"') open of 10,000"

hyperfine -N --warmup 3 --runs "$runs" \
  -n "breachdesk list" "$bd --data-dir $work/bd list" \
  -n "task list" "task rc:$TASKRC list" \
  -n "breachdesk list --all" "$bd --data-dir $work/bd list --all" \
  -n "task all" "task rc:$TASKRC all" \
  -n "breachdesk list --all --check" "$bd --data-dir $work/bd list --all --check"
