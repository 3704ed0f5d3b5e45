#!/usr/bin/env bash
# The web page's tests: wasm-bindgen tests of the exported API under
# Node.js, then headless Chromium end-to-end against a running demo node
# (the verifier, and the citizens' portal with axe-core in three languages).
# Called by `./dev test` after the wasm is built and embedded.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "--- wasm-bindgen tests under Node.js"
CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
  cargo test -p dauys-web-verifier --target wasm32-unknown-unknown --test wasm

echo "--- headless Chromium end-to-end"
# `./dev test` passes the binary its `cargo test --workspace` just built (with
# the page embedded); run alone, this script builds one.
if [ -z "${DAUYS_BIN:-}" ]; then
  cargo build -p dauys
  DAUYS_BIN="$PWD/target/debug/dauys"
fi
# The streaming test generates a large ledger with dauys-fixtures (built
# beside the binary by `cargo test --workspace`; here if missing).
if [ -z "${DAUYS_FIXTURES_BIN:-}" ]; then
  DAUYS_FIXTURES_BIN="$(dirname "$DAUYS_BIN")/dauys-fixtures"
  [ -x "$DAUYS_FIXTURES_BIN" ] || cargo build -p dauys-fixtures
fi
(cd tests/e2e && npm install --no-audit --no-fund --silent)
DAUYS_BIN="$DAUYS_BIN" DAUYS_FIXTURES_BIN="$DAUYS_FIXTURES_BIN" node --test tests/e2e/
echo "screenshots: tests/e2e/artifacts/"
