#!/usr/bin/env bash
# Sync time at 10,000 incidents after one change: the `sync` that takes one
# teammate's change in, this branch's binary (A) against another build (B,
# e.g. main's), timed in turn by farm-bench. Alice has 10,000 demo incidents
# published to a bare remote; Bob joined; Alice logs one entry and syncs.
# Each timed run first puts Bob (and the remote) back to before he took it
# in (`git reset --hard`, two `update-ref`s: the same for both binaries),
# so every run fetches, checks and takes in the same commit and pushes its
# own. The reset alone is timed too, to be subtracted.
#
#   cargo build --release
#   CARGO_TARGET_DIR=target-main cargo build --release   # in a checkout of main
#   bash benches/sync-10k.sh [NEW_BINARY] [OLD_BINARY] [RUNS]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
new=${1:-$here/target/release/breachdesk}
old=${2:-$here/target-main/release/breachdesk}
runs=${3:-10}
for b in "$new" "$old"; do [ -x "$b" ] || { echo "$b missing (release build)" >&2; exit 1; }; done
new=$(realpath "$new") old=$(realpath "$old")
command -v farm-bench >/dev/null || { echo "farm-bench is not installed" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export HOME="$work/home" GIT_CONFIG_NOSYSTEM=1
mkdir -p "$HOME"
unset GIT_AUTHOR_NAME GIT_AUTHOR_EMAIL GIT_COMMITTER_NAME GIT_COMMITTER_EMAIL
printf '[responder]\nname = "Alice Able"\nemail = "alice@provider.example"\n' >"$work/alice.toml"
printf '[responder]\nname = "Bob Baker"\nemail = "bob@provider.example"\n' >"$work/bob.toml"
alice() { "$new" --data-dir "$work/alice" --config "$work/alice.toml" "$@"; }
bob() { "$new" --data-dir "$work/bob" --config "$work/bob.toml" "$@"; }

git init --quiet --bare --initial-branch main "$work/team.git"
alice demo --incidents 10000 >/dev/null
alice sync init "$work/team.git" >/dev/null
bob sync init "$work/team.git" >/dev/null
id=$(find "$work/alice/incidents" -name '*.toml' -print -quit)
id=$(basename "$id" .toml)
alice log "$id" "One change to take in" >/dev/null
alice sync >/dev/null
before=$(git -C "$work/bob" rev-parse HEAD)
change=$(git -C "$work/team.git" rev-parse refs/heads/main)

cat >"$work/reset.sh" <<EOF
#!/bin/sh
set -e
git -C "$work/bob" reset --quiet --hard $before
git -C "$work/bob" update-ref refs/remotes/origin/main $before
git -C "$work/team.git" update-ref refs/heads/main $change
EOF
cat >"$work/run.sh" <<EOF
#!/bin/sh
set -e
sh "$work/reset.sh"
out=\$("\$1" --data-dir "$work/bob" --config "$work/bob.toml" sync)
case "\$out" in *"in 1 commit"*) ;; *) echo "did not take the change in: \$out" >&2; exit 1;; esac
EOF
echo "one change: $change on $id; Bob at $before"
sh "$work/run.sh" "$new"
sh "$work/run.sh" "$old"
echo "== sync (reset included): A = $new, B = $old"
farm-bench -n "$runs" --warmup 1 --timeout 900 --vs "sh $work/run.sh $old" -- sh "$work/run.sh" "$new"
echo "== the reset alone"
farm-bench -n "$runs" --warmup 1 --timeout 300 -- sh "$work/reset.sh"
