#!/usr/bin/env bash
# The article writer, stage by stage, with the local models: one article per chat model
# through Cairn's HTTP API (`POST /api/articles`), timing and token counts of every stage as
# the server recorded them, plus the whole wall-clock time.
#
#   bench/writer/run.sh [MODELS] [THREADS]     # defaults: "small medium large" 2
#
# Each article: 4 sections of ~150 words, blog mode, no collections (grounding is measured
# by bench/knowledge). httpx goes into a virtualenv outside the repo ($CAIRN_BENCH_VENV).
set -euo pipefail
cd "$(dirname "$0")/../.."
models="${1:-small medium large}"; threads="${2:-2}"
venv="${CAIRN_BENCH_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/cairn/venv-bench}"
if [ ! -x "$venv/bin/python" ]; then python3 -m venv "$venv"; fi
"$venv/bin/python" -c "import httpx" 2>/dev/null || "$venv/bin/pip" install --quiet httpx
cargo build --release --locked -p cairn-server --bin cairn
cairn="${CARGO_TARGET_DIR:-target}/release/cairn"
pull=(all-minilm-l6-v2)
for m in $models; do
  case "$m" in
    small) pull+=(smollm2-135m) ;;
    medium) pull+=(qwen2.5-coder-0.5b) ;;
    large) pull+=(qwen2.5-coder-1.5b) ;;
    *) echo "unknown model $m (small, medium or large)" >&2; exit 1 ;;
  esac
done
"$cairn" models pull "${pull[@]}"

work=$(mktemp -d)
trap 'kill $(cat "$work/pid" 2>/dev/null) 2>/dev/null || true; rm -rf "$work"' EXIT
cat > "$work/cairn.toml" <<TOML
default_tier = "bench"
[providers.local]
kind = "local"
threads = $threads
max_sequences = 4
context_tokens = 4096
[models.small]
provider = "local"
target = "smollm2-135m"
[models.medium]
provider = "local"
target = "qwen2.5-coder-0.5b"
[models.large]
provider = "local"
target = "qwen2.5-coder-1.5b"
[models.minilm]
provider = "local"
target = "all-minilm-l6-v2"
kind = "embedding"
[tiers.bench]
models = ["small", "medium", "large", "minilm"]
default_model = "medium"
requests_per_minute = 1000000
tokens_per_minute = 1000000000
[knowledge]
embedding_model = "minilm"
TOML
export CAIRN_CONFIG="$work/cairn.toml" CAIRN_DATA_DIR="$work/data" CAIRN_LOG=warn
"$cairn" users create --email bench@localhost >/dev/null
key=$("$cairn" keys create --user bench@localhost 2>/dev/null)
"$cairn" serve --listen 127.0.0.1:0 --addr-file "$work/addr" > "$work/log" 2>&1 &
echo $! > "$work/pid"
for _ in $(seq 600); do
  [ -s "$work/addr" ] && curl -sf "http://$(cat "$work/addr")/readyz" | grep -q '"knowledge":"ready"' && break
  sleep 0.2
done
"$venv/bin/python" bench/writer/drive.py "http://$(cat "$work/addr")" "$key" $models
