#!/usr/bin/env bash
# Runs every benchmark; paste the output into docs/benchmarks.md with the date and machine.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${1:-build/bin}
echo "# $(date -u +%Y-%m-%dT%H:%MZ) on $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo
/usr/bin/python3 tools/bench/http_health.py --bin "$BIN"
/usr/bin/python3 tools/bench/manager.py --bin "$BIN"
/usr/bin/python3 tools/bench/manager_sse.py --bin "$BIN"
/usr/bin/python3 tools/bench/shardlyn_auth.py --bin "$BIN"
/usr/bin/python3 tools/bench/auth.py --bin "$BIN"
/usr/bin/python3 tools/bench/threat_cloud.py --bin "$BIN"
/usr/bin/python3 tools/bench/tc_uploads.py --bin "$BIN"
/usr/bin/python3 tools/bench/pg_scale.py --bin "$BIN"
/usr/bin/python3 tools/bench/shardlyn_runtime.py --bin "$BIN"
/usr/bin/python3 tools/bench/shardlyn_console.py --bin "$BIN"
