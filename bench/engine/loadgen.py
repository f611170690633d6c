"""Streams chat completions from an OpenAI-compatible server and measures what a user feels.

For each of N concurrent streams: time to first token, prefill rate (prompt tokens / TTFT),
decode rate (tokens after the first / time from first to last token). Aggregate decode rate
is all completion tokens over the wall time of the run. Prints one JSON object.

Usage: loadgen.py BASE_URL MODEL --prompt-tokens 100 --max-tokens 128 --streams 4 [--key K]
"""

import argparse
import json
import secrets
import statistics
import threading
import time

import httpx

WORDS = ("the quick brown fox jumps over the lazy dog while seven tired engineers measure "
         "tokens per second on a small machine with two cores and plenty of memory").split()


def prompt_of(tokens, salt):
    # About 1.3 tokens a word for these common words; the server reports the real count. A
    # random tag opens every prompt, so no request reuses another's cached prefix (both
    # servers keep one): prefill is measured, not skipped.
    words = [WORDS[(i * 7 + salt) % len(WORDS)] for i in range(int(tokens / 1.3))]
    return f"Request {secrets.token_hex(4)}-{salt}. Summarise this text in many words: " + " ".join(words)


def one_stream(base_url, key, model, prompt, max_tokens, ban, out):
    body = {
        "model": model,
        "messages": [{"role": "user", "content": prompt}],
        "max_tokens": max_tokens,
        # End-of-turn tokens banned: every answer runs to max_tokens on both servers, so
        # aggregate rates compare the same work.
        "logit_bias": {str(t): -100 for t in ban},
        "temperature": 0,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    headers = {"authorization": f"Bearer {key}"}
    start = time.perf_counter()
    first = last = None
    usage = None
    pieces = 0
    with httpx.Client(timeout=600) as client:
        with client.stream("POST", f"{base_url}/chat/completions", json=body, headers=headers) as r:
            r.raise_for_status()
            for line in r.iter_lines():
                if not line.startswith("data: ") or line == "data: [DONE]":
                    continue
                chunk = json.loads(line[6:])
                if chunk.get("usage"):
                    usage = chunk["usage"]
                for choice in chunk.get("choices", []):
                    if (choice.get("delta") or {}).get("content"):
                        now = time.perf_counter()
                        first = first or now
                        last = now
                        pieces += 1
    end = time.perf_counter()
    completion = usage["completion_tokens"] if usage else pieces
    prompt_tokens = usage["prompt_tokens"] if usage else None
    out.append({
        "ttft_s": (first or end) - start,
        "decode_s": (last or end) - (first or end),
        "completion_tokens": completion,
        "prompt_tokens": prompt_tokens,
        "start": start,
        "end": end,
    })


def main():
    p = argparse.ArgumentParser()
    p.add_argument("base_url")
    p.add_argument("model")
    p.add_argument("--key", default="none")
    p.add_argument("--prompt-tokens", type=int, default=100)
    p.add_argument("--max-tokens", type=int, default=128)
    p.add_argument("--streams", type=int, default=1)
    p.add_argument("--ban", type=int, nargs="*", default=[], help="token ids never to sample (end of turn)")
    a = p.parse_args()
    results = []
    threads = [
        threading.Thread(target=one_stream,
                         args=(a.base_url, a.key, a.model, prompt_of(a.prompt_tokens, i), a.max_tokens, a.ban, results))
        for i in range(a.streams)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = max(r["end"] for r in results) - min(r["start"] for r in results)
    total_completion = sum(r["completion_tokens"] for r in results)
    decode_rates = [(r["completion_tokens"] - 1) / r["decode_s"] for r in results if r["decode_s"] > 0]
    prefill_rates = [r["prompt_tokens"] / r["ttft_s"] for r in results if r["prompt_tokens"]]
    print(json.dumps({
        "streams": a.streams,
        "prompt_target": a.prompt_tokens,
        "prompt_tokens": statistics.median([r["prompt_tokens"] or 0 for r in results]),
        "ttft_ms_p50": 1000 * statistics.median(r["ttft_s"] for r in results),
        "prefill_tok_s": statistics.median(prefill_rates) if prefill_rates else None,
        "decode_tok_s_per_stream": statistics.median(decode_rates) if decode_rates else None,
        "aggregate_tok_s": total_completion / wall,
        "completion_tokens": total_completion,
        "wall_s": wall,
    }))


if __name__ == "__main__":
    main()
