"""Turns loadgen results into a Markdown table: medians over repeats, Cairn beside llama.cpp.

llama_cpp.server reports no usage when streaming, so its prompt sizes are Cairn's for the
same model and prompt (same GGUF, same chat template, prompts built the same way), and
prefill rates (prompt tokens / time to first token) are shown for single streams only: with
several, the time to first token includes waiting for a turn.
"""

import collections
import json
import statistics
import sys

rows = [json.loads(line) for line in open(sys.argv[1])]
groups = collections.defaultdict(list)
for r in rows:
    groups[(r["model"], r["prompt_target"], r["streams"], r["server"])].append(r)


def med(rs, key):
    values = [r[key] for r in rs if r.get(key) is not None]
    return statistics.median(values) if values else float("nan")


print("| model | prompt tokens | streams | server | TTFT p50 ms | prefill tok/s | decode tok/s per stream | aggregate tok/s | Cairn / llama.cpp (aggregate) |")
print("|---|---|---|---|---|---|---|---|---|")
order = {"small": 0, "medium": 1, "large": 2}
for (model, target, streams, server) in sorted(groups, key=lambda k: (order.get(k[0], 9), k[1], k[2], k[3])):
    rs = groups[(model, target, streams, server)]
    prompt = med(groups.get((model, target, 1, "cairn"), rs), "prompt_tokens")
    ttft = med(rs, "ttft_ms_p50")
    prefill = f"{prompt / (ttft / 1000):.0f}" if streams == 1 and prompt == prompt else ""
    peer = groups.get((model, target, streams, "llama.cpp"))
    ratio = ""
    if server == "cairn" and peer:
        ratio = f"{med(rs, 'aggregate_tok_s') / med(peer, 'aggregate_tok_s'):.2f}x"
    print(f"| {model} | {prompt:.0f} | {streams} | {server} | {ttft:.0f} | {prefill} | "
          f"{med(rs, 'decode_tok_s_per_stream'):.1f} | {med(rs, 'aggregate_tok_s'):.1f} | {ratio} |")
