#!/usr/bin/env bash
# Local inference, Cairn's embedded engine against llama.cpp's own server, in one run, on the
# same GGUF files and thread count, through the same HTTP client (loadgen.py).
#
#   bench/engine/run.sh [small medium large]      # default: all three
#   REPEAT=3 MAX_TOKENS=128 bench/engine/run.sh small
#
# Installs llama-cpp-python[server] (builds llama.cpp: ~10 min the first time) and httpx into
# a virtualenv outside the repo, builds cairn in release, pulls the models, and prints a
# Markdown table; raw results go to $RESULTS (default: a temp dir). On x86_64 the peer's
# llama.cpp is built for x86-64-v3 (AVX2, FMA, F16C), the instruction set Cairn's build
# targets (.cargo/config.toml), so both run the same kernels.
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
# End-of-turn token ids (SmolLM2: <|endoftext|> <|im_end|>; Qwen2.5: <|endoftext|> <|im_end|>).
declare -A eos=([small]="0 2" [medium]="151643 151645" [large]="151643 151645")

if [ ! -x "$venv/bin/python" ]; then python3 -m venv "$venv"; fi
if ! "$venv/bin/python" -c "import llama_cpp, httpx, uvicorn" 2>/dev/null; then
  command -v cmake >/dev/null || { apt-get update -qq && apt-get install -y -qq cmake; }
  if [ "$(uname -m)" = x86_64 ]; then
    export CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON \
      -DGGML_BMI2=ON -DCMAKE_C_FLAGS=-march=x86-64-v3 -DCMAKE_CXX_FLAGS=-march=x86-64-v3"
  fi
  "$venv/bin/pip" install --quiet 'llama-cpp-python[server]==0.3.36' httpx
fi
cargo build --release --locked -p cairn-server --bin cairn
cairn="${CARGO_TARGET_DIR:-$repo/target}/release/cairn"
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
          --max-tokens "$MAX_TOKENS" --streams "$streams" --ban ${eos[$3]} \
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

  # Cairn with this model alone, so its peak RSS is this model's.
  data=$(mktemp -d)
  cat > "$data/cairn.toml" <<TOML
default_tier = "bench"
[providers.local]
kind = "local"
threads = $THREADS
max_sequences = 8
context_tokens = 4096
[models.$m]
provider = "local"
target = "${target[$m]}"
[tiers.bench]
models = ["$m"]
default_model = "$m"
requests_per_minute = 1000000
tokens_per_minute = 1000000000
TOML
  export CAIRN_CONFIG="$data/cairn.toml"
  "$cairn" --data-dir "$data" users create --email bench@localhost >/dev/null
  key=$("$cairn" --data-dir "$data" keys create --user bench@localhost 2>/dev/null)
  CAIRN_LOG=warn "$cairn" --data-dir "$data" serve \
    --listen 127.0.0.1:0 --addr-file "$data/addr" > "$RESULTS/cairn-$m.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 600); do [ -s "$data/addr" ] && break; sleep 0.2; done
  base="http://$(cat "$data/addr")"
  wait_http "$base/readyz"
  points cairn "$base/v1" "$m" "$key"
  grep VmHWM "/proc/${pids[-1]}/status" | sed "s/^/cairn $m peak RSS: /" >> "$RESULTS/rss.txt"
  kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true
  unset CAIRN_CONFIG
done

# Idle footprint: `cairn serve` with no local model loaded (one upstream model, never called).
data=$(mktemp -d)
cat > "$data/cairn.toml" <<TOML
default_tier = "bench"
[providers.up]
kind = "openai"
base_url = "http://127.0.0.1:9/v1"
[models.up]
provider = "up"
target = "up"
[tiers.bench]
models = ["up"]
default_model = "up"
requests_per_minute = 60
tokens_per_minute = 60000
TOML
CAIRN_CONFIG="$data/cairn.toml" CAIRN_LOG=warn "$cairn" --data-dir "$data" serve \
  --listen 127.0.0.1:0 --addr-file "$data/addr" > "$RESULTS/cairn-idle.log" 2>&1 &
pids+=($!)
for _ in $(seq 600); do [ -s "$data/addr" ] && break; sleep 0.2; done
wait_http "http://$(cat "$data/addr")/readyz"
sleep 2
grep VmRSS "/proc/${pids[-1]}/status" | sed "s/^/cairn idle, no model loaded: /" >> "$RESULTS/rss.txt"

# The memory-bandwidth ceiling the decode rates are a fraction of.
gcc -O3 -march=native -fopenmp bench/engine/bandwidth.c -o "$RESULTS/bandwidth"
"$RESULTS/bandwidth" "$THREADS" | tee "$RESULTS/bandwidth.txt"

"$venv/bin/python" bench/engine/summarize.py "$RESULTS/points.jsonl"
cat "$RESULTS/rss.txt" 2>/dev/null || true
echo "raw results: $RESULTS"
