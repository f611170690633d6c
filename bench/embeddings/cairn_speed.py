"""Cairn's embedder through its HTTP API (/v1/embeddings), batch by batch, one client."""

import json
import sys
import time

import httpx

base_url, key, texts_file, batch = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
texts = open(texts_file).read().splitlines()
headers = {"authorization": f"Bearer {key}"}
with httpx.Client(timeout=600) as client:
    def embed(chunk):
        r = client.post(f"{base_url}/v1/embeddings", headers=headers,
                        json={"model": "minilm", "input": chunk, "encoding_format": "base64"})
        r.raise_for_status()
        assert len(r.json()["data"]) == len(chunk)

    embed(texts[:batch])  # warm-up
    start = time.perf_counter()
    for i in range(0, len(texts), batch):
        embed(texts[i:i + batch])
    seconds = time.perf_counter() - start
print(json.dumps({"engine": "cairn (llama.cpp, over HTTP)", "sentences": len(texts), "batch": batch,
                  "seconds": round(seconds, 3), "sentences_per_s": round(len(texts) / seconds, 1)}))
