"""Drives bench/knowledge/run.sh: ingest SciFact through the HTTP API until the index holds
the target number of chunks, then time searches. Prints a Markdown table."""

import json
import statistics
import sys
import time
from pathlib import Path

import os

import httpx

BASE, KEY, DATA, TARGET, FILES, PID = sys.argv[1], sys.argv[2], Path(sys.argv[3]), int(sys.argv[4]), Path(sys.argv[5]), sys.argv[6]
AUTH = {"Authorization": "Bearer " + KEY}
PER_FILE = 100


def corpus_files():
    FILES.mkdir(parents=True, exist_ok=True)
    docs = [json.loads(line) for line in open(DATA / "corpus.jsonl")]
    # MAX_DOCS: a smaller corpus, for a quick look at ingestion throughput.
    docs = docs[: int(os.environ.get("MAX_DOCS", len(docs)))]
    paths = []
    for start in range(0, len(docs), PER_FILE):
        body = "".join(
            f"## {d.get('title') or d['_id']}\n\n{d['text']}\n\n" for d in docs[start:start + PER_FILE]
        )
        path = FILES / f"scifact-{start // PER_FILE:03d}.md"
        path.write_text(f"# SciFact part {start // PER_FILE}\n\n{body}")
        paths.append(path)
    return paths, len(docs)


def rss_mib():
    for line in open(f"/proc/{PID}/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1]) / 1024
    return 0.0


def ingest(client, paths, copy):
    collection = client.post("/api/collections", json={"name": f"scifact-{copy}"}).json()["id"]
    started = time.perf_counter()
    ids = []
    for path in paths:
        r = client.post("/api/documents", data={"collection_id": collection},
                        files={"file": (path.name, path.read_bytes(), "text/markdown")})
        r.raise_for_status()
        ids.append(r.json()["data"][0]["document"]["id"])
    uploaded = time.perf_counter() - started
    while True:
        docs = [client.get(f"/api/documents/{i}").json() for i in ids]
        if all(d["status"] in ("indexed", "failed") for d in docs):
            break
        time.sleep(0.5)
    elapsed = time.perf_counter() - started
    failed = [d for d in docs if d["status"] == "failed"]
    if failed:
        sys.exit(f"ingestion failed: {failed[0]}")
    chunks = sum(d["chunks_total"] for d in docs)
    return chunks, elapsed, uploaded


def latencies(client, queries, mode):
    times = []
    for q in queries:
        t = time.perf_counter()
        r = client.post("/api/search", json={"query": q, "k": 10, "mode": mode})
        r.raise_for_status()
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.99) - 1], len(times)


def main():
    paths, n_docs = corpus_files()
    with httpx.Client(base_url=BASE, headers=AUTH, timeout=600) as client:
        total, copy, rows = 0, 0, []
        all_started = time.perf_counter()
        while total < TARGET:
            chunks, elapsed, uploaded = ingest(client, paths, copy)
            total += chunks
            rows.append((copy, chunks, elapsed, uploaded))
            print(f"copy {copy}: {chunks} chunks in {elapsed:.1f} s ({chunks / elapsed:.0f} chunks/s), "
                  f"{total} in the index, RSS {rss_mib():.0f} MiB", file=sys.stderr)
            copy += 1
        all_elapsed = time.perf_counter() - all_started
        queries = [json.loads(line)["text"] for line in open(DATA / "queries.jsonl")][:500]
        client.post("/api/search", json={"query": "warm up", "k": 10})
        search = {mode: latencies(client, queries, mode) for mode in ("bm25", "dense", "hybrid")}
    print(f"\nCorpus: {n_docs} SciFact abstracts in {len(paths)} Markdown files, ingested {copy} times.\n")
    print("| measure | value |")
    print("|---|---|")
    print(f"| chunks in the index | {total} |")
    first = rows[0]
    print(f"| first copy: chunks/s end to end (upload → indexed) | {first[1] / first[2]:.0f} ({first[1]} chunks in {first[2]:.1f} s) |")
    print(f"| all copies: chunks/s end to end | {total / all_elapsed:.0f} ({all_elapsed:.0f} s) |")
    print(f"| server RSS at the end | {rss_mib():.0f} MiB |")
    for mode, (p50, p99, n) in search.items():
        print(f"| search `{mode}`, k=10, {n} queries one at a time: p50 / p99 | {p50:.1f} ms / {p99:.1f} ms |")


main()
