#!/usr/bin/env bash
# Retrieval benchmark: quality on SciFact (train split) and speed at ~100k chunks, with FAISS
# as the vector-index peer. Results are printed; BENCHMARKS.md ("Retrieval") records a run.
#
#   bench/retrieval/run.sh              # quality, then speed (+ FAISS)
#   bench/retrieval/run.sh quality      # or: speed
#
# Everything it needs goes outside the repo:
#   - a virtualenv with sentence-transformers, faiss-cpu and numpy ($CAIRN_BENCH_VENV, made and
#     filled with pip if missing or incomplete);
#   - all-MiniLM-L6-v2 in Cairn's model cache ($MODEL_DIR), pulled with `cairn models pull`
#     (the release `cairn` binary is built for that if the model is not installed yet);
#   - work files and an embedding cache ($WORK): vectors are cached per text, so only the
#     first run pays for embedding (about 110k texts).
# Knobs: DATA, MAX_TOKENS (quality chunk size), SPEED_CUTS / SPEED_CHUNKS (the speed set, see
# examples/retrieval_bench/speed.rs), ABLATE_CONTEXT=1 (also embed chunks without their title).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/cairn"
DATA="${DATA:-$ROOT/../shared/data/scifact-train}"
WORK="${WORK:-$CACHE/bench-retrieval}"
MODELS="${CAIRN_MODELS_DIR:-$CACHE/models}"
MODEL_DIR="${MODEL_DIR:-$MODELS/all-minilm-l6-v2}"
VENV="${CAIRN_BENCH_VENV:-$CACHE/venv-bench}"
MAX_TOKENS="${MAX_TOKENS:-256}"
SPEED_CUTS="${SPEED_CUTS:-256+title,16}"
SPEED_CHUNKS="${SPEED_CHUNKS:-100000}"
WHAT="${1:-all}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
mkdir -p "$WORK"

if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
if ! "$VENV/bin/python" -c 'import sentence_transformers, faiss, numpy' 2>/dev/null; then
  "$VENV/bin/pip" install --quiet sentence-transformers faiss-cpu numpy
fi
PY="$VENV/bin/python"

if [ ! -f "$MODEL_DIR/config.json" ]; then
  cairn="${CAIRN_BIN:-$CARGO_TARGET_DIR/release/cairn}"
  if [ ! -x "$cairn" ]; then
    (cd "$ROOT" && cargo build --release --locked -p cairn-server --bin cairn)
  fi
  CAIRN_MODELS_DIR="$MODELS" "$cairn" models pull all-minilm-l6-v2
fi

(cd "$ROOT" && cargo build --release -p cairn-index --example retrieval_bench)
BENCH="$CARGO_TARGET_DIR/release/examples/retrieval_bench"
echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'); cairn $(git -C "$ROOT" rev-parse --short HEAD)"

embed() { # $1 = texts file, $2 = vectors file
  HF_HUB_OFFLINE=1 "$PY" "$ROOT/bench/retrieval/embed.py" --model "$MODEL_DIR" --cache "$WORK/cache" \
    --input "$1" --output "$2"
}

if [ "$WHAT" = all ] || [ "$WHAT" = quality ]; then
  echo "## quality: BM25 alone, chunks of $MAX_TOKENS tokens and whole abstracts"
  "$BENCH" quality --data "$DATA" --max-tokens "$MAX_TOKENS"
  "$BENCH" quality --data "$DATA" --max-tokens 100000

  echo "## quality: chunks embedded with their heading path (title) as context"
  "$BENCH" texts --data "$DATA" --max-tokens "$MAX_TOKENS" --context true --out "$WORK/texts-ctx.jsonl" >/dev/null
  embed "$WORK/texts-ctx.jsonl" "$WORK/vectors-ctx.f32"
  "$BENCH" quality --data "$DATA" --max-tokens "$MAX_TOKENS" --vectors "$WORK/vectors-ctx.f32" --json "$WORK/quality-ctx.json"

  if [ "${ABLATE_CONTEXT:-0}" = "1" ]; then
    echo "## quality: chunks embedded without context"
    "$BENCH" texts --data "$DATA" --max-tokens "$MAX_TOKENS" --context false --out "$WORK/texts-plain.jsonl" >/dev/null
    embed "$WORK/texts-plain.jsonl" "$WORK/vectors-plain.f32"
    "$BENCH" quality --data "$DATA" --max-tokens "$MAX_TOKENS" --vectors "$WORK/vectors-plain.f32" --json "$WORK/quality-plain.json"
  fi
fi

if [ "$WHAT" = all ] || [ "$WHAT" = speed ]; then
  echo "## speed at $SPEED_CHUNKS chunks (Cairn)"
  "$BENCH" speed-texts --data "$DATA" --cuts "$SPEED_CUTS" --chunks "$SPEED_CHUNKS" --out "$WORK/texts-speed.jsonl" >/dev/null
  embed "$WORK/texts-speed.jsonl" "$WORK/vectors-speed.f32"
  "$BENCH" speed --data "$DATA" --cuts "$SPEED_CUTS" --chunks "$SPEED_CHUNKS" --vectors "$WORK/vectors-speed.f32" --out "$WORK/speed"

  echo "## vector index peer (FAISS)"
  # OpenBLAS tuning variables slow current builds; FAISS's HNSW does not use BLAS, its exact check does.
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$PY" "$ROOT/bench/retrieval/faiss_hnsw.py" "$WORK/speed"
fi
