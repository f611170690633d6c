"""Writes one article per model through the API and prints per-stage time and tokens."""

import sys
import time

import httpx

TOPIC = "How to start composting at home"


def write(client: httpx.Client, model: str) -> dict:
    started = time.monotonic()
    article = client.post(
        "/api/articles",
        json={"topic": TOPIC, "mode": "blog", "model": model, "sections": 4, "words_per_section": 150},
    ).raise_for_status().json()
    while article["status"] == "running":
        time.sleep(0.5)
        article = client.get(f"/api/articles/{article['id']}").raise_for_status().json()
    article["wall_s"] = time.monotonic() - started
    return article


def main() -> None:
    base, key, models = sys.argv[1], sys.argv[2], sys.argv[3:]
    client = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=60)
    # Load every model once so no article pays for it.
    for model in models:
        client.post("/v1/chat/completions", json={"model": model, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 1}).raise_for_status()
    results = {model: write(client, model) for model in models}
    stages = [s["stage"] for s in next(iter(results.values()))["stages"]]
    print(f"topic: {TOPIC!r}; 4 sections of ~150 words, blog mode\n")
    print("| stage | " + " | ".join(f"{m} s | {m} tokens" for m in models) + " |")
    print("|---|" + "---:|---:|" * len(models))
    for stage in stages:
        row = []
        for model in models:
            found = next((s for s in results[model]["stages"] if s["stage"] == stage), None)
            if found is None:
                row += ["", ""]
                continue
            tokens = found["tokens"] + sum(i["tokens"] for i in found.get("items", []))
            row += [f"{found['elapsed_ms'] / 1000:.1f}", str(tokens)]
        print(f"| {stage} | " + " | ".join(row) + " |")
    print("| **article (wall clock)** | " + " | ".join(
        f"**{results[m]['wall_s']:.1f}** | **{results[m]['tokens']}**" for m in models) + " |")
    print()
    for model in models:
        a = results[model]
        words = (a.get("article") or {}).get("words")
        flagged = (a.get("originality") or {}).get("flagged")
        print(f"{model}: status {a['status']}, {words} words, originality flagged: {flagged}, error: {a.get('error')}")


if __name__ == "__main__":
    main()
