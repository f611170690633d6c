"""Turns loadgen results into a Markdown table: medians over repeats, Cairn beside llama.cpp."""

import collections
import json
import statistics
import sys

rows = [json.loads(line) for line in open(sys.argv[1])]
groups = collections.defaultdict(list)
for r in rows:
    groups[(r["model"], r["prompt_tokens"] > 300, r["streams"], r["server"])].append(r)


def med(rs, key):
    values = [r[key] for r in rs if r.get(key) is not None]
    return statistics.median(values) if values else float("nan")


print("| model | prompt | streams | server | TTFT p50 ms | prefill tok/s | decode tok/s per stream | aggregate tok/s | Cairn / llama.cpp (aggregate) |")
print("|---|---|---|---|---|---|---|---|---|")
for (model, long_prompt, streams, server) in sorted(groups):
    rs = groups[(model, long_prompt, streams, server)]
    peer = groups.get((model, long_prompt, streams, "llama.cpp"))
    ratio = ""
    if server == "cairn" and peer:
        ratio = f"{med(rs, 'aggregate_tok_s') / med(peer, 'aggregate_tok_s'):.2f}x"
    print(f"| {model} | {int(med(rs, 'prompt_tokens'))} | {streams} | {server} | {med(rs, 'ttft_ms_p50'):.0f} | "
          f"{med(rs, 'prefill_tok_s'):.0f} | {med(rs, 'decode_tok_s_per_stream'):.1f} | {med(rs, 'aggregate_tok_s'):.1f} | {ratio} |")
