#!/usr/bin/env python3
"""Turns a results directory written by run.sh into results.json and a Markdown report.

Usage: parse.py RESULTS_DIR      (prints Markdown; writes RESULTS_DIR/results.json and report.md)

Raw inputs: `<target>-c<conc>-r<round>.wrk` (wrk --latency output) and `meta.txt`
(key=value lines). With several rounds each figure is the median over rounds. Added
latency = a gateway's figure minus the direct-to-mock figure at the same concurrency.
Standard library only.
"""

import json
import os
import re
import statistics
import sys

TARGETS = [
    ("direct", "direct to mock"),
    ("nginx", "nginx reverse proxy"),
    ("cairn", "Cairn"),
    ("cairn-log", "Cairn, info logs on"),
    ("litellm", "LiteLLM proxy"),
]
GATEWAYS = ["nginx", "cairn", "cairn-log", "litellm"]
UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
SIZE_UNITS = {"": 1, "k": 1e3, "M": 1e6, "G": 1e9}


def to_ms(text):
    m = re.fullmatch(r"([0-9.]+)(us|ms|s|m|h)", text.strip())
    if not m:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(m.group(1)) * UNITS_MS[m.group(2)]


def parse_wrk(text):
    out = {"non2xx": 0, "socket_errors": 0}
    for pct, value in re.findall(r"^\s+(50|75|90|99)%\s+(\S+)\s*$", text, re.M):
        out[f"p{pct}_ms"] = to_ms(value)
    m = re.search(r"^\s+Latency\s+(\S+)\s+(\S+)\s+(\S+)", text, re.M)
    if m:
        out["mean_ms"], out["stdev_ms"], out["max_ms"] = (to_ms(x) for x in m.groups())
    m = re.search(r"^Requests/sec:\s+([0-9.]+)", text, re.M)
    if m:
        out["rps"] = float(m.group(1))
    m = re.search(r"(\d+) requests in ([0-9.]+\w+)", text)
    if m:
        out["requests"] = int(m.group(1))
    m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    if m:
        out["non2xx"] = int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if m:
        out["socket_errors"] = sum(int(x) for x in m.groups())
    return out


def read_meta(path):
    meta = {}
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                line = line.rstrip("\n")
                if "=" in line and not line.startswith("#"):
                    k, v = line.split("=", 1)
                    meta[k] = v
    return meta


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt_ms(v, digits=3):
    return "–" if v is None else f"{v:.{digits}f}"


def fmt_rps(v):
    return "–" if v is None else f"{v:,.0f}"


def fmt_ratio(num, den):
    if num is None or den is None or den <= 0 or num <= 0:
        return "n/a"
    r = num / den
    return f"{r:,.0f}×" if r >= 100 else f"{r:.1f}×"


def fmt_mb(kb):
    return "–" if kb in (None, "") else f"{int(kb) / 1024:.1f} MB"


def main(results_dir):
    meta = read_meta(os.path.join(results_dir, "meta.txt"))
    runs = {}
    for name in sorted(os.listdir(results_dir)):
        m = re.fullmatch(r"(.+)-c(\d+)-r(\d+)\.wrk", name)
        if not m:
            continue
        target, conc, rnd = m.group(1), int(m.group(2)), int(m.group(3))
        with open(os.path.join(results_dir, name)) as f:
            parsed = parse_wrk(f.read())
        parsed["round"] = rnd
        parsed["load"] = meta.get(f"load_{target}_c{conc}_r{rnd}")
        cpu = meta.get(f"cpu_{target}_c{conc}_r{rnd}_ms")
        if cpu and parsed.get("requests"):
            parsed["cpu_us_per_req"] = float(cpu) * 1000 / parsed["requests"]
        runs.setdefault(target, {}).setdefault(conc, []).append(parsed)

    concs = sorted({c for t in runs.values() for c in t})
    summary = {}
    for target, by_conc in runs.items():
        for conc, rounds in by_conc.items():
            summary.setdefault(target, {})[conc] = {
                "p50_ms": median([r.get("p50_ms") for r in rounds]),
                "p90_ms": median([r.get("p90_ms") for r in rounds]),
                "p99_ms": median([r.get("p99_ms") for r in rounds]),
                "max_ms": max((r.get("max_ms") or 0) for r in rounds),
                "rps": median([r.get("rps") for r in rounds]),
                "cpu_us_per_req": median([r.get("cpu_us_per_req") for r in rounds]),
                "errors": sum(r["non2xx"] + r["socket_errors"] for r in rounds),
                "rounds": rounds,
            }
    for target in GATEWAYS:
        for conc in concs:
            s = summary.get(target, {}).get(conc)
            d = summary.get("direct", {}).get(conc)
            if s and d:
                for p in ("p50", "p99"):
                    if s[f"{p}_ms"] is not None and d[f"{p}_ms"] is not None:
                        s[f"added_{p}_ms"] = s[f"{p}_ms"] - d[f"{p}_ms"]

    with open(os.path.join(results_dir, "results.json"), "w") as f:
        json.dump({"meta": meta, "summary": summary}, f, indent=2, sort_keys=True)

    lines = []
    rounds = meta.get("rounds", "1")
    lines.append(
        f"Each point: {meta.get('duration', '?')} of wrk per concurrency, median of {rounds} "
        f"round(s), targets interleaved within a round. Latency in ms; added = target minus "
        f"direct-to-mock at the same concurrency. CPU µs/req: CPU time of the target process "
        f"(for direct: the mock) during the point divided by requests answered."
    )
    lines.append("")
    lines.append(
        "| target | conc. | req/s | p50 | p99 | added p50 | added p99 | max | CPU µs/req | errors |"
    )
    lines.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for target, label in TARGETS:
        for conc in concs:
            s = summary.get(target, {}).get(conc)
            if not s:
                continue
            lines.append(
                f"| {label} | {conc} | {fmt_rps(s['rps'])} | {fmt_ms(s['p50_ms'])} | "
                f"{fmt_ms(s['p99_ms'])} | {fmt_ms(s.get('added_p50_ms'))} | "
                f"{fmt_ms(s.get('added_p99_ms'))} | {fmt_ms(s['max_ms'], 1)} | "
                f"{fmt_ms(s['cpu_us_per_req'], 0)} | {s['errors']} |"
            )
    lines.append("")

    if "cairn" in summary and "litellm" in summary:
        lines.append(
            "Cairn against LiteLLM (LiteLLM's figure divided by Cairn's for latency, Cairn's "
            "divided by LiteLLM's for throughput):"
        )
        lines.append("")
        lines.append(
            "| conc. | added p50 | added p99 | p50 | p99 | req/s |"
        )
        lines.append("|---:|---:|---:|---:|---:|---:|")
        for conc in concs:
            c = summary["cairn"].get(conc)
            l = summary["litellm"].get(conc)
            if not (c and l):
                continue
            lines.append(
                f"| {conc} | {fmt_ratio(l.get('added_p50_ms'), c.get('added_p50_ms'))} | "
                f"{fmt_ratio(l.get('added_p99_ms'), c.get('added_p99_ms'))} | "
                f"{fmt_ratio(l['p50_ms'], c['p50_ms'])} | {fmt_ratio(l['p99_ms'], c['p99_ms'])} | "
                f"{fmt_ratio(c['rps'], l['rps'])} |"
            )
        lines.append("")

    lines.append("| process | start to first answer | idle RSS | peak RSS (VmHWM) | RSS after each point |")
    lines.append("|---|---:|---:|---:|---|")
    for target, label in TARGETS:
        if target == "direct":
            continue
        if f"rss_{target}_peak_kb" not in meta:
            continue
        after = []
        for r in range(1, int(rounds) + 1):
            for conc in concs:
                kb = meta.get(f"rss_{target}_c{conc}_r{r}_kb")
                if kb:
                    after.append(f"{int(kb) / 1024:.0f}")
        startup = meta.get(f"startup_{target}_ms")
        lines.append(
            f"| {label} | {startup + ' ms' if startup else '–'} | "
            f"{fmt_mb(meta.get(f'rss_{target}_idle_kb'))} | "
            f"{fmt_mb(meta.get(f'rss_{target}_peak_kb'))} | "
            f"{' → '.join(after) + ' MB' if after else '–'} |"
        )
    lines.append("")
    loads = [
        float(meta[k].split()[0])
        for k in meta
        if k.startswith("load_") and meta[k]
    ]
    if loads:
        lines.append(
            f"1-minute load average at the start of the points: {min(loads):.2f} to "
            f"{max(loads):.2f} (2 cores; anything above ~2 means other work shared the CPUs)."
        )
        lines.append("")

    text = "\n".join(lines)
    with open(os.path.join(results_dir, "report.md"), "w") as f:
        f.write(text + "\n")
    print(text)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
