#!/usr/bin/env python3
"""The table of `make bench-serve`: Shardline's server beside llama.cpp's, one row per concurrency.

Reads the `shardline bench serve --result-file` JSON that scripts/bench-serve.sh writes into one
folder (shardline-c<N>.json and llamacpp-c<N>.json) and prints output throughput (with the
Shardline / llama.cpp ratio) and the TTFT and TPOT percentiles of both. Exits 1 when a request
failed or generated fewer tokens than asked (the two servers did not do the same work).
"""
import argparse, json, os, re, sys

ENGINES = [("shardline", "Shardline"), ("llamacpp", "llama.cpp")]


def load(folder):
    runs = {}  # concurrency -> engine -> result
    for f in os.listdir(folder):
        m = re.fullmatch(r"(shardline|llamacpp)-c(\d+)\.json", f)
        if m:
            with open(os.path.join(folder, f)) as fh:
                runs.setdefault(int(m.group(2)), {})[m.group(1)] = json.load(fh)
    return runs


def fmt(x, digits=1):
    return "-" if x is None else f"{x:.{digits}f}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("folder")
    ap.add_argument("--model", default="")
    ap.add_argument("--threads", default="")
    ap.add_argument("--peer", default="llama-cpp-python's server", help="what served the llama.cpp side")
    ap.add_argument("--shardline", default="shardline serve", help="what served the Shardline side")
    args = ap.parse_args()
    runs = load(args.folder)
    if not runs:
        print(f"{args.folder}: no shardline-c<N>.json / llamacpp-c<N>.json results", file=sys.stderr)
        return 1

    groups = [("", ["conc", "reqs"]), ("output tok/s", ["Shardline", "llama.cpp", "ratio"]),
              ("TTFT p50 ms", ["Shardline", "llama.cpp"]), ("TTFT p99 ms", ["Shardline", "llama.cpp"]),
              ("TPOT p50 ms", ["Shardline", "llama.cpp"]), ("TPOT p99 ms", ["Shardline", "llama.cpp"])]
    header = [c for _, cols in groups for c in cols]
    rows, notes, failed = [header], [], False
    any_run = next(iter(next(iter(runs.values())).values()))
    for c in sorted(runs):
        s, l = runs[c].get("shardline"), runs[c].get("llamacpp")
        get = lambda r, k: None if r is None else r.get(k)
        ratio = None
        if s and l and l.get("output_throughput"):
            ratio = s["output_throughput"] / l["output_throughput"]
        counts = sorted({str(r["num_prompts"]) for r in (s, l) if r})
        reqs = "/".join(counts)
        rows.append([str(c), reqs,
                     fmt(get(s, "output_throughput")), fmt(get(l, "output_throughput")),
                     "-" if ratio is None else f"{ratio:.2f}x",
                     fmt(get(s, "median_ttft_ms")), fmt(get(l, "median_ttft_ms")),
                     fmt(get(s, "p99_ttft_ms")), fmt(get(l, "p99_ttft_ms")),
                     fmt(get(s, "median_tpot_ms")), fmt(get(l, "median_tpot_ms")),
                     fmt(get(s, "p99_tpot_ms")), fmt(get(l, "p99_tpot_ms"))])
        # Equal load means: every request succeeded, with the same prompt and output lengths.
        for key, label in ENGINES:
            r = runs[c].get(key)
            if r is None:
                notes.append(f"concurrency {c}: no {label} result")
                continue
            if r.get("failed"):
                failed = True
                notes.append(f"concurrency {c}: {label}: {r['failed']} failed requests {r.get('errors', {})}")
            want_out = r.get("output_len")
            outs = r.get("output_lens") or []
            if want_out is not None and any(o != want_out for o in outs):
                failed = True
                notes.append(f"concurrency {c}: {label}: output lengths {min(outs)}..{max(outs)}, not all {want_out}")
            if not r.get("exact_prompt_lengths", True):
                notes.append(f"concurrency {c}: {label}: prompt lengths are estimates (no /tokenize)")
        if s and l and s.get("input_lens") != l.get("input_lens"):
            notes.append(f"concurrency {c}: prompt lengths differ between the servers")

    title = (f"bench-serve: {args.model or any_run.get('model_id', '')}, random dataset, "
             f"{any_run.get('input_len')} tokens in, {any_run.get('output_len')} out (ignore_eos), "
             f"request rate {any_run.get('request_rate')}"
             + (f", {args.threads} threads each" if args.threads else ""))
    print(title)
    print(f"Shardline: {args.shardline}; llama.cpp: {args.peer}; ratio: Shardline / llama.cpp;"
          " reqs: requests per level (each server)")
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    # Group titles centred over their columns, widening the columns when a title needs it.
    line, i = [], 0
    for title, cols in groups:
        span = range(i, i + len(cols))
        need = len(title) - (sum(widths[j] for j in span) + 2 * (len(cols) - 1))
        if need > 0:
            widths[span[-1]] += need
        line.append(title.center(sum(widths[j] for j in span) + 2 * (len(cols) - 1)))
        i += len(cols)
    print("    ".join(line).rstrip())
    for r in rows:
        cells, i = [], 0
        for _, cols in groups:
            cells.append("  ".join(r[j].rjust(widths[j]) for j in range(i, i + len(cols))))
            i += len(cols)
        print("    ".join(cells))
    for n in notes:
        print("note: " + n)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
