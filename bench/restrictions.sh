#!/usr/bin/env bash
# bench/restrictions.sh: what restriction evaluation costs our smtpd's
# accept rate (issue 6: no more than 5%).
#
#   bench/restrictions.sh [MESSAGES] [RUNS] [ENTRIES]   (default 2000 7 100000)
#
# Two of our smtpds in the same run, configured alike but for:
#   (a) minimal: smtpd_relay_restrictions = permit_mynetworks,
#       reject_unauth_destination, and no other restriction;
#   (b) full: the same, plus a hash: access map of ENTRIES generated
#       entries (built by our postmap; none matches, so every lookup of
#       the client, sender and recipient forms is a miss, the common case)
#       in smtpd_client_restrictions, smtpd_sender_restrictions and
#       smtpd_recipient_restrictions, and reject_rbl_client against a
#       dnsmasq zone that lists the client with an address the reply
#       filter does not accept: the first lookups reach dnsmasq, later
#       ones are answered from hickory's cache (--local-ttl).
# smtp-source sends MESSAGES messages of 4 KB over 10 sessions, one per
# connection, to (a) and (b) in turn, RUNS times; the figures are the best
# messages per second of each and the overhead of (b). Both fsync every
# message (bench/smtpd.sh explains the setting and the noise). The
# smtpd's own CPU time per message is printed too: steadier than the
# rate on a shared machine. BENCH_DIR=/dev/shm puts both spools on tmpfs,
# where fsync is free and ext4's inode allocation (most of the time perf
# sees on disk) drops out, leaving the restrictions' share. Needs
# smtp-source and dnsmasq (scripts/test installs them); builds a release
# smtpd and postmap (CARGO_TARGET_DIR is honoured).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

messages=${1:-2000}
runs=${2:-7}
entries=${3:-100000}
port_a=${PORT_A:-24031}
port_b=${PORT_B:-24032}
dns_port=${DNS_PORT:-24053}

PATH=$PATH:/usr/sbin # dnsmasq's home
for peer in smtp-source dnsmasq; do
    command -v "$peer" >/dev/null || { echo "bench: $peer is missing (scripts/test installs it)" >&2; exit 1; }
done
cargo build --release -q -p smtpd --bin smtpd -p postmap --bin postmap
bin=${CARGO_TARGET_DIR:-target}/release

work=$(mktemp -d "${BENCH_DIR:-/tmp}/bench-restrictions.XXXXXX")
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

dnsmasq --no-resolv --no-hosts --no-daemon --conf-file=/dev/null --pid-file \
    --port="$dns_port" --listen-address=127.0.0.1 --bind-interfaces \
    --local=/rbl.test/ --local-ttl=3600 --address=/1.0.0.127.rbl.test/127.0.0.2 \
    --log-queries --log-facility="$work/dnsmasq.log" 2>/dev/null &
pids+=($!)
for _ in $(seq 100); do grep -q 'started' "$work/dnsmasq.log" 2>/dev/null && break; sleep 0.1; done

# An instance: name, port, extra main.cf lines.
start() {
    local dir=$work/$1
    mkdir -p "$dir/etc" "$dir/spool"
    for q in incoming active deferred hold corrupt defer bounce trace; do
        mkdir -m 700 "$dir/spool/$q"
    done
    cat > "$dir/etc/main.cf" <<MAIN
queue_directory = $dir/spool
myhostname = ours.example
mydestination =
mynetworks = 127.0.0.0/8
smtpd_client_connection_count_limit = 0
smtpd_dns_servers = 127.0.0.1:$dns_port
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_client_restrictions =
smtpd_sender_restrictions =
smtpd_recipient_restrictions =
MAIN
    printf '%s\n' "${@:3}" >> "$dir/etc/main.cf"
    if [[ -e $dir/etc/access ]]; then
        "$bin/postmap" -c "$dir/etc" "hash:$dir/etc/access"
    fi
    scripts/with-listener "127.0.0.1:$2" "$bin/smtpd" -c "$dir/etc" 2> "$dir/log" &
    pids+=($!)
    echo $! > "$dir/pid" # with-listener execs smtpd
    for _ in $(seq 100); do grep -q ': ready' "$dir/log" && break; sleep 0.1; done
    grep -q ': ready' "$dir/log" || { cat "$dir/log" >&2; exit 1; }
}

mkdir -p "$work/b/etc"
awk -v n="$entries" 'BEGIN {
    for (i = 0; i < n; i++) {
        if (i % 3 == 0) printf "10.%d.%d.%d REJECT\n", int(i / 65536) % 256, int(i / 256) % 256, i % 256
        else if (i % 3 == 1) printf "user%d@example%d.org 554 5.7.1 no thanks\n", i, i % 997
        else printf "host%d.example.com OK\n", i
    }
}' > "$work/b/etc/access"
start a "$port_a"
start b "$port_b" \
    "smtpd_client_restrictions = check_client_access hash:$work/b/etc/access, reject_rbl_client rbl.test=127.0.0.9" \
    "smtpd_sender_restrictions = check_sender_access hash:$work/b/etc/access" \
    "smtpd_recipient_restrictions = check_recipient_access hash:$work/b/etc/access"

cpu_ticks() { # instance -> user + system ticks of its smtpd so far
    awk '{ print $14 + $15 }' "/proc/$(cat "$work/$1/pid")/stat"
}
rate() { # port -> msgs/s
    local start end
    start=$(date +%s.%N)
    smtp-source -s 10 -m "$messages" -l 4096 -f bench@example.com -t rcpt@example.net "127.0.0.1:$1"
    end=$(date +%s.%N)
    awk -v n="$messages" -v a="$start" -v b="$end" 'BEGIN { printf "%f\n", n / (b - a) }'
}

# One message each first: both have opened their tables and (b) has the
# DNS answer cached before anything is timed.
smtp-source -m 1 -f bench@example.com -t rcpt@example.net "127.0.0.1:$port_a"
smtp-source -m 1 -f bench@example.com -t rcpt@example.net "127.0.0.1:$port_b"
a=() b=()
cpu_a0=$(cpu_ticks a) cpu_b0=$(cpu_ticks b)
# Alternating which goes first, and deleting nothing until the end:
# creating files slows down near recently deleted inodes (ext4), which
# is what perf shows most of either smtpd's time goes to.
for i in $(seq "$runs"); do
    if ((i % 2)); then
        a+=("$(rate "$port_a")")
        b+=("$(rate "$port_b")")
    else
        b+=("$(rate "$port_b")")
        a+=("$(rate "$port_a")")
    fi
done
hz=$(getconf CLK_TCK)
cpu_a=$(awk -v t="$(($(cpu_ticks a) - cpu_a0))" -v n="$((messages * runs))" -v hz="$hz" 'BEGIN { print t * 1000 / hz / n }')
cpu_b=$(awk -v t="$(($(cpu_ticks b) - cpu_b0))" -v n="$((messages * runs))" -v hz="$hz" 'BEGIN { print t * 1000 / hz / n }')
best_a=$(printf '%s\n' "${a[@]}" | sort -n -r | head -1)
best_b=$(printf '%s\n' "${b[@]}" | sort -n -r | head -1)
queries=$(grep -c 'query\[' "$work/dnsmasq.log" || true)
rbl_queries=$(grep -c 'query\[.*rbl\.test' "$work/dnsmasq.log" || true)
blocked=$(grep -c 'blocked using' "$work/b/log" || true)
printf '(a) minimal restrictions: %8.0f msgs/s   runs: %s\n' "$best_a" "$(printf '%.0f ' "${a[@]}")"
printf '(b) %d-entry hash map x3 + rbl: %8.0f msgs/s   runs: %s\n' "$entries" "$best_b" "$(printf '%.0f ' "${b[@]}")"
printf 'overhead of (b): %.1f%% of the rate (limit 5%%)\n' "$(awk -v a="$best_a" -v b="$best_b" 'BEGIN { print (a - b) * 100 / a }')"
printf 'smtpd CPU per message: (a) %.3f ms, (b) %.3f ms, +%.1f%%\n' "$cpu_a" "$cpu_b" \
    "$(awk -v a="$cpu_a" -v b="$cpu_b" 'BEGIN { print (b - a) * 100 / a }')"
# The client-name lookups (both instances) also reach dnsmasq: a name
# from /etc/hosts without an AAAA record there is asked for upstream.
printf 'queries that reached dnsmasq: %d, of them for rbl.test: %d; rbl rejections: %d\n' \
    "$queries" "$rbl_queries" "$blocked"
