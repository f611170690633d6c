"""sentence-transformers throughput on the same texts, batch and threads (the peer)."""

import json
import os
import sys
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
import torch  # noqa: E402
from sentence_transformers import SentenceTransformer  # noqa: E402

model_dir, texts_file, batch, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
torch.set_num_threads(threads)
texts = open(texts_file).read().splitlines()
model = SentenceTransformer(model_dir, device="cpu")
model.encode(texts[:batch], batch_size=batch)  # warm-up
start = time.perf_counter()
model.encode(texts, batch_size=batch, normalize_embeddings=True)
seconds = time.perf_counter() - start
print(json.dumps({"engine": "sentence-transformers", "sentences": len(texts), "batch": batch, "threads": threads,
                  "seconds": round(seconds, 3), "sentences_per_s": round(len(texts) / seconds, 1)}))
