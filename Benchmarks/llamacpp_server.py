#!/usr/bin/env python3
"""llama.cpp's side of `make bench-serve`: llama-cpp-python's OpenAI server, unchanged
(`python -m llama_cpp.server`, same flags), plus three request fields it lacks and that
`shardline bench serve` (like vLLM's `bench serve`) relies on for an equal load:

* `ignore_eos` on /v1/completions: generate exactly `max_tokens` tokens, as vLLM and Shardline
  do. Without it llama.cpp stops at EOS and its requests would do less work.
* `stream_options.include_usage`: a last chunk carrying `usage`, so the load generator counts
  generated tokens instead of counting chunks.
* `/tokenize` and `/detokenize` in vLLM's shape, so random prompts get their exact token
  length on this server too (llama-cpp-python only has /extras/tokenize).

Everything else (the model, threads, the one-request-at-a-time lock, sampling) is
llama-cpp-python's own code. Needs llama-cpp-python with its server extras.
"""
import sys
from typing import Any, Dict, List, Optional

import llama_cpp
import llama_cpp.llama_cpp as C
import llama_cpp.server.types as types

# --- ignore_eos and usage: fields on the completion request -------------------------------


class CompletionRequest(types.CreateCompletionRequest):
    ignore_eos: bool = False
    stream_options: Optional[Dict[str, Any]] = None


# Must happen before llama_cpp.server.app is imported: its routes bind the request class then.
types.CreateCompletionRequest = CompletionRequest

# llama-cpp-python stops a completion where llama_vocab_is_eog(token) is true (llama.py calls it
# once per generated token). The server runs one completion at a time (its llama lock), so a
# process-wide flag and counter describe the completion in progress.
_ignore_eos = False
_generated = 0
_is_eog = C.llama_vocab_is_eog


def _patched_is_eog(vocab, token):
    global _generated
    if _ignore_eos:
        _generated += 1
        return False
    eog = _is_eog(vocab, token)
    if not eog:
        _generated += 1
    return eog


C.llama_vocab_is_eog = _patched_is_eog

_call = llama_cpp.Llama.__call__


def _patched_call(self, *args, ignore_eos: bool = False, stream_options: Optional[Dict[str, Any]] = None, **kwargs):
    global _ignore_eos, _generated
    include_usage = bool(stream_options and stream_options.get("include_usage"))

    if not kwargs.get("stream", False):
        _ignore_eos, _generated = ignore_eos, 0
        try:
            return _call(self, *args, **kwargs)
        finally:
            _ignore_eos = False

    def chunks():
        # The generator runs step by step on the server's worker threads; set the flag around
        # each step so nothing else (e.g. a tokenize request) ever sees it.
        global _ignore_eos, _generated
        _generated = 0
        prompt = kwargs.get("prompt", args[0] if args else "")
        gen = _call(self, *args, **kwargs)
        last = None
        while True:
            _ignore_eos = ignore_eos
            try:
                chunk = next(gen)
            except StopIteration:
                break
            finally:
                _ignore_eos = False
            last = chunk
            yield chunk
        if include_usage:
            if isinstance(prompt, str):
                n_prompt = len(self.tokenize(prompt.encode("utf-8"), add_bos=self._model.add_bos_token(), special=True))
            else:
                n_prompt = len(prompt)
            yield {
                "id": last["id"] if last else "cmpl-usage", "object": "text_completion",
                "created": last["created"] if last else 0, "model": last["model"] if last else "",
                "choices": [],
                "usage": {"prompt_tokens": n_prompt, "completion_tokens": _generated,
                          "total_tokens": n_prompt + _generated},
            }

    return chunks()


llama_cpp.Llama.__call__ = _patched_call

# --- /tokenize and /detokenize --------------------------------------------------------------

import llama_cpp.server.app as server_app  # noqa: E402  (after the patches above)
import llama_cpp.server.__main__ as server_main  # noqa: E402
from pydantic import BaseModel  # noqa: E402


class TokenizeRequest(BaseModel):
    model: Optional[str] = None
    prompt: Optional[str] = None
    content: Optional[str] = None  # llama.cpp's spelling
    add_special_tokens: bool = True


class DetokenizeRequest(BaseModel):
    model: Optional[str] = None
    tokens: List[int]


def _llama(model: Optional[str]) -> llama_cpp.Llama:
    # Tokenizing only reads the vocabulary: no need to wait for the completion lock.
    return server_app._llama_proxy(model)


def _create_app(*args, **kwargs):
    app = server_app.create_app(*args, **kwargs)

    @app.post("/tokenize")
    def tokenize(body: TokenizeRequest):
        llama = _llama(body.model)
        text = body.prompt if body.prompt is not None else (body.content or "")
        # What /v1/completions feeds the model for this prompt: BOS when the model adds one,
        # then the text with special tokens parsed.
        ids = llama.tokenize(text.encode("utf-8"), add_bos=False, special=True) if text else []
        if body.add_special_tokens and llama._model.add_bos_token():
            ids = [llama.token_bos()] + ids
        return {"tokens": ids, "count": len(ids), "max_model_len": llama.n_ctx()}

    @app.post("/detokenize")
    def detokenize(body: DetokenizeRequest):
        text = _llama(body.model).detokenize(body.tokens).decode("utf-8", errors="replace")
        return {"prompt": text}

    return app


server_main.create_app = _create_app

if __name__ == "__main__":
    sys.argv[0] = "llamacpp_server.py"
    server_main.main()
