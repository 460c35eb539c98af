#!/usr/bin/env bash
# bench/postmap.sh: our postmap against the real Postfix postmap, on the
# same machine in the same run, and the ratios.
#
#   bench/postmap.sh [ENTRIES] [LOOKUPS] [RUNS]     (default 1000000 100000 3)
#
# 1. build: `postmap hash:FILE` on ENTRIES lines `userN@domainM.example OK`;
# 2. lookups: `postmap -q - hash:FILE` with LOOKUPS keys on stdin (nine in
#    ten present), one process, output to /dev/null.
# Each figure is the best of RUNS wall-clock runs; the machine is shared
# and noisy, so only the ratios of one run mean anything. Needs Debian's
# postfix package (scripts/test installs it) and a release build of ours,
# which this script makes.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

entries=${1:-1000000}
lookups=${2:-100000}
runs=${3:-3}

real=$(command -v postmap || echo /usr/sbin/postmap)
[[ -x $real ]] || { echo "bench: the real postmap is missing (scripts/test --peers-only)" >&2; exit 1; }
cargo build --release -q -p postmap --bin postmap
ours=$PWD/target/release/postmap

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/etc"
: > "$work/etc/main.cf"
export MAIL_CONFIG=$work/etc

awk -v n="$entries" 'BEGIN { for (i = 0; i < n; i++) printf "user%d@domain%d.example OK\n", i, i % 1000 }' > "$work/source"
awk -v n="$lookups" -v max="$entries" 'BEGIN {
    srand(1)
    for (i = 0; i < n; i++) {
        k = int(rand() * max)
        if (i % 10 == 9) printf "nouser%d@domain%d.example\n", k, k % 1000
        else printf "user%d@domain%d.example\n", k, k % 1000
    }
}' > "$work/keys"

# best_of CMD...: the fastest of $runs wall-clock runs, in seconds.
best_of() {
    local best="" t0 t1 t
    for ((r = 0; r < runs; r++)); do
        t0=$(date +%s.%N)
        "$@" > /dev/null
        t1=$(date +%s.%N)
        t=$(echo "$t1 - $t0" | bc -l)
        if [[ -z $best ]] || (($(echo "$t < $best" | bc -l))); then best=$t; fi
    done
    printf '%.3f' "$best"
}

build() { # build PROGRAM DIR
    mkdir -p "$2" && cp "$work/source" "$2/map"
    "$1" "hash:$2/map"
}
lookup() { # lookup PROGRAM DIR
    "$1" -q - "hash:$2/map" < "$work/keys"
}

real_build=$(best_of build "$real" "$work/real")
ours_build=$(best_of build "$ours" "$work/ours")
real_lookup=$(best_of lookup "$real" "$work/real")
ours_lookup=$(best_of lookup "$ours" "$work/ours")

# The two must agree before their speed means anything.
lookup "$real" "$work/real" | sort > "$work/real.out"
lookup "$ours" "$work/ours" | sort > "$work/ours.out"
cmp -s "$work/real.out" "$work/ours.out" || { echo "bench: lookup results differ" >&2; exit 1; }

ratio() { printf '%.1f' "$(echo "$1 / $2" | bc -l)"; }
printf '%-34s %10s %10s %8s\n' "postmap, best of $runs" "Postfix" "ours" "ratio"
printf '%-34s %9ss %9ss %7sx\n' "build $entries entries (hash)" "$real_build" "$ours_build" "$(ratio "$real_build" "$ours_build")"
printf '%-34s %9ss %9ss %7sx\n' "$lookups lookups, -q - (hash)" "$real_lookup" "$ours_lookup" "$(ratio "$real_lookup" "$ours_lookup")"
