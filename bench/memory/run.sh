#!/usr/bin/env bash
# Memory precision: 40 labelled user turns (turns.json) through Cairn's memory extraction with
# patterns alone, each local model alone, and both; prints the table BENCHMARKS.md reports.
# Needs the local models in the model cache (`cairn models pull smollm2-135m
# qwen2.5-coder-0.5b all-minilm-l6-v2`). MEMORY_EVAL_ONLY=<part of a name> runs one variant.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo test -p cairn-server --test it -- --ignored --exact memory_eval::memory_precision --nocapture
