#!/usr/bin/env python3
"""Reference embeddings for the retrieval benchmark (all-MiniLM-L6-v2 via sentence-transformers).

Cairn's own embedder lives in the engine crate and is not wired into the index yet, so the
benchmark reads vectors from a file this script writes. Input: JSON lines with a "text" field.
Output: raw little-endian f32 rows (L2-normalised), one per input line, in input order.

Vectors are cached per text (sha256) in --cache, so re-chunking only embeds new texts.
Runs offline: the model directory must already be on disk.
"""
import argparse
import hashlib
import json
import os
import sys
import time

import numpy as np


def load_cache(cache_dir, dims):
    keys_path = os.path.join(cache_dir, "keys.txt")
    vecs_path = os.path.join(cache_dir, "vecs.f32")
    if not os.path.exists(keys_path):
        return {}, None
    keys = open(keys_path).read().split()
    vecs = np.fromfile(vecs_path, dtype="<f4")
    n = min(len(keys), vecs.size // dims)  # a torn append is ignored
    vecs = vecs[: n * dims].reshape(n, dims)
    return {k: i for i, k in enumerate(keys[:n])}, vecs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--cache", required=True)
    ap.add_argument("--input", required=True)
    ap.add_argument("--output", required=True)
    ap.add_argument("--batch", type=int, default=32)
    args = ap.parse_args()

    dims = 384
    os.makedirs(args.cache, exist_ok=True)
    texts = [json.loads(line)["text"] for line in open(args.input, encoding="utf-8")]
    hashes = [hashlib.sha256(t.encode("utf-8")).hexdigest() for t in texts]
    index, vecs = load_cache(args.cache, dims)

    missing = []
    seen = set()
    for t, h in zip(texts, hashes):
        if h not in index and h not in seen:
            seen.add(h)
            missing.append((h, t))

    if missing:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        model = SentenceTransformer(args.model, device="cpu")
        # all-MiniLM-L6-v2 reads 256 word pieces; a folder without sentence_bert_config.json
        # would otherwise default to the tokenizer's 512.
        model.max_seq_length = min(model.max_seq_length or 256, 256)
        print(f"{args.model}: max_seq_length {model.max_seq_length}, "
              f"{len(missing)} texts to embed", file=sys.stderr)
        start = time.time()
        with open(os.path.join(args.cache, "vecs.f32"), "ab") as vf, open(
            os.path.join(args.cache, "keys.txt"), "a"
        ) as kf:
            step = 1024
            for i in range(0, len(missing), step):
                part = missing[i : i + step]
                emb = model.encode(
                    [t for _, t in part],
                    batch_size=args.batch,
                    normalize_embeddings=True,
                    convert_to_numpy=True,
                ).astype("<f4")
                vf.write(emb.tobytes())
                vf.flush()
                kf.write("".join(h + "\n" for h, _ in part))
                kf.flush()
                done = i + len(part)
                rate = done / (time.time() - start)
                print(f"embedded {done}/{len(missing)} ({rate:.1f} texts/s)", file=sys.stderr)
        index, vecs = load_cache(args.cache, dims)

    out = np.stack([vecs[index[h]] for h in hashes]).astype("<f4")
    tmp = args.output + ".tmp"
    out.tofile(tmp)
    os.replace(tmp, args.output)
    print(f"wrote {len(texts)} x {dims} vectors to {args.output}", file=sys.stderr)


if __name__ == "__main__":
    main()
