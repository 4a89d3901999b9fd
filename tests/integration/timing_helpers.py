"""Comparing how long two kinds of request take, for tests that prove an answer's time does not
reveal a secret (for instance whether an address has an account). No absolute thresholds: the
two kinds are interleaved, so a burst of load on a shared machine hits both alike, and compared
by how often one is faster than the other."""
from __future__ import annotations

import time

# Headers that differ between any two responses.
VARYING = {"date", "x-request-id", "x-ratelimit-remaining", "x-ratelimit-reset", "content-length"}


def answer(r) -> str:
    """What a client can see of a response, apart from what differs between any two."""
    return repr((r.status_code, r.text, sorted((k.lower(), v) for k, v in r.headers.items()
                                                if k.lower() not in VARYING)))


def compare(send_a, send_b, rounds: int = 30, pause: float = 0.05):
    """Sends a and b `rounds` times each, alternating which goes first; returns the answers seen
    (as answer() strings) and the share of (a, b) pairs in which a was faster (about 0.5 when both
    do the same work; 1.0 when a skips work b does: the distributions do not overlap)."""
    times = {"a": [], "b": []}
    answers = set()
    for i in range(rounds):
        order = (("a", send_a), ("b", send_b)) if i % 2 == 0 else (("b", send_b), ("a", send_a))
        for kind, send in order:
            started = time.perf_counter()
            r = send()
            times[kind].append(time.perf_counter() - started)
            answers.add(answer(r))
            time.sleep(pause)  # let work deferred past the answer finish before the next request
    a_faster = sum(1 for ta in times["a"] for tb in times["b"] if ta < tb) / (rounds * rounds)
    return answers, a_faster
