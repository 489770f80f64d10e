#!/usr/bin/env python3
"""How often weight-only FP8 (E4M3, per-channel scales) keeps tiny-llama's first 8 greedy ids.

Issue 5 asks `--quantization fp8` on ../shared/fixtures/tiny-llama to reproduce the float32
reference's first 8 greedy ids on every prompt. Shardline's fp8 (scale = row amax / 448,
round to nearest even) misses prompts 0 and 3, whose reference top-1/top-2 margins at one
step (0.085, 0.078) are below E4M3's logit noise. This script asks whether that is bad luck
or the format: it re-implements the model in numpy (float32, no KV cache), checks it against
the reference, then quantizes the seven projections of every layer with per-channel scales
multiplied by 2^u, u ~ U(0, 1) per row (the same 3-bit relative precision, a different
rounding grid each trial, never clipping) and counts the trials in which all four prompts
keep their 8 ids. int8 with the same jitter is the control. A more precise fp8, each row's
scale chosen for the least squared error (17% less relative weight error than amax / 448),
is printed too: it also misses two prompts (0 and 1).

Usage: python3 scripts/fp8-rounding-odds.py [TRIALS] [SEED]   (numpy; ~0.7 s a trial)
"""
import json, struct, sys
from pathlib import Path
import numpy as np

FIXTURE = Path(__file__).resolve().parent.parent.parent / "shared/fixtures/tiny-llama"
PROJECTIONS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


def load_safetensors(path):
    raw = path.read_bytes()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        assert info["dtype"] == "F32", name
        start, end = info["data_offsets"]
        tensors[name] = np.frombuffer(raw[8 + n + start:8 + n + end], dtype=np.float32).reshape(info["shape"]).copy()
    return tensors


class TinyLlama:
    def __init__(self, config):
        self.hidden, self.heads, self.kv_heads = config["hidden_size"], config["num_attention_heads"], config["num_key_value_heads"]
        self.head_dim, self.layers, self.eps = config["head_dim"], config["num_hidden_layers"], config["rms_norm_eps"]
        theta = config.get("rope_parameters", {}).get("rope_theta", config.get("rope_theta", 10000.0))
        self.inv_freq = 1.0 / theta ** (np.arange(0, self.head_dim, 2, dtype=np.float64) / self.head_dim)

    def norm(self, x, w):
        return x / np.sqrt((x.astype(np.float64) ** 2).mean(-1, keepdims=True) + self.eps).astype(np.float32) * w

    def rope(self, x, positions):
        angles = np.outer(positions, self.inv_freq)
        cos, sin = np.cos(angles).astype(np.float32)[:, None, :], np.sin(angles).astype(np.float32)[:, None, :]
        half = self.head_dim // 2
        x1, x2 = x[..., :half], x[..., half:]
        return np.concatenate([x1 * cos - x2 * sin, x2 * cos + x1 * sin], -1)

    def last_logits(self, ids, w):
        t, hd = len(ids), self.head_dim
        x, positions = w["model.embed_tokens.weight"][ids], np.arange(t)
        causal = np.triu(np.full((t, t), -np.inf, dtype=np.float32), 1)
        for layer in range(self.layers):
            p = f"model.layers.{layer}."
            h = self.norm(x, w[p + "input_layernorm.weight"])
            q = self.rope((h @ w[p + "self_attn.q_proj.weight"].T).reshape(t, self.heads, hd), positions)
            k = self.rope((h @ w[p + "self_attn.k_proj.weight"].T).reshape(t, self.kv_heads, hd), positions)
            v = (h @ w[p + "self_attn.v_proj.weight"].T).reshape(t, self.kv_heads, hd)
            group = self.heads // self.kv_heads
            k, v = np.repeat(k, group, 1), np.repeat(v, group, 1)
            scores = np.einsum("thd,shd->hts", q, k) / np.sqrt(hd) + causal
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            x = x + np.einsum("hts,shd->thd", scores, v).reshape(t, -1) @ w[p + "self_attn.o_proj.weight"].T
            h = self.norm(x, w[p + "post_attention_layernorm.weight"])
            gate, up = h @ w[p + "mlp.gate_proj.weight"].T, h @ w[p + "mlp.up_proj.weight"].T
            x = x + (gate / (1 + np.exp(-gate)) * up) @ w[p + "mlp.down_proj.weight"].T
        return self.norm(x[-1], w["model.norm.weight"]) @ w["lm_head.weight"].T

    def greedy(self, ids, w, n=8):
        ids, out = list(ids), []
        for _ in range(n):
            out.append(int(np.argmax(self.last_logits(ids, w))))
            ids.append(out[-1])
        return out


# The 127 finite non-negative E4M3 values, code order (code = index).
E4M3 = np.array([(c & 7) / 8 * 2.0 ** -6 if c >> 3 == 0 else (1 + (c & 7) / 8) * 2.0 ** ((c >> 3) - 7) for c in range(127)])


def e4m3(x):
    """Nearest E4M3 value, ties to the even code, saturating at 448 (as Shardline's encoder)."""
    a = np.minimum(np.abs(x), 448.0)
    i = np.clip(np.searchsorted(E4M3, a), 1, len(E4M3) - 1)
    lo, hi = E4M3[i - 1], E4M3[i]
    return np.sign(x) * np.where((a - lo < hi - a) | ((a - lo == hi - a) & ((i - 1) % 2 == 0)), lo, hi)


def least_squares_scale(w, amax):
    """Per row, the scale among amax / 448 x 2^(k/64), k in [-64, 64), whose E4M3 rounding of w
    has the least squared error (clipping allowed): a more precise fp8 than the amax scale."""
    best, scale = None, None
    for k in range(-64, 64):
        s = amax / 448 * 2.0 ** (k / 64)
        err = ((w - e4m3(w / s) * s) ** 2).sum(1, keepdims=True)
        scale = s if best is None else np.where(err < best, s, scale)
        best = err if best is None else np.minimum(err, best)
    return scale


def quantized(weights, code, jitter):
    out = dict(weights)
    for name, w in weights.items():
        if not any(p in name for p in PROJECTIONS):
            continue
        w = w.astype(np.float64)
        amax = np.abs(w).max(1, keepdims=True)
        if code == "fp8-lsq":
            scale = least_squares_scale(w, amax)
            out[name] = (e4m3(w / scale) * scale).astype(np.float32)
        elif code == "fp8":
            scale = amax / 448 * jitter(w.shape[0])
            out[name] = (e4m3(w / scale) * scale).astype(np.float32)
        else:
            scale = amax / 127 * jitter(w.shape[0])
            out[name] = (np.clip(np.round(w / scale), -127, 127) * scale).astype(np.float32)
    return out


def main():
    try:
        trials = int(sys.argv[1]) if len(sys.argv) > 1 else 100
        seed = int(sys.argv[2]) if len(sys.argv) > 2 else 0
        if trials < 1 or len(sys.argv) > 3:
            raise ValueError
    except ValueError:
        sys.exit("usage: fp8-rounding-odds.py [TRIALS >= 1] [SEED]")
    rng = np.random.default_rng(seed)
    weights = load_safetensors(FIXTURE / "model.safetensors")
    model = TinyLlama(json.loads((FIXTURE / "config.json").read_text()))
    reference = json.loads((FIXTURE / "reference.json").read_text())["prompts"]
    prompts = [p["token_ids"] for p in reference]
    wanted = [p["greedy_nocache_ignore_eos_ids"][:8] for p in reference]

    def kept(w):
        return [model.greedy(ids, w) == want for ids, want in zip(prompts, wanted)]

    print("float32 keeps the 8 ids:", kept(weights))
    print("fp8, scale = amax / 448:", kept(quantized(weights, "fp8", lambda n: np.ones((n, 1)))))
    print("fp8, least-squares scale per row:", kept(quantized(weights, "fp8-lsq", None)))
    for code in ("fp8", "int8"):
        runs = np.array([kept(quantized(weights, code, lambda n: 2.0 ** rng.uniform(0, 1, (n, 1)))) for _ in range(trials)])
        print(f"{code}, scales x 2^U(0,1), {trials} trials: per prompt {np.round(runs.mean(0), 3).tolist()}, "
              f"all four {runs.all(1).mean():.3f}")


if __name__ == "__main__":
    main()
