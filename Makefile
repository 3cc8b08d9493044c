# spincart — see README.md. The two commands you need: `make up` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

.PHONY: help build wasm host storefront up test bench services stop clean

help:
	@echo "make up     build everything, start PostgreSQL + Redis, migrate, serve on 127.0.0.1:3000"
	@echo "make test   fmt, clippy, unit, host, component and end-to-end tests"
	@echo "make build  compile the wasm components, the local host and the storefront"
	@echo "make bench  load-test the running-app figures (requests/s, p50/p99)"
	@echo "make stop   stop the embedded PostgreSQL and Redis"

build: wasm host storefront

storefront:
	@scripts/storefront.sh build

wasm:
	@scripts/build-wasm.sh

host:
	@echo "==> building the local host (first build compiles wasmtime: ~6 min on 2 cores)"
	@source scripts/native.sh && cargo build --release "$${NATIVE_PACKAGES[@]}" --lib --bins

up: build
	@scripts/up.sh

test:
	@scripts/test.sh

bench: build
	@scripts/bench.sh

services:
	@scripts/services.sh start

stop:
	@scripts/services.sh stop

clean:
	cargo clean
