#!/usr/bin/env bash
# bench/smtpd.sh: our smtpd against the real Postfix smtpd, on the same
# machine in the same run, and the ratios.
#
#   bench/smtpd.sh [MESSAGES] [IDLE] [RUNS]     (default 2000 1000 3)
#
# While iterating: SIZES="4096" SESSIONS="10 50" narrow the table, IDLE 0
# skips part 2, CARGO_TARGET_DIR is honoured, and SMTPD=path runs that
# binary instead of building one (to compare two builds).
#
# 1. accept rate: smtp-source (Debian's postfix package) sends MESSAGES
#    messages of 4 KB and of 100 KB (a fifth as many), over 1, 10 and 50
#    parallel sessions, one message per connection, to each server. Both
#    write every message durably: Postfix's cleanup fsyncs its queue file,
#    ours fsyncs the file and the incoming/ directory before the 250. The
#    Postfix instance (scripts/real-postfix) holds every message, so neither
#    side delivers anything. Figures are messages per second, wall clock,
#    the best of RUNS (the two servers take turns), and CPU time per
#    message in that run: the whole machine's, and the server's (the
#    machine's less smtp-source's own user and system time, which holds
#    the kernel's TCP work on its side). Client and server share the
#    cores, so the client's share caps the ratio of the rates; the ratio
#    of server CPU per message is the servers' own cost.
# 2. idle sessions: IDLE connections that have read the banner and then
#    wait. Ours: growth of the one smtpd process's resident memory, per
#    session. Postfix: one smtpd process per session; the figure is the
#    private memory (Private_Clean + Private_Dirty of smaps_rollup) of one
#    such process, the least another session costs.
# The machine is shared and noisy, so only the ratios of one run mean
# anything. On ext4 without a journal (this kind of VM), creating a file
# is slow for one to five minutes after many files were deleted nearby:
# the inode allocator reads past every inode deleted in that time. Both
# servers pay it per message, and it can take half of our server's CPU,
# so let five minutes pass after a test run or a run of this script
# (which deletes its files when it ends). Needs root (Postfix's master)
# and a release build of ours, which this script makes.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

messages=${1:-2000}
idle=${2:-1000}
runs=${3:-3}
real_port=${REAL_PORT:-24025}
our_port=${OUR_PORT:-24026}

command -v smtp-source >/dev/null || { echo "bench: smtp-source is missing (scripts/test installs postfix)" >&2; exit 1; }
if [[ -z ${SMTPD:-} ]]; then
    cargo build --release -q -p smtpd --bin smtpd
fi
smtpd_bin=${SMTPD:-${CARGO_TARGET_DIR:-target}/release/smtpd}

work=$(mktemp -d /tmp/bench-smtpd.XXXXXX)
chmod 755 "$work" # the Postfix instance runs as user postfix
cleanup() {
    scripts/real-postfix stop "$work/real" || true
    [[ -n ${our_pid:-} ]] && kill "$our_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
ulimit -n "$(ulimit -Hn)"

scripts/real-postfix start "$work/real" "$real_port" 'smtpd_client_connection_count_limit = 0' 'default_process_limit = 1100'

mkdir -p "$work/ours/etc" "$work/ours/spool"
# The queue directories, as `postfix start` will make them (issue 5).
for q in incoming active deferred hold corrupt defer bounce trace; do
    mkdir -m 700 "$work/ours/spool/$q"
done
cat > "$work/ours/etc/main.cf" <<MAIN
queue_directory = $work/ours/spool
myhostname = ours.example
mydestination =
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_client_connection_count_limit = 0
MAIN
scripts/with-listener "127.0.0.1:$our_port" "$smtpd_bin" -c "$work/ours/etc" 2> "$work/ours/log" &
our_pid=$!
for _ in $(seq 100); do grep -q ': ready' "$work/ours/log" && break; sleep 0.1; done
grep -q ': ready' "$work/ours/log" || { cat "$work/ours/log" >&2; exit 1; }

busy_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }
seconds() { # "1m2.5s" (bash's times) -> 62.5
    awk -v t="$1" 'BEGIN { split(t, p, "m"); sub("s", "", p[2]); print p[1] * 60 + p[2] }'
}
rate() { # port sessions count size -> "msgs/s machine-cpu-ms-per-msg server-cpu-ms-per-msg"
    local start end busy client user sys
    busy=$(busy_ticks)
    start=$(date +%s.%N)
    # times: the CPU time of this subshell's children, i.e. smtp-source's.
    client=$(smtp-source -s "$2" -m "$3" -l "$4" -f bench@example.com -t rcpt@example.net "127.0.0.1:$1" >&2; times)
    end=$(date +%s.%N)
    read -r user sys <<< "${client##*$'\n'}"
    awk -v n="$3" -v a="$start" -v b="$end" -v t0="$busy" -v t1="$(busy_ticks)" -v hz="$(getconf CLK_TCK)" \
        -v c="$(seconds "$user")" -v s="$(seconds "$sys")" \
        'BEGIN { m = (t1 - t0) / hz; printf "%f %f %f\n", n / (b - a), m * 1000 / n, (m - c - s) * 1000 / n }'
}
max_of() { # "rate cpu" lines -> the line with the best rate
    sort -n -r | head -1
}

printf '%-8s %-9s %10s %8s %6s   %-21s %s\n' size sessions postfix/s ours/s ratio \
    'machine ms/msg P ours' 'server ms/msg P ours ratio'
for size in ${SIZES:-4096 102400}; do
    count=$messages
    [[ $size -gt 4096 ]] && count=$((messages / 5))
    for sessions in ${SESSIONS:-1 10 50}; do
        theirs=() ours=()
        for _ in $(seq "$runs"); do # the two servers take turns
            theirs+=("$(rate "$real_port" "$sessions" "$count" "$size")")
            ours+=("$(rate "$our_port" "$sessions" "$count" "$size")")
        done
        read -r p pc ps < <(printf '%s\n' "${theirs[@]}" | max_of)
        read -r o oc os < <(printf '%s\n' "${ours[@]}" | max_of)
        printf '%-8s %-9s %10.0f %8.0f %5.1fx   %10.2f %6.2f   %13.2f %6.2f %4.1fx\n' "$size" "$sessions" "$p" "$o" \
            "$(awk -v o="$o" -v p="$p" 'BEGIN { print o / p }')" "$pc" "$oc" "$ps" "$os" \
            "$(awk -v o="$os" -v p="$ps" 'BEGIN { print p / o }')"
    done
done

[[ $idle -gt 0 ]] || exit 0

rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }
private_kb() { awk '/^Private_(Clean|Dirty)/ { s += $2 } END { print s }' "/proc/$1/smaps_rollup"; }
hold_idle() { # port count: open count sessions, read each banner, then wait
    python3 - "$1" "$2" "$work/idle.ready" <<'PY' &
import socket, sys, time
port, n, ready = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
conns = []
for _ in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    s.recv(512)
    conns.append(s)
open(ready, "w").close()
time.sleep(600)
PY
    idle_pid=$!
    for _ in $(seq 600); do [[ -e $work/idle.ready ]] && break; sleep 0.1; done
    rm -f "$work/idle.ready"
    sleep 0.5
}

before=$(rss_kb "$our_pid")
hold_idle "$our_port" "$idle"
after=$(rss_kb "$our_pid")
kill "$idle_pid"
ours_kb=$(awk -v a="$after" -v b="$before" -v n="$idle" 'BEGIN { print (a - b) / n }')

hold_idle "$real_port" 1
smtpd_pid=$(pgrep -n -u postfix -x smtpd)
postfix_kb=$(private_kb "$smtpd_pid")
kill "$idle_pid"

printf '\nidle session memory: postfix %d KB/process (private), ours %.1f KB/session (%d sessions), ratio 1/%.0f\n' \
    "$postfix_kb" "$ours_kb" "$idle" "$(awk -v p="$postfix_kb" -v o="$ours_kb" 'BEGIN { print p / o }')"
