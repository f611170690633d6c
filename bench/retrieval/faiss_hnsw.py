#!/usr/bin/env python3
"""The FAISS peer for the vector index: IndexHNSWFlat (inner product) on the same vectors the
Rust runner indexed, with the same M, efConstruction and efSearch values (DIR/params.json),
the same ground truth (exact top-10 computed by the Rust runner, DIR/truth.f32) and the same
thread counts.

Reads DIR/base.f32, DIR/queries.f32, DIR/truth.f32 and DIR/params.json (written by
`retrieval_bench speed`); writes DIR/faiss.json.

Query throughput is measured three ways: one query per call on one thread (as a server
answers them; includes Python's per-call overhead of a few microseconds), all queries in one
call on one thread (no Python overhead), and all queries in one call on two threads (FAISS
splits the batch across OpenMP threads, like the Rust runner's two threads).
"""
import json
import sys
import time

import faiss
import numpy as np


def best_of(reps, fn):
    best = float("inf")
    out = None
    for _ in range(reps):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def build(base, dims, m, ef_construction, threads):
    faiss.omp_set_num_threads(threads)
    index = faiss.IndexHNSWFlat(dims, m, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = ef_construction
    t = time.perf_counter()
    index.add(base)
    return index, time.perf_counter() - t


def main():
    out = sys.argv[1]
    params = json.load(open(f"{out}/params.json"))
    m, ef_construction = params["m"], params["ef_construction"]
    dims = 384
    base = np.fromfile(f"{out}/base.f32", dtype="<f4").reshape(-1, dims)
    queries = np.fromfile(f"{out}/queries.f32", dtype="<f4").reshape(-1, dims)
    truth = np.fromfile(f"{out}/truth.f32", dtype="<f4").astype(np.int64).reshape(-1, 10)
    faiss.omp_set_num_threads(1)

    # Sanity: FAISS's exact search agrees with the Rust ground truth.
    flat = faiss.IndexFlatIP(dims)
    flat.add(base)
    _, exact = flat.search(queries, 10)
    agree = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(exact, truth)])
    results = {"faiss_version": faiss.__version__, "vectors": len(base), "queries": len(queries)}
    print(f"faiss {faiss.__version__}: {len(base)} vectors, {len(queries)} queries; "
          f"exact search agrees with the Rust ground truth on {agree:.4} of the top 10")

    index2, build2_s = build(base, dims, m, ef_construction, 2)
    del index2
    index, build_s = build(base, dims, m, ef_construction, 1)
    print(f"HNSW build (M={m}, efConstruction={ef_construction}): {build_s:.1f} s on 1 thread, "
          f"{build2_s:.1f} s on 2 threads")
    results.update({"hnsw_build_s": build_s, "hnsw_build_s_2_threads": build2_s})

    print("| efSearch | recall@10 | queries/s, 1 thread, one per call | 1 thread, batched | 2 threads, batched |")
    print("|---:|---:|---:|---:|---:|")
    for ef in params["ef_search"]:
        index.hnsw.efSearch = ef
        faiss.omp_set_num_threads(1)
        single_s, got = best_of(3, lambda: [index.search(queries[i : i + 1], 10)[1][0] for i in range(len(queries))])
        batch1_s, _ = best_of(3, lambda: index.search(queries, 10))
        faiss.omp_set_num_threads(2)
        batch2_s, _ = best_of(3, lambda: index.search(queries, 10))
        recall = float(np.mean([len(set(g) & set(tr)) / 10 for g, tr in zip(got, truth)]))
        n = len(queries)
        row = {"recall_at_10": recall, "qps_1_thread": n / single_s,
               "qps_1_thread_batched": n / batch1_s, "qps_2_threads_batched": n / batch2_s}
        print(f"| {ef} | {recall:.4f} | {n / single_s:.0f} | {n / batch1_s:.0f} | {n / batch2_s:.0f} |")
        results[f"faiss ef={ef}"] = row
    with open(f"{out}/faiss.json", "w") as f:
        json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
