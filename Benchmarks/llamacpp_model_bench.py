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
    ap.add_argument("--batches", default="", help="comma-separated sequence counts for aggregate decode (8,32)")
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
    result = {
        "engine": "llama.cpp (llama-cpp-python)", "threads": args.threads,
        "prefill_tok_s": {"min": min(prefill), "median": statistics.median(prefill), "max": max(prefill)},
        "decode_tok_s": {"min": min(decode), "median": statistics.median(decode), "max": max(decode)},
    }
    for n in [int(b) for b in args.batches.split(",") if b.strip()]:
        rates = [batched_decode(llm, n, args) for _ in range(args.runs)]
        result[f"aggregate_{n}_tok_s"] = {"min": min(rates), "median": statistics.median(rates), "max": max(rates)}
    print(json.dumps(result))
    return 0


def batched_decode(llm, nseq, args, prompt_len=16):
    """What llama-batched-bench measures: nseq sequences of a 16-token prompt in one context,
    then one token per sequence per llama_decode; tokens/s over the decode steps only."""
    import llama_cpp
    params = llama_cpp.llama_context_default_params()
    params.n_ctx = nseq * (prompt_len + args.decode_tokens + 8)
    params.n_batch = max(512, nseq * prompt_len)
    params.n_ubatch = params.n_batch
    params.n_seq_max = nseq
    params.n_threads = args.threads
    params.n_threads_batch = args.threads
    new_context = getattr(llama_cpp, "llama_init_from_model", None) or llama_cpp.llama_new_context_with_model
    ctx = new_context(llm._model.model, params)
    batch = llama_cpp.llama_batch_init(nseq * prompt_len, 0, nseq)
    try:
        def fill(tokens):  # tokens: [(token, pos, seq, wants_logits)]
            for k, (tok, pos, seq, logits) in enumerate(tokens):
                batch.token[k] = tok
                batch.pos[k] = pos
                batch.n_seq_id[k] = 1
                batch.seq_id[k][0] = seq
                batch.logits[k] = logits
            batch.n_tokens = len(tokens)
            if llama_cpp.llama_decode(ctx, batch) != 0:
                raise RuntimeError("llama_decode failed")
        fill([(1000 + (i * 7919 + s * 104729) % 20000, i, s, i == prompt_len - 1) for s in range(nseq) for i in range(prompt_len)])
        t0 = time.perf_counter()
        for step in range(args.decode_tokens):
            fill([(236761, prompt_len + step, s, True) for s in range(nseq)])
        return nseq * args.decode_tokens / (time.perf_counter() - t0)
    finally:
        llama_cpp.llama_batch_free(batch)
        llama_cpp.llama_free(ctx)

if __name__ == "__main__":
    sys.exit(main())
