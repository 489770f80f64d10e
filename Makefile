# Shardline: `make test` installs what the build needs, builds once, runs every test.
SWIFT ?= swift
CONFIG ?= debug

.PHONY: deps build test release clean

deps:
	@bash scripts/install-deps.sh

build: deps
	$(SWIFT) build -c $(CONFIG)

test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

release: deps
	$(SWIFT) build -c release --product shardline

clean:
	rm -rf .build
