#!/usr/bin/env bash
# Local inference, Cairn's embedded engine against llama.cpp's own server, in one run, on the
# same GGUF files and thread count, through the same HTTP client (loadgen.py).
#
#   bench/engine/run.sh [small medium large]      # default: all three
#   REPEAT=3 MAX_TOKENS=128 bench/engine/run.sh small
#
# Installs llama-cpp-python[server] (builds llama.cpp: ~10 min the first time) and httpx into
# a virtualenv outside the repo, builds cairn in release, pulls the models, and prints a
# Markdown table; raw results go to $RESULTS (default: a temp dir).
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
models=("${@:-small medium large}")
read -r -a models <<< "${models[*]}"
REPEAT="${REPEAT:-3}"
MAX_TOKENS="${MAX_TOKENS:-128}"
THREADS="${THREADS:-2}"
RESULTS="${RESULTS:-$(mktemp -d)}"
venv="${CAIRN_BENCH_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/cairn/venv-bench}"

declare -A target=([small]=smollm2-135m [medium]=qwen2.5-coder-0.5b [large]=qwen2.5-coder-1.5b)

if [ ! -x "$venv/bin/python" ]; then python3 -m venv "$venv"; fi
if ! "$venv/bin/python" -c "import llama_cpp, httpx, uvicorn" 2>/dev/null; then
  command -v cmake >/dev/null || { apt-get update -qq && apt-get install -y -qq cmake; }
  "$venv/bin/pip" install --quiet 'llama-cpp-python[server]' httpx
fi
cargo build --release --locked -p cairn-server --bin cairn
cairn="$repo/target/release/cairn"
for m in "${models[@]}"; do "$cairn" models pull "${target[$m]}"; done

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

wait_http() { for _ in $(seq 600); do curl -sf "$1" >/dev/null && return 0; sleep 0.2; done; echo "no answer from $1" >&2; return 1; }

points() { # name base_url model key
  for prompt in 100 500; do
    for streams in 1 4 8; do
      [ "$prompt" = 500 ] && [ "$streams" != 1 ] && continue
      for r in $(seq "$REPEAT"); do
        "$venv/bin/python" bench/engine/loadgen.py "$2" "$3" --key "$4" --prompt-tokens "$prompt" \
          --max-tokens "$MAX_TOKENS" --streams "$streams" \
          | sed "s/^{/{\"server\": \"$1\", \"model\": \"$3\", \"repeat\": $r, /" >> "$RESULTS/points.jsonl"
      done
    done
  done
}

for m in "${models[@]}"; do
  gguf=$("$cairn" models list | awk -v n="${target[$m]}" '$1==n {found=1} found && $1=="path" {print $2; exit}')
  port=$((20000 + RANDOM % 20000))
  "$venv/bin/python" -m llama_cpp.server --model "$gguf" --n_threads "$THREADS" --n_ctx 4096 \
    --host 127.0.0.1 --port "$port" --interrupt_requests False > "$RESULTS/llama-$m.log" 2>&1 &
  pids+=($!)
  wait_http "http://127.0.0.1:$port/v1/models"
  points llama.cpp "http://127.0.0.1:$port/v1" "$m" none
  kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true

  data=$(mktemp -d)
  "$cairn" --data-dir "$data" users create --email bench@localhost --tier pro >/dev/null
  key=$("$cairn" --data-dir "$data" keys create --user bench@localhost 2>/dev/null)
  CAIRN_LOG=warn CAIRN__PROVIDERS__LOCAL__THREADS="$THREADS" CAIRN__PROVIDERS__LOCAL__MAX_SEQUENCES=8 "$cairn" --data-dir "$data" serve \
    --listen 127.0.0.1:0 --addr-file "$data/addr" > "$RESULTS/cairn-$m.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 600); do [ -s "$data/addr" ] && break; sleep 0.2; done
  base="http://$(cat "$data/addr")"
  wait_http "$base/readyz"
  points cairn "$base/v1" "$m" "$key"
  grep VmHWM "/proc/${pids[-1]}/status" | sed "s/^/cairn $m peak RSS: /" >> "$RESULTS/rss.txt"
  kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true
done

"$venv/bin/python" bench/engine/summarize.py "$RESULTS/points.jsonl"
cat "$RESULTS/rss.txt" 2>/dev/null || true
echo "raw results: $RESULTS"
