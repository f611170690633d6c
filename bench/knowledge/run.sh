#!/usr/bin/env bash
# Knowledge end to end, through Cairn's HTTP API: ingestion throughput (upload → parse →
# chunk → embed with all-MiniLM-L6-v2 on the embedded engine → index) and search latency
# p50/p99 once the index holds ~100k chunks.
#
#   bench/knowledge/run.sh [TARGET_CHUNKS] [THREADS]        # defaults: 100000 2
#   MAX_DOCS=500 bench/knowledge/run.sh 1                    # a quick look: 500 abstracts once
#
# The corpus is SciFact's (../shared/data/scifact-train), 100 abstracts per Markdown file,
# each abstract a section under its title. SciFact holds ~5k abstracts, so the corpus is
# ingested into several collections (the same content in another collection is another
# document) until the index holds TARGET_CHUNKS. Queries are SciFact's, over every
# collection. httpx goes into a virtualenv outside the repo ($CAIRN_BENCH_VENV).
set -euo pipefail
cd "$(dirname "$0")/../.."
target="${1:-100000}"; threads="${2:-2}"
venv="${CAIRN_BENCH_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/cairn/venv-bench}"
if [ ! -x "$venv/bin/python" ]; then python3 -m venv "$venv"; fi
"$venv/bin/python" -c "import httpx" 2>/dev/null || "$venv/bin/pip" install --quiet httpx
cargo build --release --locked -p cairn-server --bin cairn
cairn="${CARGO_TARGET_DIR:-target}/release/cairn"
"$cairn" models pull all-minilm-l6-v2

work=$(mktemp -d)
trap 'kill $(cat "$work/pid" 2>/dev/null) 2>/dev/null || true; rm -rf "$work"' EXIT
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
[knowledge]
embedding_model = "minilm"
TOML
export CAIRN_CONFIG="$work/cairn.toml" CAIRN_DATA_DIR="$work/data" CAIRN_LOG=warn
"$cairn" users create --email bench@localhost >/dev/null
key=$("$cairn" keys create --user bench@localhost 2>/dev/null)
"$cairn" serve --listen 127.0.0.1:0 --addr-file "$work/addr" > "$work/log" 2>&1 &
echo $! > "$work/pid"
for _ in $(seq 600); do
  [ -s "$work/addr" ] && curl -sf "http://$(cat "$work/addr")/readyz" >/dev/null && break
  sleep 0.2
done
"$venv/bin/python" bench/knowledge/drive.py "http://$(cat "$work/addr")" "$key" \
  ../shared/data/scifact-train "$target" "$work/files" "$(cat "$work/pid")"
