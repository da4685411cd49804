#!/usr/bin/env bash
# The README's test command: install what is missing, then build and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
deploy/install-deps.sh
swift build --build-tests
swift test --skip-build
