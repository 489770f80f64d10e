#!/usr/bin/env python3
"""llama.cpp's side of `make bench`: prefill and decode speed on a GGUF with N threads.

Uses llama-cpp-python (PyPI), which builds llama.cpp itself. Prints one JSON object:
prefill tok/s on a P-token prompt, decode tok/s for D tokens at batch 1, and the medians of
`--runs` runs. Batched decode comes from llama.cpp's own batched API (one sequence per slot).
"""
import argparse, json, statistics, sys, time

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--prompt-tokens", type=int, default=512)
    ap.add_argument("--decode-tokens", type=int, default=128)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    try:
        from llama_cpp import Llama
    except ImportError:
        print(json.dumps({"error": "llama-cpp-python is not installed (pip install llama-cpp-python)"}))
        return 1
    llm = Llama(model_path=args.model, n_ctx=args.prompt_tokens + args.decode_tokens + 16, n_threads=args.threads,
                n_threads_batch=args.threads, n_batch=args.prompt_tokens, verbose=False, logits_all=False)
    prompt = [llm.token_bos()] + [1000 + (i * 7919) % 20000 for i in range(args.prompt_tokens - 1)]
    prefill, decode = [], []
    for _ in range(args.runs):
        llm.reset()
        t0 = time.perf_counter()
        llm.eval(prompt)
        prefill.append(len(prompt) / (time.perf_counter() - t0))
        llm.reset()
        llm.eval(prompt[:16])
        t0 = time.perf_counter()
        token = prompt[16]
        for _ in range(args.decode_tokens):
            llm.eval([token])
            token = 236761  # a fixed token: this measures speed, not text
        decode.append(args.decode_tokens / (time.perf_counter() - t0))
    print(json.dumps({
        "engine": "llama.cpp (llama-cpp-python)", "threads": args.threads,
        "prefill_tok_s": {"min": min(prefill), "median": statistics.median(prefill), "max": max(prefill)},
        "decode_tok_s": {"min": min(decode), "median": statistics.median(decode), "max": max(decode)},
    }))
    return 0

if __name__ == "__main__":
    sys.exit(main())
