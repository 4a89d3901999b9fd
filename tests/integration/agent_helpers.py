"""Helpers of the shardlyn-agent tests: bounded waiting and the kernel's own numbers."""
from __future__ import annotations

import time
from pathlib import Path


def wait_for(predicate, timeout=10.0, step=0.05):
    """The predicate's first truthy value within `timeout` seconds, else its last value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return predicate()


def meminfo_bytes(key: str) -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024
    raise AssertionError(key)
