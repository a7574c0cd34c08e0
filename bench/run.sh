#!/usr/bin/env bash
# `make bench`: the same workloads against Relay, the Node.js `ws` server and a raw TCP echo
# server (the box's physical limit), then the Socket.IO workloads against Relay's Socket.IO
# server (examples/bench_server) and Node's `socket.io` 4.8 (bench/node/sio_server.mjs), one
# server at a time, the server pinned to one core and the load generator (`relay bench`, with
# `--protocol socketio` for the latter two) to the other. Writes build/bench/results.{md,json};
# see docs/benchmarks.md for what each figure means.
#
# Servers (BENCH_SERVERS): relay, node, raw: WebSocket echo/broadcast/handshake/idle;
# relay-sio, node-sio: Socket.IO over Engine.IO v4 (WebSocket transport only): echo ("echo"
# events), broadcast (a pub=1 client emits "pub", the room "s" receives "m"), handshakes
# (upgrade + Engine.IO OPEN + CONNECT answered + close) and RSS per idle Socket.IO connection.
# relay-pub, node-pub: HTTP publish to Socket.IO subscribers (`relay bench publish`): `relay
# serve --rooms-namespace /live --api-key KEY` and bench/node/publish_server.mjs; p50/p99
# publish-to-delivery latency at 1,000 and 10,000 subscribers and a steady rate, then the
# highest rate whose p99 stays under 50 ms (doubling, then bisecting; bounded in time).
#
# Environment:
#   BENCH_SECONDS=5            measured seconds per scenario
#   BENCH_WARMUP=1             unmeasured seconds before each
#   BENCH_QUICK=1              smoke run: 1 s per scenario, 1,000 idle connections
#   BENCH_IDLE_CONNECTIONS=10000
#   BENCH_IDLE_WARMUP=1000     connections opened and closed before the RSS baseline
#   BENCH_SERVERS="relay node raw relay-sio node-sio relay-pub node-pub"   which servers to run
#   BENCH_PUB_RATE=100         publish: the steady rate (publishes/s) of the latency rows
#   BENCH_PUB_SUBSCRIBERS="1000 10000"   publish: subscriber counts of the latency rows
#   BENCH_PUB_SEARCH_SUBSCRIBERS=1000    publish: subscribers during the max-rate search
#   BENCH_PUB_SEARCH_SECONDS=2 publish: measured seconds per step of the search
#   BENCH_PUB_SEARCH_BUDGET=120   publish: seconds after which the search stops stepping
#   BENCH_PUB_P99_MS=50        publish: the p99 bound of the search
#   BENCH_SIO_RECOVERY=0       1: both Socket.IO servers with connection state recovery on
#   RELAY_BIN=build/release/relay    the server under test (`relay serve`)
#   RELAY_SIO_BIN=build/release/examples/bench_server   Relay's Socket.IO benchmark app
#   BENCH_CMD="<RELAY_BIN> bench"    the load generator command
#   BENCH_SERVER_CPU=0 BENCH_CLIENT_CPU=1   cores for taskset
#   BENCH_OUT=build/bench
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

QUICK=${BENCH_QUICK:-0}
if [[ $QUICK == 1 ]]; then
  RUN_SECONDS=${BENCH_SECONDS:-1}
  WARMUP=${BENCH_WARMUP:-0.5}
  IDLE_N=${BENCH_IDLE_CONNECTIONS:-1000}
else
  RUN_SECONDS=${BENCH_SECONDS:-5}
  WARMUP=${BENCH_WARMUP:-1}
  IDLE_N=${BENCH_IDLE_CONNECTIONS:-10000}
fi
IDLE_HOLD=3  # the server's RSS is sampled 1 s after all connections are open
IDLE_WARMUP=${BENCH_IDLE_WARMUP:-1000}
SERVERS=${BENCH_SERVERS:-relay node raw relay-sio node-sio relay-pub node-pub}
PUB_KEY=bench-publish-key
PUB_RATE=${BENCH_PUB_RATE:-100}
PUB_SUBSCRIBERS=${BENCH_PUB_SUBSCRIBERS:-1000 10000}
PUB_SEARCH_SUBSCRIBERS=${BENCH_PUB_SEARCH_SUBSCRIBERS:-1000}
PUB_SEARCH_SECONDS=${BENCH_PUB_SEARCH_SECONDS:-2}
PUB_SEARCH_BUDGET=${BENCH_PUB_SEARCH_BUDGET:-120}
PUB_P99_MS=${BENCH_PUB_P99_MS:-50}
SIO_RECOVERY=${BENCH_SIO_RECOVERY:-0}
RELAY_BIN=${RELAY_BIN:-$ROOT/build/release/relay}
RELAY_SIO_BIN=${RELAY_SIO_BIN:-$ROOT/build/release/examples/bench_server}
read -r -a BENCH <<< "${BENCH_CMD:-$RELAY_BIN bench}"
OUT=${BENCH_OUT:-$ROOT/build/bench}
SERVER_CPU=${BENCH_SERVER_CPU:-0}
CLIENT_CPU=${BENCH_CLIENT_CPU:-1}

log() { printf '%s\n' "$*" >&2; }
die() { log "bench: $*"; exit 1; }

# --- prerequisites ---------------------------------------------------------------------------
[[ -x ${BENCH[0]} ]] || die "load generator ${BENCH[0]} not found: run 'make build' (or set BENCH_CMD)"
"${BENCH[@]}" --help > /dev/null || die "'${BENCH[*]} --help' failed"
command -v node > /dev/null || die "node is required (report and the Node.js server)"
mkdir -p "$OUT/runs" "$OUT/logs"
rm -f "$OUT"/runs/*/*.json

if [[ $(nproc) -ge 2 ]]; then
  PIN_SERVER=(taskset -c "$SERVER_CPU")
  PIN_CLIENT=(taskset -c "$CLIENT_CPU")
else
  log "bench: fewer than 2 cores: server and load generator share the CPU (numbers are not comparable)"
  PIN_SERVER=()
  PIN_CLIENT=()
fi

# Both sides hold one descriptor per connection (10,000 subscribers in the publish rows):
# raise the hard limit where allowed (root), else use what it is.
ulimit -n 65536 2> /dev/null || ulimit -n "$(ulimit -Hn)" 2> /dev/null || true
if [[ $(ulimit -n) != unlimited && $(ulimit -n) -lt $((IDLE_N + 100)) ]]; then
  log "bench: open-file limit $(ulimit -n) < $IDLE_N idle connections: reducing to $(($(ulimit -n) - 100))"
  IDLE_N=$(($(ulimit -n) - 100))
fi

RAW_SERVER=$OUT/raw_echo_server
cc -O2 -Wall -Wextra -o "$RAW_SERVER" bench/raw_echo_server.c || die "cannot build raw_echo_server"

server_command() {  # server name -> command words
  case $1 in
    relay) echo "$RELAY_BIN serve --host 127.0.0.1 --port 0 --threads 1" ;;
    node) echo "node $ROOT/bench/node/ws_server.mjs 0" ;;
    raw) echo "$RAW_SERVER 0" ;;
    relay-sio) echo "$RELAY_SIO_BIN --host 127.0.0.1 --port 0 --threads 1 --recovery $SIO_RECOVERY" ;;
    node-sio) echo "node $ROOT/bench/node/sio_server.mjs 0 $SIO_RECOVERY" ;;
    # The rate limits of relay serve are per Socket.IO connection (the subscribers send one
    # join each) and do not apply to the HTTP API; the history stays in memory.
    relay-pub) echo "$RELAY_BIN serve --host 127.0.0.1 --port 0 --threads 1 --rooms-namespace /live --api-key $PUB_KEY" ;;
    node-pub) echo "node $ROOT/bench/node/publish_server.mjs 0 $PUB_KEY" ;;
  esac
}

server_available() {
  case $1 in
    relay) [[ -x $RELAY_BIN ]] ;;
    node) [[ -d $ROOT/node_modules/ws ]] ;;
    raw) true ;;
    relay-sio) [[ -x $RELAY_SIO_BIN ]] ;;
    node-sio | node-pub) [[ -d $ROOT/node_modules/socket.io ]] ;;
    relay-pub) [[ -x $RELAY_BIN ]] ;;
    *) log "bench: unknown server '$1' (BENCH_SERVERS: relay node raw relay-sio node-sio relay-pub node-pub)"; false ;;
  esac
}

# --- server lifecycle ------------------------------------------------------------------------
SERVER_PID=""
CLIENT_PID=""
PORT=""
cleanup() {
  if [[ -n $CLIENT_PID ]]; then kill "$CLIENT_PID" 2> /dev/null || true; fi
  if [[ -n $SERVER_PID ]]; then
    kill "$SERVER_PID" 2> /dev/null || true
    wait "$SERVER_PID" 2> /dev/null || true
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start_server() {  # name
  local name=$1 logf="$OUT/logs/$1-server.log" cmd
  read -r -a cmd <<< "$(server_command "$name")"
  # Truncate now: the background shell opens the log later, and a port read from the previous
  # run's log would point at nothing.
  : > "$logf"
  "${PIN_SERVER[@]}" "${cmd[@]}" > "$logf" 2>&1 &
  SERVER_PID=$!
  PORT=""
  for _ in $(seq 100); do
    PORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$logf" | head -n1)
    [[ -n $PORT ]] && break
    kill -0 "$SERVER_PID" 2> /dev/null || break
    sleep 0.1
  done
  if [[ -z $PORT ]]; then
    log "bench: $name did not print 'listening on 127.0.0.1:PORT' (see $logf)"
    stop_server
    return 1
  fi
  sleep 0.3  # let it settle (JIT warm-up is part of the warmup phase, not of this)
}

stop_server() {
  [[ -z $SERVER_PID ]] && return 0
  kill "$SERVER_PID" 2> /dev/null || true
  for _ in $(seq 50); do
    kill -0 "$SERVER_PID" 2> /dev/null || break
    sleep 0.1
  done
  kill -9 "$SERVER_PID" 2> /dev/null || true
  wait "$SERVER_PID" 2> /dev/null || true
  SERVER_PID=""
}

ensure_server() {  # name: restart it if a scenario killed it
  if [[ -z $SERVER_PID ]] || ! kill -0 "$SERVER_PID" 2> /dev/null; then
    [[ -n $SERVER_PID ]] && log "bench: $1 exited; restarting it"
    SERVER_PID=""
    start_server "$1"
  fi
}

vmrss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
# utime + stime of a process, in clock ticks (fields 14 and 15 of /proc/PID/stat; the command
# name in field 2 has no spaces for our servers).
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2> /dev/null || echo 0; }

# --- one measurement -------------------------------------------------------------------------
# run_bench server scenario-key args...: the load generator's JSON into runs/<server>/<key>.json
run_bench() {
  local server=$1 key=$2
  shift 2
  local dir="$OUT/runs/$server" errf="$OUT/logs/$server-$key.err"
  mkdir -p "$dir"
  log "  $server $key"
  local limit t0 t1 c0 c1 cpu
  limit=$(awk -v s="$RUN_SECONDS" -v w="$WARMUP" 'BEGIN {printf "%d", s + w + 60}')
  t0=$(date +%s%N)
  c0=$(cpu_ticks "$SERVER_PID")
  if timeout -k 5 -s INT "$limit" "${PIN_CLIENT[@]}" "${BENCH[@]}" "$@" --json \
      > "$dir/$key.json.tmp" 2> "$errf" && [[ -s $dir/$key.json.tmp ]]; then
    c1=$(cpu_ticks "$SERVER_PID")
    t1=$(date +%s%N)
    # The server's CPU share over the whole run (set-up and warm-up included): near 100 the
    # figure is what the server can do; well below, something else (the generator) limited it.
    cpu=$(awk -v c="$((c1 - c0))" -v hz="$(getconf CLK_TCK)" -v ns="$((t1 - t0))" \
      'BEGIN {printf "%.1f", (ns > 0 ? 100 * c / hz / (ns / 1e9) : 0)}')
    tail -n 1 "$dir/$key.json.tmp" | sed "s/}\$/,\"server_cpu_percent\":$cpu}/" > "$dir/$key.json"
  else
    log "  $server $key FAILED (see $errf)"
    printf '{"failed":true,"log":"%s"}\n' "$errf" > "$dir/$key.json"
  fi
  rm -f "$dir/$key.json.tmp"
}

# RSS per idle WebSocket: a fresh server, VmRSS before and 1 s after all N are open.
# run_idle server url [generator args, e.g. --protocol socketio]
run_idle() {
  local server=$1 url=$2 dir="$OUT/runs/$1" errf="$OUT/logs/$1-idle.err"
  shift 2
  local extra=("$@")
  mkdir -p "$dir"
  log "  $server idle-$IDLE_N"
  stop_server
  start_server "$server" || return 0
  url=${url/PORT/$PORT}  # known only now: the fresh server has a new ephemeral port
  # Warm-up: open and close IDLE_WARMUP connections first, so that one-time costs (receive
  # buffers, TLS/crypto tables, JIT, pools) are in the baseline and the figure is the marginal
  # cost of one more idle connection, the number that scales with the fleet.
  if [[ $IDLE_WARMUP -gt 0 ]]; then
    timeout -k 5 -s INT 60 "${PIN_CLIENT[@]}" "${BENCH[@]}" idle "${extra[@]}" --url "$url" \
      --connections "$IDLE_WARMUP" --hold 0 --json > /dev/null 2>> "$errf" || true
  fi
  sleep 0.5
  local before after outf="$dir/idle.out"
  before=$(vmrss_kib "$SERVER_PID")
  timeout -k 5 -s INT 120 "${PIN_CLIENT[@]}" "${BENCH[@]}" idle "${extra[@]}" --url "$url" \
    --connections "$IDLE_N" --hold "$IDLE_HOLD" --json > "$outf" 2> "$errf" &
  CLIENT_PID=$!
  local opened=""
  for _ in $(seq 1100); do
    if grep -q 'connections open' "$outf" 2> /dev/null; then
      opened=$(head -n 1 "$outf")
      break
    fi
    kill -0 "$CLIENT_PID" 2> /dev/null || break
    sleep 0.1
  done
  after=""
  if [[ -n $opened ]]; then
    sleep 1
    kill -0 "$SERVER_PID" 2> /dev/null && after=$(vmrss_kib "$SERVER_PID")
  fi
  wait "$CLIENT_PID" 2> /dev/null || true
  CLIENT_PID=""
  local result
  result=$(tail -n 1 "$outf" 2> /dev/null || true)
  if [[ -z $after || $result != \{* ]]; then
    log "  $server idle FAILED (see $errf)"
    printf '{"failed":true,"log":"%s"}\n' "$errf" > "$dir/idle.json"
  else
    printf '{"connections":%d,"warmup_connections":%d,"rss_before_kib":%d,"rss_after_kib":%d,"opened":"%s","bench":%s}\n' \
      "$IDLE_N" "$IDLE_WARMUP" "$before" "$after" "$opened" "$result" > "$dir/idle.json"
  fi
  rm -f "$outf"
  stop_server
}

# The Socket.IO workloads: the same app on both servers (see bench/node/sio_server.mjs), the
# generator speaking Socket.IO v5 over Engine.IO v4 on the WebSocket transport only.
run_sio_server() {
  local server=$1
  local common=(--duration "$RUN_SECONDS" --warmup "$WARMUP") sio=(--protocol socketio)

  # Idle first, on a fresh process, so the RSS baseline has no allocator leftovers.
  run_idle "$server" "ws://127.0.0.1:PORT/" "${sio[@]}"

  start_server "$server" || return 0
  local conns size pipeline
  for spec in 100:32:1 1000:32:1 100:32:16; do
    IFS=: read -r conns size pipeline <<< "$spec"
    ensure_server "$server" || return 0
    run_bench "$server" "echo-${conns}c-${size}b-p${pipeline}" echo "${sio[@]}" \
      --url "ws://127.0.0.1:$PORT/" --connections "$conns" --size "$size" \
      --pipeline "$pipeline" "${common[@]}"
  done
  ensure_server "$server" || return 0
  run_bench "$server" "broadcast-1000s-20b-p16" broadcast "${sio[@]}" \
    --url "ws://127.0.0.1:$PORT/" --subscribers 1000 --size 20 --pipeline 16 "${common[@]}"
  ensure_server "$server" || return 0
  run_bench "$server" "handshake-c64" handshake "${sio[@]}" --url "ws://127.0.0.1:$PORT/" \
    --concurrency 64 "${common[@]}"
  stop_server
}

# One publish step of the search: does rate $2 keep p99 < PUB_P99_MS with nothing lost, no
# error and the rate held (published >= 95 % of it)? Sets PUB_VERDICT to "pass p99_us
# published_per_sec lost errors" (or "fail ..."); a fresh server each step, so one overload
# does not leak into the next. (Not run in a subshell: the server's pid must stay known.)
PUB_VERDICT=""
pub_step() {
  local server=$1 rate=$2 key="pub-search-${PUB_SEARCH_SUBSCRIBERS}s-${2}r"
  PUB_VERDICT="fail - - - -"
  stop_server
  start_server "$server" || return 0
  run_bench "$server" "$key" publish --url "ws://127.0.0.1:$PORT/" --api-key "$PUB_KEY" \
    --connections "$PUB_SEARCH_SUBSCRIBERS" --rate "$rate" --duration "$PUB_SEARCH_SECONDS" \
    --warmup 0.5 --drain 1
  PUB_VERDICT=$(node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const [rate, bound] = [Number(process.argv[2]), Number(process.argv[3]) * 1000];
    if (r.failed) { console.log("fail - - - -"); process.exit(0); }
    const pass = r.latency_us.count > 0 && r.latency_us.p99 < bound && r.lost === 0 &&
      r.errors.total === 0 && r.published_per_sec >= 0.95 * rate;
    console.log(`${pass ? "pass" : "fail"} ${r.latency_us.p99} ${r.published_per_sec} ${r.lost} ${r.errors.total}`);
  ' "$OUT/runs/$server/$key.json" "$rate" "$PUB_P99_MS")
}

# The highest publish rate whose p99 stays under PUB_P99_MS: 100, 200, 400, ... until a step
# fails, then bisection between the last pass and the first failure down to 10 % of the
# rate; stops stepping once PUB_SEARCH_BUDGET seconds have gone. Writes pub-search.json.
pub_search() {
  local server=$1 t0 lo=0 hi=0 rate=100 steps=() verdict p99 pps lost errs
  t0=$(date +%s)
  while (($(date +%s) - t0 < PUB_SEARCH_BUDGET)); do
    pub_step "$server" "$rate"
    read -r verdict p99 pps lost errs <<< "$PUB_VERDICT"
    log "    rate $rate: $verdict (p99 $p99 us, published $pps/s, lost $lost, errors $errs)"
    steps+=("{\"rate\":$rate,\"pass\":$([[ $verdict == pass ]] && echo true || echo false),\"p99_us\":\"$p99\",\"published_per_sec\":\"$pps\",\"lost\":\"$lost\",\"errors\":\"$errs\"}")
    if [[ $verdict == pass ]]; then lo=$rate; else hi=$rate; fi
    if ((hi == 0)); then
      rate=$((rate * 2))
      ((rate > 1000000)) && break
    else
      ((hi - lo <= hi / 10 || hi - lo <= 1)) && break
      rate=$(((lo + hi) / 2))
    fi
  done
  local joined
  joined=$(IFS=,; echo "${steps[*]}")
  printf '{"subscribers":%d,"p99_bound_ms":%s,"max_rate":%d,"first_failing_rate":%d,"complete":%s,"seconds":%d,"steps":[%s]}\n' \
    "$PUB_SEARCH_SUBSCRIBERS" "$PUB_P99_MS" "$lo" "$hi" \
    "$( ((hi > 0 && (hi - lo <= hi / 10 || hi - lo <= 1))) && echo true || echo false)" \
    "$(($(date +%s) - t0))" "$joined" > "$OUT/runs/$server/pub-search.json"
  log "  $server max rate with p99 < $PUB_P99_MS ms at $PUB_SEARCH_SUBSCRIBERS subscribers: $lo/s (first failing: $hi/s)"
}

# HTTP publish -> Socket.IO subscribers (relay bench publish): the latency rows at the steady
# rate, then the max-rate search.
run_pub_server() {
  local server=$1 subs
  mkdir -p "$OUT/runs/$server"
  for subs in $PUB_SUBSCRIBERS; do
    stop_server
    start_server "$server" || return 0
    run_bench "$server" "publish-${subs}s-${PUB_RATE}r" publish --url "ws://127.0.0.1:$PORT/" \
      --api-key "$PUB_KEY" --connections "$subs" --rate "$PUB_RATE" \
      --duration "$RUN_SECONDS" --warmup "$WARMUP"
  done
  pub_search "$server"
  stop_server
}

run_server() {
  local server=$1
  if ! server_available "$server"; then
    log "bench: skipping $server (not built / not installed)"
    return 0
  fi
  log "bench: $server"
  if [[ $server == *-sio ]]; then
    run_sio_server "$server"
    return 0
  fi
  if [[ $server == *-pub ]]; then
    run_pub_server "$server"
    return 0
  fi
  local common=(--duration "$RUN_SECONDS" --warmup "$WARMUP")
  local echo_url="ws://127.0.0.1:PORT/echo" echo_extra=()

  # Idle first, on a fresh process, so the RSS baseline has no allocator leftovers.
  [[ $server != raw ]] && run_idle "$server" "ws://127.0.0.1:PORT/echo"

  start_server "$server" || return 0
  if [[ $server == raw ]]; then
    echo_url="tcp://127.0.0.1:PORT"
    echo_extra=(--raw)
  fi
  local conns size pipeline
  for spec in 100:32:1 100:1024:1 1000:32:1 1000:1024:1 100:32:16 100:1024:16; do
    IFS=: read -r conns size pipeline <<< "$spec"
    ensure_server "$server" || return 0
    run_bench "$server" "echo-${conns}c-${size}b-p${pipeline}" echo "${echo_extra[@]}" \
      --url "${echo_url/PORT/$PORT}" --connections "$conns" --size "$size" \
      --pipeline "$pipeline" "${common[@]}"
  done
  if [[ $server != raw ]]; then
    for size in 20 1024; do
      ensure_server "$server" || return 0
      run_bench "$server" "broadcast-1000s-${size}b-p16" broadcast \
        --pub-url "ws://127.0.0.1:$PORT/pub" --sub-url "ws://127.0.0.1:$PORT/sub" \
        --subscribers 1000 --size "$size" --pipeline 16 "${common[@]}"
    done
    ensure_server "$server" || return 0
    run_bench "$server" "handshake-c64" handshake --url "ws://127.0.0.1:$PORT/echo" \
      --concurrency 64 "${common[@]}"
  fi
  stop_server
}

# Anything else running on the two cores makes every figure noise: measure how busy the
# machine is for one second before starting (not the load average, which still remembers the
# build `make bench` just did) and say so in the results.
cpu_sample() { awk '/^cpu / {print $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9, $5 + $6}' /proc/stat; }
read -r TOTAL0 IDLE0 <<< "$(cpu_sample)"
sleep 1
read -r TOTAL1 IDLE1 <<< "$(cpu_sample)"
BUSY=$(awk -v t=$((TOTAL1 - TOTAL0)) -v i=$((IDLE1 - IDLE0)) 'BEGIN {printf "%.0f", t ? 100 * (t - i) / t : 0}')
if [[ $BUSY -gt 10 ]]; then
  log "bench: WARNING: the CPUs were ${BUSY}% busy before starting: numbers will be noisy"
fi
log "bench: ${RUN_SECONDS}s per scenario (+${WARMUP}s warmup), servers: $SERVERS, server cpu $SERVER_CPU, client cpu $CLIENT_CPU"
START=$(date +%s)
for server in $SERVERS; do
  run_server "$server"
done
log "bench: done in $(($(date +%s) - START)) s"

node "$ROOT/bench/report.mjs" "$OUT" --seconds "$RUN_SECONDS" --warmup "$WARMUP" --quick "$QUICK" \
  --server-cpu "$SERVER_CPU" --client-cpu "$CLIENT_CPU" --busy "$BUSY"
