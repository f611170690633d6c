"""How llama.cpp's decode step time grows with the number of sequences in the batch.

Continuous batching can only turn B concurrent streams into B times the tokens per second if
one decode step over B sequences costs about what a step over one costs, which holds while a
step is bound by reading the weights from memory. This measures it on llama.cpp itself
(llama-cpp-python's low-level API, no server): every sequence gets the same ~100-token
prompt, then 32 decode steps are timed with 1, 2, 4 and 8 sequences in the batch.

    python bench/engine/batch_scaling.py MODEL.gguf [THREADS]

Prints one JSON line per batch size: median step ms, tokens/s, and the speed-up over one
sequence (tokens/s at B ÷ tokens/s at 1). Run it with the llama-cpp-python that
bench/engine/run.sh installs.
"""

import json
import statistics
import sys
import time

import llama_cpp

PROMPT_TOKENS = 100
STEPS = 32
SIZES = (1, 2, 4, 8)


def main():
    path = sys.argv[1]
    threads = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    llama_cpp.llama_backend_init()
    model = llama_cpp.llama_model_load_from_file(path.encode(), llama_cpp.llama_model_default_params())
    params = llama_cpp.llama_context_default_params()
    params.n_ctx = 8 * (PROMPT_TOKENS + STEPS + 8)
    params.n_batch = 8 * PROMPT_TOKENS
    params.n_ubatch = 512
    params.n_seq_max = 8
    params.n_threads = threads
    params.n_threads_batch = threads
    ctx = llama_cpp.llama_init_from_model(model, params)
    vocab = llama_cpp.llama_model_get_vocab(model)
    batch = llama_cpp.llama_batch_init(8 * PROMPT_TOKENS, 0, 8)

    def decode(items):
        """items: (token, position, sequence) triples; logits for every item."""
        batch.n_tokens = len(items)
        for i, (token, pos, seq) in enumerate(items):
            batch.token[i] = token
            batch.pos[i] = pos
            batch.n_seq_id[i] = 1
            batch.seq_id[i][0] = seq
            batch.logits[i] = True
        if llama_cpp.llama_decode(ctx, batch) != 0:
            raise SystemExit("llama_decode failed")

    text = b"Tell me a long story about a lighthouse keeper and the sea. " * 20
    tokens = (llama_cpp.llama_token * 4096)()
    n = llama_cpp.llama_tokenize(vocab, text, len(text), tokens, 4096, True, False)
    prompt = list(tokens[: min(n, PROMPT_TOKENS)])
    filler = prompt[5]  # any ordinary token: the step's cost does not depend on which

    base = None
    for size in SIZES:
        llama_cpp.llama_memory_clear(llama_cpp.llama_get_memory(ctx), True)
        for seq in range(size):
            decode([(t, p, seq) for p, t in enumerate(prompt)])
        times = []
        for step in range(STEPS):
            started = time.perf_counter()
            decode([(filler, len(prompt) + step, seq) for seq in range(size)])
            times.append(time.perf_counter() - started)
        step_ms = statistics.median(times) * 1000
        tokens_per_s = size / (step_ms / 1000)
        base = base or tokens_per_s
        print(json.dumps({
            "model": path.rsplit("/", 1)[-1],
            "threads": threads,
            "sequences": size,
            "step_ms": round(step_ms, 2),
            "tokens_per_s": round(tokens_per_s, 1),
            "speedup": round(tokens_per_s / base, 2),
        }), flush=True)


if __name__ == "__main__":
    main()
