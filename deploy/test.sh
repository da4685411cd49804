#!/usr/bin/env bash
# The README's test command: install what is missing, then build and run the whole test suite. Tests run on
# an optimised build (-enable-testing keeps @testable imports working): the training and multi-process tests
# take seconds there instead of minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
deploy/install-deps.sh
swift build -c release --build-tests -Xswiftc -enable-testing
swift test -c release -Xswiftc -enable-testing --skip-build
