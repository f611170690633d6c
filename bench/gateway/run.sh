#!/usr/bin/env bash
# Gateway overhead: Cairn and the LiteLLM proxy against the same zero-latency mock upstream,
# in the same run, with the mock called directly and through a bare nginx reverse proxy as
# reference points. See bench/gateway/README.md.
#
#   bench/gateway/run.sh                  # 15 s per point, concurrency 1, 16, 64, one round
#   bench/gateway/run.sh --quick          # 3 s per point
#   bench/gateway/run.sh --rounds 3       # three interleaved rounds; figures are medians
#
# Options: --duration SECONDS, --rounds N, --conc "1 16 64",
#          --targets "direct nginx cairn cairn-log litellm" (default: all but cairn-log),
#          --with-logs (adds cairn-log: Cairn with CAIRN_LOG=info written to a file),
#          --no-install (fail instead of installing nginx/wrk/LiteLLM), --rebuild.
# Environment: CARGO_TARGET_DIR (where the release build lives; default REPO/target),
#   CAIRN_BIN (use this binary instead), BENCH_VENV (LiteLLM's virtualenv; default
#   ~/.cache/cairn/bench-venv), RESULTS (results dir; default bench/gateway/results/UTC-STAMP),
#   BENCH_PORT_BASE (default 18180: mock, nginx proxy, Cairn, Cairn with logs, LiteLLM
#   take the next five ports).
#
# Everything listens on and talks to 127.0.0.1 only. Every process started here is stopped
# on exit. No timing assertion anywhere: this prints numbers, it does not judge them.
set -euo pipefail

ORIG_ARGS=("$@")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)

DURATION=15
ROUNDS=1
CONCS="1 16 64"
TARGETS="direct nginx cairn litellm"
INSTALL=1
REBUILD=0
WARMUP=2
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) DURATION=3; WARMUP=1 ;;
    --duration) DURATION=${2%s}; shift ;;
    --rounds) ROUNDS=$2; shift ;;
    --conc) CONCS=$2; shift ;;
    --targets) TARGETS=$2; shift ;;
    --with-logs) TARGETS="$TARGETS cairn-log" ;;
    --no-install) INSTALL=0 ;;
    --rebuild) REBUILD=1 ;;
    -h|--help) sed -n '2,22p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "unknown option: $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
has_target() { [[ " $TARGETS " == *" $1 "* ]]; }

PORT_BASE=${BENCH_PORT_BASE:-18180}
MOCK_PORT=$((PORT_BASE + 1))
PROXY_PORT=$((PORT_BASE + 2))
CAIRN_PORT=$((PORT_BASE + 3))
CAIRN_LOG_PORT=$((PORT_BASE + 4))
LITELLM_PORT=$((PORT_BASE + 5))
VENV=${BENCH_VENV:-$HOME/.cache/cairn/bench-venv}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$REPO/target}
CAIRN_BIN=${CAIRN_BIN:-$CARGO_TARGET_DIR/release/cairn}
RESULTS=${RESULTS:-$HERE/results/$(date -u +%Y%m%dT%H%M%SZ)}
LITELLM_MASTER=sk-bench-master-key

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# ---------------------------------------------------------------- install what is missing
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
NGINX=$(command -v nginx || { [ -x /usr/sbin/nginx ] && echo /usr/sbin/nginx; } || true)
if [ -z "$NGINX" ] || ! command -v wrk >/dev/null; then
  [ "$INSTALL" = 1 ] || die "nginx and wrk are needed: apt-get install -y nginx wrk"
  log "installing nginx and wrk with apt-get"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq nginx wrk >/dev/null
  NGINX=$(command -v nginx || echo /usr/sbin/nginx)
fi
if has_target litellm && [ ! -x "$VENV/bin/litellm" ]; then
  [ "$INSTALL" = 1 ] || die "LiteLLM is not in $VENV: python3 -m venv $VENV && $VENV/bin/pip install 'litellm[proxy]'"
  log "installing litellm[proxy] into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q 'litellm[proxy]'
fi
if has_target cairn || has_target cairn-log; then
  if [ "$REBUILD" = 1 ] || [ ! -x "$CAIRN_BIN" ]; then
    log "building cairn (release) into $CARGO_TARGET_DIR"
    (cd "$REPO" && cargo build --release -p cairn-server)
  fi
  [ -x "$CAIRN_BIN" ] || die "no cairn binary at $CAIRN_BIN"
fi

for port in $MOCK_PORT $PROXY_PORT $CAIRN_PORT $CAIRN_LOG_PORT $LITELLM_PORT; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    die "port $port is already in use; set BENCH_PORT_BASE"
  fi
done

# ---------------------------------------------------------------- processes and cleanup
WORK=$(mktemp -d "${TMPDIR:-/tmp}/cairn-gateway-bench.XXXXXX")
mkdir -p "$RESULTS" "$WORK/tmp"
META="$RESULTS/meta.txt"
: >"$META"
meta() { printf '%s=%s\n' "$1" "$2" >>"$META"; }
declare -A PID=()

stop_one() {
  local pid=$1
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  for name in "${!PID[@]}"; do stop_one "${PID[$name]}"; done
  for f in "$WORK"/*.log; do
    [ -e "$f" ] || continue
    # Logs can be large (cairn-log and LiteLLM write a line per request): keep both ends.
    if [ "$(wc -l <"$f")" -gt 200 ]; then
      { head -n 100 "$f"; echo "[... $(wc -l <"$f") lines in all ...]"; tail -n 100 "$f"; } >"$RESULTS/$(basename "$f")"
    else
      cp "$f" "$RESULTS/"
    fi
  done
  rm -rf "$WORK"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# CPU time (user + system, all threads) a process has used, in milliseconds.
CLK_TCK=$(getconf CLK_TCK)
cpu_ms() { sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | awk -v hz="$CLK_TCK" '{ printf "%d", ($12 + $13) * 1000 / hz }'; }
rss_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status" 2>/dev/null || true; }

# Milliseconds from $2 (date +%s%N at launch) until 127.0.0.1:$3$4 answers 2xx (with an
# empty $4: until the port accepts connections).
wait_ready() {
  local pid=$1 t0=$2 port=$3 path=$4 timeout_s=$5
  local deadline=$(($(date +%s) + timeout_s))
  until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null &&
    { [ -z "$path" ] || curl -sf -o /dev/null "http://127.0.0.1:$port$path"; }; do
    kill -0 "$pid" 2>/dev/null || return 1
    [ "$(date +%s)" -lt "$deadline" ] || return 1
    sleep 0.002
  done
  echo $((($(date +%s%N) - t0) / 1000000))
}

render() {
  sed -e "s#@PREFIX@#$WORK#g" -e "s#@PORT@#$2#g" -e "s#@MOCK_PORT@#$MOCK_PORT#g" "$HERE/$1" >"$WORK/$3"
}

start_nginx() { # name template port
  local name=$1 conf=$1.conf
  render "$2" "$3" "$conf"
  "$NGINX" -t -q -p "$WORK" -c "$WORK/$conf" 2>>"$WORK/$name.log" || die "bad nginx config (see $name.log)"
  local t0
  t0=$(date +%s%N)
  "$NGINX" -p "$WORK" -c "$WORK/$conf" 2>>"$WORK/$name.log" &
  PID[$name]=$!
  wait_ready "${PID[$name]}" "$t0" "$3" "" 10 >/dev/null || die "$name did not start (see $RESULTS/$name.log)"
}

start_cairn() { # name port log-level
  local name=$1 port=$2 level=$3 dir="$WORK/$1"
  mkdir -p "$dir/data"
  cat >"$dir/cairn.toml" <<EOF
default_tier = "bench"

[server]
listen = "127.0.0.1:$port"

[providers.mock]
kind = "openai"
base_url = "http://127.0.0.1:$MOCK_PORT/v1"

[models.bench]
provider = "mock"
target = "bench-upstream"
input_price_per_million = 1.0
output_price_per_million = 2.0

# Limits are checked on every call (requests, tokens, monthly budget) but never refuse.
[tiers.bench]
models = ["bench"]
default_model = "bench"
requests_per_minute = 1_000_000_000
tokens_per_minute = 4_000_000_000
monthly_tokens = 1_000_000_000_000_000
EOF
  local cli=("$CAIRN_BIN" --config "$dir/cairn.toml" --data-dir "$dir/data")
  CAIRN_LOG=warn "${cli[@]}" users create --email "bench@$name.invalid" --tier bench >/dev/null 2>>"$WORK/$name.log"
  KEY[$name]=$(CAIRN_LOG=warn "${cli[@]}" keys create --user "bench@$name.invalid" 2>>"$WORK/$name.log")
  [ -n "${KEY[$name]}" ] || die "no API key from cairn keys create"
  local t0 ms
  t0=$(date +%s%N)
  CAIRN_LOG=$level "${cli[@]}" serve --listen "127.0.0.1:$port" 2>>"$WORK/$name.log" &
  PID[$name]=$!
  ms=$(wait_ready "${PID[$name]}" "$t0" "$port" /healthz 30) || die "$name did not start (see $RESULTS/$name.log)"
  meta "startup_${name}_ms" "$ms"
  log "$name up in $ms ms (pid ${PID[$name]})"
}

start_litellm() {
  local dir="$WORK/litellm"
  mkdir -p "$dir"
  cat >"$dir/config.yaml" <<EOF
model_list:
  - model_name: bench
    litellm_params:
      model: openai/bench-upstream
      api_base: http://127.0.0.1:$MOCK_PORT/v1
      api_key: sk-mock
litellm_settings:
  telemetry: false
EOF
  local t0 ms
  t0=$(date +%s%N)
  (
    cd "$dir"
    export LITELLM_MASTER_KEY=$LITELLM_MASTER LITELLM_LOCAL_MODEL_COST_MAP=True
    export LITELLM_TELEMETRY=False DISABLE_ADMIN_UI=True NO_DOCS=True
    unset DATABASE_URL
    exec "$VENV/bin/litellm" --config "$dir/config.yaml" --host 127.0.0.1 --port "$LITELLM_PORT" \
      --num_workers 1 --telemetry False
  ) >>"$WORK/litellm.log" 2>&1 &
  PID[litellm]=$!
  ms=$(wait_ready "${PID[litellm]}" "$t0" "$LITELLM_PORT" /health/liveliness 180) ||
    die "litellm did not start (see $RESULTS/litellm.log)"
  meta startup_litellm_ms "$ms"
  log "litellm up in $ms ms (pid ${PID[litellm]})"
}

declare -A KEY=() URL=()
URL[direct]="http://127.0.0.1:$MOCK_PORT/v1/chat/completions"
URL[nginx]="http://127.0.0.1:$PROXY_PORT/v1/chat/completions"
URL[cairn]="http://127.0.0.1:$CAIRN_PORT/v1/chat/completions"
URL[cairn-log]="http://127.0.0.1:$CAIRN_LOG_PORT/v1/chat/completions"
URL[litellm]="http://127.0.0.1:$LITELLM_PORT/v1/chat/completions"
KEY[direct]=""
KEY[nginx]=""
KEY[litellm]=$LITELLM_MASTER

# ---------------------------------------------------------------- describe the run
meta date "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
meta duration "${DURATION}s"
meta rounds "$ROUNDS"
meta concurrency "$CONCS"
meta targets "$TARGETS"
meta nproc "$(nproc)"
meta cpu "$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
meta mem_total "$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
meta kernel "$(uname -r)"
meta cairn_commit "$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)"
meta cairn_tree_changes "$(git -C "$REPO" status --porcelain -- crates Cargo.toml Cargo.lock 2>/dev/null | wc -l)"
[ -x "$CAIRN_BIN" ] && meta cairn_binary "$CAIRN_BIN"
[ -x "$CAIRN_BIN" ] && meta cairn_binary_built "$(date -u -r "$CAIRN_BIN" +%Y-%m-%dT%H:%M:%SZ)"
meta nginx_version "$("$NGINX" -v 2>&1 | sed 's#.*/##')"
meta wrk_version "$(wrk -v 2>&1 | head -1 | awk '{ print $2 }')"
if has_target litellm; then
  meta litellm_version "$("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("litellm"))')"
  meta python_version "$("$VENV/bin/python" -c 'import platform; print(platform.python_version())')"
fi
meta command "bench/gateway/run.sh${ORIG_ARGS[*]:+ ${ORIG_ARGS[*]}}"

# ---------------------------------------------------------------- start everything
log "results in $RESULTS"
start_nginx mock mock.conf.in "$MOCK_PORT"
has_target nginx && start_nginx proxy proxy.conf.in "$PROXY_PORT"
has_target cairn && start_cairn cairn "$CAIRN_PORT" warn
has_target cairn-log && start_cairn cairn-log "$CAIRN_LOG_PORT" info
has_target litellm && start_litellm

# nginx's master forks the one worker that does the work: measure the worker.
pid_of() { case "$1" in direct) pgrep -P "${PID[mock]}" | head -1 ;; nginx) pgrep -P "${PID[proxy]}" | head -1 ;; *) echo "${PID[$1]}" ;; esac; }

# One request to each target must come back as a chat.completion before anything is timed.
for t in $TARGETS; do
  auth=()
  [ -n "${KEY[$t]:-}" ] && auth=(-H "Authorization: Bearer ${KEY[$t]}")
  body=$(curl -s -w '\n%{http_code}' "${auth[@]}" -H 'Content-Type: application/json' \
    -d '{"model":"bench","messages":[{"role":"user","content":"hi"}]}' "${URL[$t]}")
  code=${body##*$'\n'}
  [ "$code" = 200 ] && [[ "$body" == *'"chat.completion"'* ]] ||
    die "$t answered $code instead of a chat.completion: ${body:0:300}"
  printf '%s\n' "${body%$'\n'*}" >"$RESULTS/sample-$t.json"
done
log "every target answers a chat.completion"

sleep 1
for t in $TARGETS; do
  [ "$t" = direct ] && continue
  meta "rss_${t}_idle_kb" "$(rss_kb "$(pid_of "$t")" VmRSS)"
done

max_conc=$(tr ' ' '\n' <<<"$CONCS" | sort -n | tail -1)
run_wrk() { # target conc seconds outfile
  local threads=2
  [ "$2" -le 1 ] && threads=1
  BENCH_KEY=${KEY[$1]:-} wrk -t"$threads" -c"$2" -d"$3s" --timeout 30s --latency \
    -s "$HERE/chat.lua" "${URL[$1]}" >"$4"
}
for t in $TARGETS; do
  log "warming up $t ($WARMUP s at $max_conc connections)"
  run_wrk "$t" "$max_conc" "$WARMUP" "$WORK/warmup-$t.wrk"
done

# ---------------------------------------------------------------- the points
for round in $(seq "$ROUNDS"); do
  for t in $TARGETS; do
    for c in $CONCS; do
      meta "load_${t}_c${c}_r${round}" "$(cut -d' ' -f1-3 /proc/loadavg)"
      log "round $round: $t at $c connections, ${DURATION}s"
      pid=$(pid_of "$t")
      cpu0=$(cpu_ms "$pid")
      run_wrk "$t" "$c" "$DURATION" "$RESULTS/$t-c$c-r$round.wrk"
      # For direct this is the mock's own CPU; for the others, the gateway's alone.
      meta "cpu_${t}_c${c}_r${round}_ms" "$(($(cpu_ms "$pid") - cpu0))"
      [ "$t" = direct ] || meta "rss_${t}_c${c}_r${round}_kb" "$(rss_kb "$(pid_of "$t")" VmRSS)"
      sleep 1
    done
  done
done

for t in $TARGETS; do
  [ "$t" = direct ] && continue
  meta "rss_${t}_peak_kb" "$(rss_kb "$(pid_of "$t")" VmHWM)"
done

# Cairn's /metrics after the load: how long one scrape takes once the run's samples piled up.
for t in cairn cairn-log; do
  has_target "$t" || continue
  port=$CAIRN_PORT
  [ "$t" = cairn-log ] && port=$CAIRN_LOG_PORT
  meta "metrics_first_scrape_${t}" "$(curl -s -o /dev/null -w '%{time_total}s %{size_download}B' \
    -H "Authorization: Bearer ${KEY[$t]}" "http://127.0.0.1:$port/metrics")"
  meta "rss_${t}_after_scrape_kb" "$(rss_kb "${PID[$t]}" VmRSS)"
  meta "metrics_second_scrape_${t}" "$(curl -s -o /dev/null -w '%{time_total}s %{size_download}B' \
    -H "Authorization: Bearer ${KEY[$t]}" "http://127.0.0.1:$port/metrics")"
done

# Metering really ran: stop Cairn (it flushes on SIGTERM) and count the stored usage records.
for t in cairn cairn-log; do
  has_target "$t" || continue
  stop_one "${PID[$t]}"
  unset "PID[$t]"
  if command -v sqlite3 >/dev/null; then
    meta "usage_records_${t}" "$(sqlite3 "$WORK/$t/data/cairn.db" 'SELECT COUNT(*) FROM usage' 2>/dev/null ||
      ls "$WORK/$t/data")"
  fi
  [ -f "$WORK/$t.log" ] && meta "log_bytes_${t}" "$(stat -c %s "$WORK/$t.log")"
done

echo
python3 "$HERE/parse.py" "$RESULTS"
echo
log "raw results: $RESULTS"
