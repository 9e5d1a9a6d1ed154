#!/usr/bin/env bash
# Regenerates the linker order files (Benchmarks/linker-order/<binary>.order) from a profile of the
# real pipeline. See docs/DESIGN.md, "Memory".
#
#   [SCRATCH=DIR] bash Benchmarks/linker-order/profile.sh [SECONDS]     (default 180 per run; needs valgrind)
#
# It builds release binaries and runs the supervisor and its workers under callgrind three times: idle
# (no node), then against a devnode (the bundled demo scenario, produced forever) with the terminal sink
# only, then delivering to local Slack, webhook and Uptime Kuma doubles. Each run fetches the HTTP
# endpoints and ends with SIGTERM. Each process's profiles become the list of functions it executed. The heartbeat and stop deadlines are
# stretched because everything runs about 50 times slower under callgrind.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds="${1:-180}"
command -v valgrind >/dev/null || { echo "profile.sh needs valgrind (apt-get install valgrind)" >&2; exit 1; }
work="$(mktemp -d /tmp/chain-alerter-profile.XXXXXX)"
trap 'kill $(jobs -p) 2>/dev/null || true' EXIT
scratch="${SCRATCH:-$work/build}"   # SCRATCH=an existing --scratch-path saves the full build
swift build -c release --static-swift-stdlib --scratch-path "$scratch" >/dev/null
release="$scratch/release"
mkdir -p "$work/bin" "$work/real" "$work/out"
# valgrind 3.19 cannot read clang's DWARF 5; the symbol table is all it needs.
for binary in supervisor node-watcher fork-worker alert-worker notifier devnode; do
    strip --strip-debug -o "$work/real/$binary" "$release/$binary"
done
for worker in node-watcher fork-worker alert-worker notifier; do
    cat > "$work/bin/$worker" <<WRAP
#!/bin/sh
exec valgrind --tool=callgrind --demangle=no --dump-instr=no --callgrind-out-file=$work/out/cg.$worker.%p $work/real/$worker "\$@"
WRAP
    chmod +x "$work/bin/$worker"
done

python3 Tests/NotifierTests/Fixtures/fake_sinks.py --log "$work/sinks.log" > "$work/sinks.port" &
for _ in $(seq 50); do grep -q PORT "$work/sinks.port" && break; sleep 0.1; done
port="$(awk '/PORT/{print $2}' "$work/sinks.port")"
printf 'xoxb-test' > "$work/slack-token"
chmod 600 "$work/slack-token"
"$work/real/devnode" --port 0 --end-at 0 > "$work/devnode.log" 2>&1 &
for _ in $(seq 100); do grep -q "ws://" "$work/devnode.log" && break; sleep 0.1; done
node="$(grep -o 'ws://[0-9.:]*' "$work/devnode.log" | head -1)"

# One profiled run of the whole pipeline: run LABEL SECONDS NODE_URL [supervisor options...]
run() {
    local label="$1" duration="$2" url="$3"; shift 3
    rm -rf "$work/state"
    mkdir -p "$work/out/$label"
    for worker in node-watcher fork-worker alert-worker notifier; do
        sed -i "s#--callgrind-out-file=[^ ]*#--callgrind-out-file=$work/out/$label/cg.$worker.%p#" "$work/bin/$worker"
    done
    CHAIN_ALERTER_WORKER_DIR="$work/bin" \
    CHAIN_ALERTER_SUPERVISOR_TUNING="heartbeat=20000,ready=300000,grace=60000,stop=120000,notifier-stop=120000,shutdown-budget=300000" \
        valgrind --tool=callgrind --demangle=no --dump-instr=no --callgrind-out-file="$work/out/$label/cg.supervisor.%p" \
        "$work/real/supervisor" run --node-rpc-url "$url" --state-dir "$work/state" --http-listen 127.0.0.1:0 "$@" \
        > "$work/supervisor-$label.log" 2>&1 &
    local supervisor=$!
    sleep 5
    kill -0 "$supervisor" 2>/dev/null || { grep -v '^==' "$work/supervisor-$label.log" >&2; exit 1; }
    sleep "$duration"
    if address="$(cat "$work/state/http-address" 2>/dev/null)"; then
        for path in /metrics /health /status /; do curl -s -m 30 "http://$address$path" >/dev/null || true; done
    fi
    sleep 10
    kill -TERM "$supervisor"
    wait "$supervisor" || true
}

# Three runs. Idle: no node answers, so the workers start, heartbeat and wait. Terminal: a live chain,
# alerts printed (no HTTP sinks, libcurl never loaded). HTTP: the same delivering to Slack, webhook and
# Uptime Kuma. make-order.py puts the functions that all three ran first (start-up and idling), then those
# of two, then the rest, so code that an idle worker never runs does not widen its working set.
run idle 60 ws://127.0.0.1:1 --slack=false
run terminal "$seconds" "$node" --slack=false
run http "$seconds" "$node" --slack-api-url "http://127.0.0.1:$port/api/" --slack-secret-path "$work/slack-token" \
    --webhook-url "http://127.0.0.1:$port/hook/profile" --uptime-kuma-url "http://127.0.0.1:$port/push/profile"

for binary in supervisor node-watcher fork-worker alert-worker notifier; do
    python3 Benchmarks/linker-order/make-order.py "Benchmarks/linker-order/$binary.order" "$work"/out/*/cg."$binary".*
done
echo "profiles and logs: $work"
