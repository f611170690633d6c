#!/usr/bin/env bash
# Sentence embeddings: Cairn's embedder (all-MiniLM-L6-v2 on llama.cpp), measured through
# its HTTP API, against sentence-transformers in-process on the same texts, batch size and
# thread count, alternating, in one run.
#
#   bench/embeddings/run.sh [N_TEXTS] [BATCH] [THREADS]      # defaults: 1024 32 2
#
# Texts are SciFact abstracts (../shared/data/scifact-train), cut at 256 tokens by both.
# sentence-transformers and httpx go into a virtualenv outside the repo ($CAIRN_BENCH_VENV).
set -euo pipefail
cd "$(dirname "$0")/../.."
n="${1:-1024}"; batch="${2:-32}"; threads="${3:-2}"
venv="${CAIRN_BENCH_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/cairn/venv-bench}"
if [ ! -x "$venv/bin/python" ]; then python3 -m venv "$venv"; fi
"$venv/bin/python" -c "import sentence_transformers, httpx" 2>/dev/null || "$venv/bin/pip" install --quiet sentence-transformers httpx
cargo build --release --locked -p cairn-server --bin cairn
cairn="${CARGO_TARGET_DIR:-target}/release/cairn"
"$cairn" models pull all-minilm-l6-v2
model_dir=$("$cairn" models list | awk '$1=="all-minilm-l6-v2" {found=1} found && $1=="path" {print $2; exit}')

work=$(mktemp -d)
trap 'kill $(cat "$work/pid" 2>/dev/null) 2>/dev/null || true; rm -rf "$work"' EXIT
python3 -c "
import json
for i, line in enumerate(open('../shared/data/scifact-train/corpus.jsonl')):
    if i >= $n: break
    doc = json.loads(line)
    print((doc.get('title', '') + ' ' + doc['text']).replace('\n', ' '))
" > "$work/texts"
cat > "$work/cairn.toml" <<TOML
default_tier = "bench"
[providers.local]
kind = "local"
threads = $threads
[models.minilm]
provider = "local"
target = "all-minilm-l6-v2"
kind = "embedding"
[tiers.bench]
models = ["minilm"]
default_model = "minilm"
requests_per_minute = 1000000
tokens_per_minute = 1000000000
TOML
export CAIRN_CONFIG="$work/cairn.toml" CAIRN_DATA_DIR="$work/data" CAIRN_LOG=warn
"$cairn" users create --email bench@localhost >/dev/null
key=$("$cairn" keys create --user bench@localhost 2>/dev/null)
"$cairn" serve --listen 127.0.0.1:0 --addr-file "$work/addr" > "$work/log" 2>&1 &
echo $! > "$work/pid"
for _ in $(seq 600); do [ -s "$work/addr" ] && curl -sf "http://$(cat "$work/addr")/readyz" >/dev/null && break; sleep 0.2; done
for round in 1 2 3; do
  "$venv/bin/python" bench/embeddings/cairn_speed.py "http://$(cat "$work/addr")" "$key" "$work/texts" "$batch"
  "$venv/bin/python" bench/embeddings/st_speed.py "$model_dir" "$work/texts" "$batch" "$threads"
done
