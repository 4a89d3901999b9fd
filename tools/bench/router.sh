#!/usr/bin/env bash
# Router time per match over shardlyn-api's route table: the segment trie and the linear scan
# it replaced, measured in the same run (build/tests/router-bench, built with the tests).
set -euo pipefail
BUILD=${1:-build}
"$BUILD/tests/router-bench" "${2:-5000}"
