#!/usr/bin/env bash
# `make bench-serve`: Shardline's OpenAI server against llama.cpp's (llama-cpp-python's server)
# under the same load. Both serve the same GGUF with the same threads, one after the other (never
# both at once); `shardline bench serve` sends each the same random prompts at every concurrency
# level; the JSON results land in one folder and one side-by-side table is printed.
#
# Settings (environment; the Makefile passes its BENCH_* variables):
#   SHARDLINE_BIN     the binary (default .build/release/shardline)
#   MODEL             a .gguf (default: the default model, scripts/default-model.sh)
#   THREADS           compute threads for both servers (default 2)
#   CONCURRENCY       comma-separated max concurrencies (default 1,8,32)
#   NUM_PROMPTS       requests per level; default max(MIN_PROMPTS, PROMPTS_PER_SLOT × concurrency)
#   MIN_PROMPTS       (default 8)     PROMPTS_PER_SLOT (default 2)
#   INPUT_LEN         prompt tokens (default 128)   OUTPUT_LEN  generated tokens (default 64)
#   WARMUP            unmeasured requests to each server before the levels (default 2)
#   SHARDLINE_PORT    (default 8101)  LLAMACPP_PORT (default 8102)
#   RESULTS_DIR       (default Benchmarks/results/serve-<date>-<time>)
#   PYTHON            (default python3)
#   SHARDLINE_ARGS    extra `shardline serve` flags, e.g. "--max-num-seqs 2" (latency-tuned)
#   LLAMA_SERVER      a llama.cpp `llama-server` binary: the peer becomes it, with one slot per
#                     request of the highest level (continuous batching), instead of
#                     llama-cpp-python's one-request-at-a-time server
set -euo pipefail
cd "$(dirname "$0")/.."

py=${PYTHON:-python3}
bin=${SHARDLINE_BIN:-.build/release/shardline}
threads=${THREADS:-2}
concurrency=${CONCURRENCY:-1,8,32}
num_prompts=${NUM_PROMPTS:-}
min_prompts=${MIN_PROMPTS:-8}
per_slot=${PROMPTS_PER_SLOT:-2}
input_len=${INPUT_LEN:-128}
output_len=${OUTPUT_LEN:-64}
warmup=${WARMUP:-2}
shardline_port=${SHARDLINE_PORT:-8101}
llamacpp_port=${LLAMACPP_PORT:-8102}
host=127.0.0.1
results=${RESULTS_DIR:-Benchmarks/results/serve-$(date +%Y%m%d-%H%M%S)}

die() { echo "bench-serve: $*" >&2; exit 1; }

[ -x "$bin" ] || die "$bin: no such executable (build it with \`make release\`, or set SHARDLINE_BIN)"
[[ "$concurrency" =~ ^[0-9]+(,[0-9]+)*$ ]] || die "CONCURRENCY must be comma-separated integers, got '$concurrency'"
IFS=, read -r -a levels <<<"$concurrency"

# The model: the default one with Gemma's chat template (as `make serve`), or MODEL (a GGUF:
# llama.cpp reads nothing else).
if [ -n "${MODEL:-}" ]; then
    model=$MODEL
    [[ "$model" == *.gguf ]] && [ -f "$model" ] || die "MODEL must be a .gguf file (llama.cpp serves GGUF only), got '$model'"
    name=$(basename "$model" .gguf)
    shardline_model_args=(--model "$model" --served-model-name "$name")
else
    model=$(bash scripts/default-model.sh)
    name=gemma-3-270m
    shardline_model_args=(--model "$model" --served-model-name "$name" --chat-template templates/gemma3.jinja
                          --max-model-len 8192)
fi

# llama.cpp's server: llama-cpp-python (compiles llama.cpp on first install, like `make bench`),
# then only the Python packages of its [server] extra: `pip install 'llama-cpp-python[server]'`
# would build llama.cpp again.
if ! "$py" -c "import llama_cpp" 2>/dev/null; then
    echo "installing llama-cpp-python (builds llama.cpp; several minutes)..." >&2
    "$py" -m pip install --quiet --disable-pip-version-check llama-cpp-python >&2
fi
if ! "$py" -c "import llama_cpp.server.app" 2>/dev/null; then
    echo "installing llama-cpp-python's server dependencies..." >&2
    "$py" -m pip install --quiet --disable-pip-version-check 'uvicorn>=0.22.0' 'fastapi>=0.100.0' \
        'pydantic-settings>=2.0.1' 'sse-starlette>=1.6.1' 'starlette-context>=0.3.6,<0.4' 'PyYAML>=5.1' >&2
    "$py" -c "import llama_cpp.server.app" || die "llama_cpp.server still does not import (see above)"
fi

mkdir -p "$results"
results=$(cd "$results" && pwd)

# Only one server runs at a time; whatever happens, it (and a running client) is stopped on exit.
server_pid="" client_pid=""
stop_server() {
    [ -n "$server_pid" ] || return 0
    if kill -0 "$server_pid" 2>/dev/null; then
        kill "$server_pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.2; done
        kill -9 "$server_pid" 2>/dev/null || true
    fi
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
}
cleanup() {
    [ -z "$client_pid" ] || kill "$client_pid" 2>/dev/null || true
    stop_server
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# answers URL [any]: 0 when URL answers 200 (with "any": when anything answers HTTP there).
answers() {
    "$py" - "$1" "${2:-}" <<'EOF'
import sys, urllib.error, urllib.request
try:
    urllib.request.urlopen(sys.argv[1], timeout=2).read()
except urllib.error.HTTPError:
    sys.exit(0 if sys.argv[2] == "any" else 1)
except Exception:
    sys.exit(1)
EOF
}

# run CMD...: runs CMD in the background and waits for it, so that a signal to this script is
# handled at once (bash runs traps only between foreground commands).
run() {
    local rc=0
    "$@" &
    client_pid=$!
    wait "$client_pid" || rc=$?
    client_pid=""
    return "$rc"
}

# start_server LABEL PORT LOG CMD...: starts CMD, waits until /v1/models answers.
start_server() {
    local label=$1 port=$2 log=$3; shift 3
    ! answers "http://$host:$port/v1/models" any ||
        die "port $port is already serving something: stop it, or choose another port (SHARDLINE_PORT, LLAMACPP_PORT)"
    echo "starting $label on port $port (log: $log)" >&2
    "$@" >"$log" 2>&1 &
    server_pid=$!
    local waited=0
    until answers "http://$host:$port/v1/models"; do
        if ! kill -0 "$server_pid" 2>/dev/null; then
            tail -n 20 "$log" >&2
            die "$label exited before it was ready (log: $log)"
        fi
        waited=$((waited + 1))
        [ "$waited" -le 600 ] || { tail -n 20 "$log" >&2; die "$label not ready after 10 minutes (log: $log)"; }
        sleep 1
    done
}

# run_levels ENGINE PORT: a warmup, then one `bench serve` per concurrency level, each with its
# own result file. Every level and the warmup draw their prompts from their own seed (the same
# for both servers): a prompt seen before would be a prefix-cache hit, not a prefill.
run_levels() {
    local engine=$1 port=$2 c n
    local common=(--base-url "http://$host:$port" --model "$name" --endpoint /v1/completions --dataset random
                  --input-len "$input_len" --output-len "$output_len")
    if [ "$warmup" -gt 0 ]; then
        echo "$engine: warmup, $warmup requests" >&2
        if ! run "$bin" bench serve "${common[@]}" --num-prompts "$warmup" --max-concurrency 1 --seed 1000000 \
            >"$results/$engine-warmup.txt" 2>&1; then
            tail -n 20 "$results/$engine-warmup.txt" >&2
            die "warmup against $engine failed (log: $results/$engine-warmup.txt)"
        fi
    fi
    for c in "${levels[@]}"; do
        n=${num_prompts:-$(( per_slot * c > min_prompts ? per_slot * c : min_prompts ))}
        echo "$engine: concurrency $c, $n requests ($input_len tokens in, $output_len out)" >&2
        if ! run "$bin" bench serve "${common[@]}" --num-prompts "$n" --max-concurrency "$c" --seed "$c" \
            --result-file "$results/$engine-c$c.json" >"$results/$engine-c$c.txt" 2>&1; then
            tail -n 20 "$results/$engine-c$c.txt" >&2
            die "bench serve against $engine failed at concurrency $c (log: $results/$engine-c$c.txt)"
        fi
        kill -0 "$server_pid" 2>/dev/null || die "$engine's server died at concurrency $c (log: $results/$engine-server.log)"
    done
}

# Shardline: `make serve`'s flags and SHARDLINE_ARGS, THREADS compute threads.
read -r -a extra_args <<<"${SHARDLINE_ARGS:-}"
start_server shardline "$shardline_port" "$results/shardline-server.log" \
    env SHARDLINE_NUM_THREADS="$threads" "$bin" serve "${shardline_model_args[@]}" "${extra_args[@]}" --host "$host" --port "$shardline_port"
run_levels shardline "$shardline_port"
stop_server

# llama.cpp: llama-cpp-python's server (Benchmarks/llamacpp_server.py adds ignore_eos, streamed
# usage and /tokenize, nothing else). It runs one request at a time: others wait in its queue.
# With LLAMA_SERVER, llama.cpp's own batching server instead.
# --interrupt_requests False: by default a waiting request cuts the streaming one short.
n_ctx=$(( input_len + output_len + 256 ))
[ "$n_ctx" -ge 2048 ] || n_ctx=2048
if [ -n "${LLAMA_SERVER:-}" ]; then
    # llama.cpp's own server, continuous batching over as many slots as the highest level has requests.
    [ -x "$LLAMA_SERVER" ] || die "LLAMA_SERVER=$LLAMA_SERVER: no such executable"
    slots=$(tr ',' '\n' <<<"$concurrency" | sort -n | tail -1)
    peer="llama-server -np $slots"
    start_server llama.cpp "$llamacpp_port" "$results/llamacpp-server.log" \
        "$LLAMA_SERVER" -m "$model" -a "$name" -t "$threads" -tb "$threads" -np "$slots" -c $(( slots * n_ctx )) \
        --host "$host" --port "$llamacpp_port"
else
    peer="llama-cpp-python's server"
    start_server llama.cpp "$llamacpp_port" "$results/llamacpp-server.log" \
        "$py" Benchmarks/llamacpp_server.py --model "$model" --model_alias "$name" \
        --n_threads "$threads" --n_threads_batch "$threads" --n_ctx "$n_ctx" --interrupt_requests False \
        --host "$host" --port "$llamacpp_port"
fi
run_levels llamacpp "$llamacpp_port"
stop_server

# The table; a non-zero exit when a request failed or came back short.
status=0
"$py" Benchmarks/serve_compare.py "$results" --model "$name" --threads "$threads" --peer "$peer" \
    --shardline "shardline serve${SHARDLINE_ARGS:+ $SHARDLINE_ARGS}" | tee "$results/table.txt" || status=$?
echo "results: $results" >&2
exit "$status"
