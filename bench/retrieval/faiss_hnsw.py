#!/usr/bin/env python3
"""The FAISS peer for the vector index: HNSW (IndexHNSWFlat, inner product) on the same vectors
the Rust runner indexed, with the same M and efConstruction, one thread, the same ground truth
(exact top-10 computed by the Rust runner) and the same efSearch values.

Reads DIR/base.f32, DIR/queries.f32 and DIR/truth.f32 (written by `retrieval_bench speed`).
"""
import json
import sys
import time

import faiss
import numpy as np


def main():
    out = sys.argv[1]
    dims = 384
    base = np.fromfile(f"{out}/base.f32", dtype="<f4").reshape(-1, dims)
    queries = np.fromfile(f"{out}/queries.f32", dtype="<f4").reshape(-1, dims)
    truth = np.fromfile(f"{out}/truth.f32", dtype="<f4").astype(np.int64).reshape(-1, 10)
    faiss.omp_set_num_threads(1)

    # Sanity: FAISS's exact search agrees with the Rust ground truth.
    flat = faiss.IndexFlatIP(dims)
    flat.add(base)
    t = time.perf_counter()
    _, exact = flat.search(queries, 10)
    exact_qps = len(queries) / (time.perf_counter() - t)
    agree = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(exact, truth)])

    index = faiss.IndexHNSWFlat(dims, 16, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = 128
    t = time.perf_counter()
    index.add(base)
    build_s = time.perf_counter() - t
    print(f"faiss {faiss.__version__}: exact {exact_qps:.0f} queries/s (agrees with Rust truth {agree:.4}); "
          f"HNSW build {len(base)} vectors in {build_s:.1f} s (M=16, efConstruction=128, 1 thread)")
    results = {"faiss_version": faiss.__version__, "exact_qps": exact_qps, "hnsw_build_s": build_s}
    print("| ef | recall@10 | queries/s |")
    for ef in [16, 32, 64, 96, 128, 256]:
        index.hnsw.efSearch = ef
        reps = 3
        t = time.perf_counter()
        for _ in range(reps):
            # One query per call, as a server answers them (batching would hide per-query cost).
            got = [index.search(queries[i : i + 1], 10)[1][0] for i in range(len(queries))]
        qps = reps * len(queries) / (time.perf_counter() - t)
        recall = np.mean([len(set(g) & set(tr)) / 10 for g, tr in zip(got, truth)])
        print(f"| {ef} | {recall:.4f} | {qps:.0f} |")
        results[f"faiss ef={ef}"] = {"recall_at_10": float(recall), "qps": qps}
    with open(f"{out}/faiss.json", "w") as f:
        json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
