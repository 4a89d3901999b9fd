"""What every service gets from libcommon's request pipeline, checked on the real binaries:
health endpoints, 404/405, HEAD, security headers, request ids, CORS, rate limits,
/metrics in Prometheus text format, the documentation pages and the database.

Run: /usr/bin/python3 -m pytest -q tests/integration/test_service_basics.py
"""
import json
import math
import re
import subprocess
import sqlite3
import time
from html.parser import HTMLParser

import pytest
import requests
import yaml

from conftest import RELAXED_LIMITS, ALL_SERVICES, SERVICES, assert_error_style, raw


@pytest.fixture(scope="module")
def running(module_launch):
    """One instance of every service for the read-only checks of this module."""
    started = {}

    def get(name):
        if name not in started:
            started[name] = module_launch(name, env=RELAXED_LIMITS)
        return started[name]

    return get


def data_of(server, body):
    """The payload of a success response in the service's style."""
    if server.spec.style == "envelope":
        assert body.get("ok") is True, body
        assert set(body) == {"ok", "data"}, body
        return body["data"]
    assert "ok" not in body, body
    return body


# --- health ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ALL_SERVICES)
def test_health(running, name):
    server = running(name)
    r = server.get("/health")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/json"
    data = data_of(server, r.json())
    assert data["status"] == "ok"
    assert data["service"] == name
    assert re.fullmatch(r"\d+\.\d+\.\d+.*", data["version"])
    assert isinstance(data["uptime"], int) and data["uptime"] >= 0


@pytest.mark.parametrize("name", ALL_SERVICES)
def test_ready(running, name):
    server = running(name)
    r = server.get("/health/ready")
    assert r.status_code == 200
    data = data_of(server, r.json())
    assert data["status"] == "ready"
    assert data["checks"] == {"database": "ok"}


def test_shardlyn_health_aliases(running):
    server = running("shardlyn-api")
    live = server.get("/health/live")
    assert live.status_code == 200
    assert live.json()["status"] == "ok" and live.json()["service"] == "shardlyn-api"
    ready = server.get("/ready")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"
    detailed = server.get("/health/detailed")
    assert detailed.status_code == 200
    body = detailed.json()
    assert body["status"] == "healthy"
    assert body["components"]["database"]["status"] == "healthy"
    assert isinstance(body["components"]["database"]["latency_ms"], (int, float))
    assert body["components"]["database"]["latency_ms"] >= 0
    assert body["service"] == "shardlyn-api"


def test_panguard_services_have_no_shardlyn_aliases(running):
    server = running("auth-server")
    for path in ("/health/live", "/ready", "/health/detailed"):
        assert server.get(path).status_code == 404


# --- routing errors, HEAD ----------------------------------------------------------------------


@pytest.mark.parametrize("name", ALL_SERVICES)
def test_404_vs_405(running, name):
    server = running(name)
    r = server.get("/definitely/not/here")
    assert r.status_code == 404
    assert "Allow" not in r.headers
    assert_error_style(server, r.json())
    if server.spec.style == "envelope":
        assert r.json()["code"] == "not_found"

    r = server.request("POST", "/health", json={})
    assert r.status_code == 405
    assert r.headers["Allow"] == "GET, HEAD"
    assert_error_style(server, r.json())
    if server.spec.style == "envelope":
        assert r.json()["code"] == "method_not_allowed"

    r = server.request("DELETE", "/metrics")
    assert r.status_code == 405
    assert "GET" in [m.strip() for m in r.headers["Allow"].split(",")]


@pytest.mark.parametrize("name", ALL_SERVICES)
def test_head_health(running, name):
    server = running(name)
    get = server.get("/health")
    head = server.request("HEAD", "/health")
    assert head.status_code == 200
    assert head.content == b""
    assert int(head.headers["Content-Length"]) > 0
    # same length as the GET answer (uptime may have changed by a digit, so allow +-2)
    assert abs(int(head.headers["Content-Length"]) - len(get.content)) <= 2
    assert head.headers["Content-Type"] == "application/json"
    # framing: a request after the HEAD on the same connection is parsed correctly
    with raw(server) as conn:
        conn.send(b"HEAD /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nGET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        h = conn.read_response(head=True)
        g = conn.read_response()
        assert h.status == 200 and g.status == 200
        assert json.loads(g.body)


# --- security headers and request ids -------------------------------------------------------


SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}


def check_security_headers(headers):
    for name, value in SECURITY_HEADERS.items():
        assert headers.get(name) == value, f"{name}: {headers.get(name)!r}"
    assert re.fullmatch(r"[A-Za-z0-9._-]{1,128}", headers.get("X-Request-Id", "")), headers.get("X-Request-Id")


@pytest.mark.parametrize("name", ALL_SERVICES)
def test_security_headers_on_every_response(running, name):
    server = running(name)
    responses = [
        server.get("/health"),
        server.get("/health/ready"),
        server.get("/metrics"),
        server.get("/nope"),
        server.request("POST", "/health", json={}),
        server.request("HEAD", "/health"),
        server.request("OPTIONS", "/health"),
        server.get(server.spec.docs_path),
        server.get(server.spec.openapi_json),
        server.get("/health", headers={"X-Big": "x" * 20000}),  # 431 from the server itself
    ]
    for r in responses:
        check_security_headers(r.headers)
        assert "Strict-Transport-Security" not in r.headers or server.scheme == "https"
    # a response to bytes that were not HTTP at all
    with raw(server) as conn:
        conn.send(b"GARBAGE\r\n\r\n")
        resp = conn.read_response()
        assert resp.status == 400
        check_security_headers({k: v for k, v in resp.header_list})


@pytest.mark.parametrize("name", ["auth-server", "shardlyn-api"])
def test_request_id_generated_echoed_or_replaced(running, name):
    server = running(name)
    ids = {server.get("/health").headers["X-Request-Id"] for _ in range(3)}
    assert len(ids) == 3
    for generated in ids:
        assert re.fullmatch(r"[0-9a-f]{32}", generated)

    for sane in ("abc-123_x.Y", "req-" + "a" * 124):
        assert server.get("/health", headers={"X-Request-Id": sane}).headers["X-Request-Id"] == sane
        assert server.get("/nope", headers={"X-Request-Id": sane}).headers["X-Request-Id"] == sane

    for junk in ("x" * 300, "a" * 129, "has spaces in it", "semi;colon", "<script>", "caf\u00e9".encode().decode("latin-1")):
        got = server.get("/health", headers={"X-Request-Id": junk}).headers["X-Request-Id"]
        assert got != junk
        assert re.fullmatch(r"[0-9a-f]{32}", got), got


# --- CORS --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["auth-server", "shardlyn-api"])
def test_cors(launch, name):
    server = launch(name, env={"CORS_ALLOWED_ORIGINS": "https://app.example"})
    good = {"Origin": "https://app.example", "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "Authorization, Content-Type"}
    r = server.request("OPTIONS", "/health", headers=good)
    assert r.status_code == 204
    assert r.content == b""
    assert r.headers["Access-Control-Allow-Origin"] == "https://app.example"
    methods = [m.strip() for m in r.headers["Access-Control-Allow-Methods"].split(",")]
    assert "GET" in methods
    assert "Authorization" in r.headers["Access-Control-Allow-Headers"]
    assert "Origin" in r.headers.get("Vary", "")
    check_security_headers(r.headers)

    bad = dict(good, Origin="https://evil.example")
    r = server.request("OPTIONS", "/health", headers=bad)
    assert r.status_code == 403
    assert "Access-Control-Allow-Origin" not in r.headers
    assert_error_style(server, r.json())

    r = server.get("/health", headers={"Origin": "https://app.example"})
    assert r.status_code == 200
    assert r.headers["Access-Control-Allow-Origin"] == "https://app.example"
    assert "X-Request-Id" in r.headers["Access-Control-Expose-Headers"]

    r = server.get("/health", headers={"Origin": "https://evil.example"})
    assert r.status_code == 200
    assert "Access-Control-Allow-Origin" not in r.headers

    # a preflight to a path that does not exist is a 404, not a CORS answer
    assert server.request("OPTIONS", "/nope", headers=good).status_code == 404


def test_cors_off_by_default(running):
    server = running("threat-cloud")
    r = server.request("OPTIONS", "/health", headers={"Origin": "https://app.example",
                                                       "Access-Control-Request-Method": "GET"})
    assert r.status_code == 403
    r = server.get("/health", headers={"Origin": "https://app.example"})
    assert "Access-Control-Allow-Origin" not in r.headers


# --- rate limits -------------------------------------------------------------------------------


# A public auth-server route under only the service-wide per-IP limit (the docs and the OpenAPI
# document have a bucket of their own).
LIMITED_PATH = "/api/billing/plans"


def _hammer(server, n, headers=None):
    out = []
    with requests.Session() as s:
        for _ in range(n):
            out.append(s.get(server.url(LIMITED_PATH), headers=headers or {}, timeout=10))
    return out


def test_rate_limit_default_20_per_minute(launch):
    server = launch("auth-server")
    t0 = time.monotonic()
    responses = _hammer(server, 21)
    elapsed = time.monotonic() - t0
    first, last = responses[:20], responses[20]
    remaining = []
    for r in first:
        assert r.status_code == 200
        assert r.headers["X-RateLimit-Limit"] == "20"
        remaining.append(int(r.headers["X-RateLimit-Remaining"]))
        assert int(r.headers["X-RateLimit-Reset"]) >= int(time.time()) - 1
    assert remaining == sorted(remaining, reverse=True)
    assert remaining[0] == 19
    if elapsed < 2.5:  # refill is one token per 3 s, so within 2.5 s nothing came back
        assert remaining == list(range(19, -1, -1))
        assert last.status_code == 429
    else:
        pytest.skip(f"machine too slow for an exact token count ({elapsed:.1f} s)")
    assert int(last.headers["Retry-After"]) >= 1
    assert last.headers["X-RateLimit-Limit"] == "20"
    assert last.headers["X-RateLimit-Remaining"] == "0"
    assert int(last.headers["X-RateLimit-Reset"]) > time.time() - 1
    body = last.json()
    assert_error_style(server, body)
    assert body["code"] == "rate_limited"
    check_security_headers(last.headers)

    # exempt endpoints keep answering and carry no limit headers
    for path in ("/health", "/health/ready", "/metrics"):
        r = server.get(path)
        assert r.status_code == 200
        assert "X-RateLimit-Limit" not in r.headers
    # the refusals are counted
    metrics = parse_prometheus(server.get("/metrics").text)
    assert sample(metrics, "auth_server_rate_limited_total", {"class": "service"}) >= 1


def test_rate_limit_ignores_forwarded_for_without_trust_proxy(launch):
    server = launch("auth-server", env={"TRUST_PROXY": "false"})
    statuses = []
    with requests.Session() as s:
        for i in range(21):
            r = s.get(server.url(LIMITED_PATH), headers={"X-Forwarded-For": f"203.0.113.{i + 1}"}, timeout=10)
            statuses.append(r.status_code)
    assert statuses[:20] == [200] * 20
    assert statuses[20] == 429


def test_rate_limit_per_forwarded_ip_with_trust_proxy(launch):
    server = launch("auth-server", env={"TRUST_PROXY": "true"})
    # true = one proxy hop: the client is the entry that proxy appended (10.0.0.1), whatever
    # the client wrote before it.
    a = {"X-Forwarded-For": "203.0.113.7, 10.0.0.1"}
    b = {"X-Forwarded-For": "198.51.100.9"}
    first = _hammer(server, 21, a)
    assert [r.status_code for r in first[:20]] == [200] * 20
    assert first[20].status_code == 429
    r = _hammer(server, 1, b)[0]
    assert r.status_code == 200
    assert int(r.headers["X-RateLimit-Remaining"]) == 19
    # an unparsable forwarded address falls back to the peer address (its own bucket)
    r = _hammer(server, 1, {"X-Forwarded-For": "not-an-ip"})[0]
    assert r.status_code == 200


def _login_burst(server, n=14):
    """n failed logins, each claiming another client address before the proxy's entry."""
    statuses = []
    with requests.Session() as s:
        for i in range(n):
            r = s.post(server.url("/api/auth/login"), json={"email": "nobody@example.com", "password": "wrong-pass"},
                       headers={"X-Forwarded-For": f"10.1.1.{i + 1}, 203.0.113.99"}, timeout=10)
            statuses.append(r.status_code)
    return statuses


def _access_ips(server, path):
    ips = []
    for line in server.log_text().splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("msg") == "request" and entry.get("path") == path:
            ips.append(entry["client_ip"])
    return ips


@pytest.mark.parametrize("setting", ["true", "1", "127.0.0.1/32", "10.0.0.0/8,127.0.0.0/8"])
def test_trust_proxy_takes_the_address_the_trusted_hop_saw(launch, setting):
    # A client cannot dodge the login burst (10) by writing addresses in front of the proxy's entry.
    server = launch("auth-server", env={"TRUST_PROXY": setting})
    statuses = _login_burst(server)
    assert statuses[:10] == [401] * 10, statuses
    assert statuses[10:] == [429] * 4, statuses
    ips = _access_ips(server, "/api/auth/login")
    assert ips == ["203.0.113.99"] * 14


def test_trust_proxy_ignores_the_header_from_an_untrusted_peer(launch):
    # Proxies at 10.0.0.0/8 only: a direct client on loopback keeps its own address.
    server = launch("auth-server", env={"TRUST_PROXY": "10.0.0.0/8"})
    _login_burst(server, 2)
    assert _access_ips(server, "/api/auth/login") == ["127.0.0.1"] * 2


def test_trust_proxy_hop_count_walks_from_the_right(launch):
    server = launch("auth-server", env={"TRUST_PROXY": "2"})
    server.get("/health", headers={"X-Forwarded-For": "6.6.6.6, 198.51.100.4, 10.0.0.9"})
    assert _access_ips(server, "/health")[-1] == "198.51.100.4"  # earlier lines: the start-up check


def test_invalid_trust_proxy_setting_is_a_configuration_error(tmp_path):
    from conftest import base_env, binary
    env = base_env(tmp_path)
    env["TRUST_PROXY"] = "maybe"
    r = subprocess.run([str(binary("auth-server"))], env=env, capture_output=True, text=True, timeout=30)
    assert r.returncode == 2
    assert "TRUST_PROXY" in r.stderr and "maybe" in r.stderr


def test_docs_and_openapi_do_not_count_against_the_api_limit(launch):
    server = launch("auth-server")  # 20/min per IP for the API
    spec = server.spec
    with requests.Session() as s:
        for _ in range(6):  # six docs page loads, five requests each
            for path in (spec.docs_path, spec.docs_path + "/swagger-ui.css", spec.docs_path + "/swagger-ui-bundle.js",
                         spec.docs_path + "/init.js", spec.openapi_json):
                r = s.get(server.url(path), timeout=10)
                assert r.status_code == 200, path
    r = server.get(LIMITED_PATH)
    assert r.status_code == 200
    assert r.headers["X-RateLimit-Limit"] == "20"
    assert r.headers["X-RateLimit-Remaining"] == "19"  # the API's allowance is untouched


def test_docs_have_a_limit_of_their_own(launch):
    server = launch("auth-server", env={"STATIC_RATE_LIMIT": "3/min"})
    statuses = [server.get(server.spec.openapi_json).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert server.get(LIMITED_PATH).status_code == 200


# --- /metrics ----------------------------------------------------------------------------------


NAME_RE = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LABEL_RE = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}


def _parse_value(text):
    if text in ("+Inf", "Inf"):
        return math.inf
    if text == "-Inf":
        return -math.inf
    if text == "NaN":
        return math.nan
    if not re.fullmatch(r"[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?", text):
        raise AssertionError(f"bad sample value {text!r}")
    return float(text)


def _parse_labels(text, pos, line):
    """Parses {a="b",c="d"} starting at text[pos] == '{'; returns (dict, next position)."""
    assert text[pos] == "{"
    pos += 1
    labels = {}
    while True:
        if text[pos] == "}":
            return labels, pos + 1
        m = LABEL_RE.match(text, pos)
        assert m, f"bad label name in {line!r}"
        name = m.group(0)
        pos = m.end()
        assert text[pos:pos + 2] == '="', f"expected =\" after label {name} in {line!r}"
        pos += 2
        value = []
        while True:
            c = text[pos]
            if c == "\\":
                nxt = text[pos + 1]
                assert nxt in ('\\', '"', "n"), f"bad escape \\{nxt} in {line!r}"
                value.append({"\\": "\\", '"': '"', "n": "\n"}[nxt])
                pos += 2
            elif c == '"':
                pos += 1
                break
            elif c == "\n":
                raise AssertionError(f"raw newline in label value in {line!r}")
            else:
                value.append(c)
                pos += 1
        assert name not in labels, f"duplicate label {name} in {line!r}"
        labels[name] = "".join(value)
        if text[pos] == ",":
            pos += 1
            continue
        assert text[pos] == "}", f"expected , or }} in {line!r}"


def parse_prometheus(text):
    """A strict parser for the Prometheus text exposition format 0.0.4. Returns
    {family: {"type", "help", "samples": [(name, labels, value)]}} and checks the rules."""
    assert text.endswith("\n"), "exposition must end with a newline"
    families = {}
    current = None
    seen_samples = set()
    finished = set()
    for line in text.split("\n")[:-1]:
        if line == "":
            continue
        if line.startswith("#"):
            parts = line.split(" ", 3)
            if len(parts) >= 3 and parts[1] in ("HELP", "TYPE"):
                name = parts[2]
                assert NAME_RE.fullmatch(name), f"bad metric name in {line!r}"
                fam = families.setdefault(name, {"type": None, "help": None, "samples": []})
                assert name not in finished, f"{name} declared again after its samples ended"
                if parts[1] == "HELP":
                    assert fam["help"] is None, f"second HELP for {name}"
                    help_text = parts[3] if len(parts) > 3 else ""
                    assert not re.search(r"\\[^\\n]", help_text.replace("\\\\", "")), f"bad HELP escape {line!r}"
                    fam["help"] = help_text
                else:
                    assert fam["type"] is None, f"second TYPE for {name}"
                    assert not fam["samples"], f"TYPE for {name} after its samples"
                    assert len(parts) == 4 and parts[3] in TYPES, f"bad TYPE line {line!r}"
                    fam["type"] = parts[3]
                if current and current != name:
                    finished.add(current)
                current = name
            continue
        m = NAME_RE.match(line)
        assert m, f"bad sample line {line!r}"
        name = m.group(0)
        pos = m.end()
        labels = {}
        if pos < len(line) and line[pos] == "{":
            labels, pos = _parse_labels(line, pos, line)
        assert line[pos] == " ", f"expected a space before the value in {line!r}"
        rest = line[pos + 1:].split(" ")
        assert 1 <= len(rest) <= 2, f"bad sample line {line!r}"
        value = _parse_value(rest[0])
        if len(rest) == 2:
            assert re.fullmatch(r"-?\d+", rest[1]), f"bad timestamp in {line!r}"
        family = name
        for suffix in ("_bucket", "_sum", "_count"):
            base = name[: -len(suffix)]
            if name.endswith(suffix) and families.get(base, {}).get("type") in ("histogram", "summary"):
                family = base
        assert family in families and families[family]["type"], f"sample {name} without a TYPE line"
        assert family not in finished, f"samples of {family} are not contiguous"
        if current and current != family:
            finished.add(current)
        current = family
        key = (name, tuple(sorted(labels.items())))
        assert key not in seen_samples, f"duplicate sample {line!r}"
        seen_samples.add(key)
        if families[family]["type"] == "counter":
            assert value >= 0 and not math.isnan(value), f"negative counter {line!r}"
        families[family]["samples"].append((name, labels, value))

    for name, fam in families.items():
        if fam["type"] == "histogram":
            _check_histogram(name, fam["samples"])
    return families


def _check_histogram(name, samples):
    series = {}
    for sname, labels, value in samples:
        base = tuple(sorted((k, v) for k, v in labels.items() if k != "le"))
        entry = series.setdefault(base, {"buckets": [], "sum": None, "count": None})
        if sname == name + "_bucket":
            assert "le" in labels, f"{sname} without le"
            entry["buckets"].append((_parse_value(labels["le"]), value))
        elif sname == name + "_sum":
            entry["sum"] = value
        elif sname == name + "_count":
            entry["count"] = value
        else:
            raise AssertionError(f"unexpected sample {sname} in histogram {name}")
    for base, e in series.items():
        les = [le for le, _ in e["buckets"]]
        counts = [c for _, c in e["buckets"]]
        assert les, f"{name}{base}: no buckets"
        assert les == sorted(les) and len(set(les)) == len(les), f"{name}{base}: le not ascending: {les}"
        assert les[-1] == math.inf, f"{name}{base}: no +Inf bucket"
        assert all(a <= b for a, b in zip(counts, counts[1:])), f"{name}{base}: buckets not cumulative: {counts}"
        assert e["count"] is not None and e["sum"] is not None, f"{name}{base}: _sum/_count missing"
        assert counts[-1] == e["count"], f"{name}{base}: +Inf {counts[-1]} != _count {e['count']}"
        assert e["sum"] >= 0


def sample(families, name, labels):
    for fam in families.values():
        for sname, slabels, value in fam["samples"]:
            if sname == name and slabels == labels:
                return value
    return None


def test_prometheus_parser_rejects_bad_input():
    good = '# HELP a_total A.\n# TYPE a_total counter\na_total{x="q\\"\\\\\\n"} 3\n'
    fams = parse_prometheus(good)
    assert fams["a_total"]["samples"][0][1] == {"x": 'q"\\\n'}
    for bad in ('a_total 1\n',                                                # no TYPE
                '# TYPE a counter\na{x="\\q"} 1\n',                           # bad escape
                '# TYPE a counter\na{x="1"} 1\na{x="1"} 2\n',                 # duplicate
                '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n',
                '# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 3\n',
                '# TYPE h histogram\nh_bucket{le="2"} 1\nh_bucket{le="1"} 1\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n',
                '# TYPE a counter\na 1',                                       # no final newline
                '# TYPE a counter\na one\n'):
        with pytest.raises(AssertionError):
            parse_prometheus(bad)


@pytest.mark.parametrize("name", ALL_SERVICES)
def test_metrics_format_and_request_counter(running, name):
    server = running(name)
    prefix = server.spec.metrics_prefix
    with requests.Session() as s:
        before = parse_prometheus(s.get(server.url("/metrics"), timeout=10, verify=server.verify).text)
        for _ in range(3):
            assert s.get(server.url("/health/ready"), timeout=10, verify=server.verify).status_code == 200
        assert s.get(server.url("/no/such/thing"), timeout=10, verify=server.verify).status_code == 404
        r = s.get(server.url("/metrics"), timeout=10, verify=server.verify)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    after = parse_prometheus(r.text)

    total = f"{prefix}_http_requests_total"
    assert after[total]["type"] == "counter"
    ready = {"method": "GET", "path": "/health/ready", "status": "200"}
    assert (sample(after, total, ready) or 0) - (sample(before, total, ready) or 0) == 3
    missing = {"method": "GET", "path": "-", "status": "404"}
    assert (sample(after, total, missing) or 0) - (sample(before, total, missing) or 0) == 1
    # no raw paths become label values
    for _, labels, _ in after[total]["samples"]:
        assert labels["path"] == "-" or labels["path"].startswith("/"), labels
        assert "/no/such/thing" != labels["path"]

    duration = f"{prefix}_http_request_duration_seconds"
    assert after[duration]["type"] == "histogram"
    count = sample(after, duration + "_count", {"method": "GET", "path": "/health/ready"})
    assert count is not None and count >= 3
    assert after[f"{prefix}_http_requests_in_flight"]["type"] == "gauge"
    assert sample(after, f"{prefix}_http_requests_in_flight", {}) >= 1  # this scrape itself
    assert sample(after, f"{prefix}_http_open_connections", {}) >= 1
    assert sample(after, "process_start_time_seconds", {}) > 1.6e9
    assert sample(after, "process_resident_memory_bytes", {}) > 0


def test_shardlyn_metric_names(running):
    server = running("shardlyn-api")
    server.get("/health/detailed")
    families = parse_prometheus(server.get("/metrics").text)
    expected = {
        "shardlyn_http_requests_total": "counter",
        "shardlyn_http_request_duration_seconds": "histogram",
        "shardlyn_http_requests_in_flight": "gauge",
        "shardlyn_db_query_duration_seconds": "histogram",
    }
    for name, kind in expected.items():
        assert name in families, f"{name} missing"
        assert families[name]["type"] == kind
        assert families[name]["help"]


def test_protocol_errors_are_counted(running):
    server = running("threat-cloud")

    def rejected_400(families):
        # whatever method label the server uses for a request it could not parse, the path is "-"
        return sum(v for n, labels, v in families["threat_cloud_http_requests_total"]["samples"]
                   if labels["path"] == "-" and labels["status"] == "400")

    before = parse_prometheus(server.get("/metrics").text)
    with raw(server) as conn:
        conn.send(b"GARBAGE\r\n\r\n")
        assert conn.read_response().status == 400
    after = parse_prometheus(server.get("/metrics").text)
    assert rejected_400(after) - rejected_400(before) == 1


def test_metric_labels_stay_bounded_under_random_methods(running):
    # Every distinct method token sent to a known path must not become a new series.
    server = running("shardlyn-agent")
    with raw(server) as conn:
        for i in range(40):
            conn.send(f"M{i:03d}X /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
            assert conn.read_response().status == 405
    families = parse_prometheus(server.get("/metrics").text)
    for family in ("shardlyn_agent_http_requests_total", "shardlyn_agent_http_request_duration_seconds"):
        methods = {labels["method"] for _, labels, _ in families[family]["samples"]}
        assert not any(m.startswith("M0") for m in methods), sorted(methods)
        assert len(methods) <= 12, sorted(methods)


# --- documentation -----------------------------------------------------------------------------


class _Refs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.refs = []

    def handle_starttag(self, tag, attrs):
        for k, v in attrs:
            if k in ("src", "href") and v is not None:
                self.refs.append((tag, v))


@pytest.mark.parametrize("name", ["auth-server", "manager", "threat-cloud", "shardlyn-api", "shardlyn-agent"])
def test_docs_page_uses_local_assets_only(running, name):
    server = running(name)
    spec = server.spec
    r = server.get(spec.docs_path)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/html")
    assert "default-src 'self'" in r.headers.get("Content-Security-Policy", "")
    html = r.text
    assert not re.search(r"(?i)(https?:)?//[a-z0-9]", re.sub(r"<!doctype[^>]*>", "", html, flags=re.I)), \
        "docs page references another host"
    parser = _Refs()
    parser.feed(html)
    assert parser.refs, "docs page references no assets"
    names = set()
    for tag, ref in parser.refs:
        assert ref.startswith("/") and not ref.startswith("//"), f"non-local reference {ref!r}"
        a = server.get(ref)
        assert a.status_code == 200, ref
        if ref.endswith(".css"):
            assert a.headers["Content-Type"].startswith("text/css"), ref
        elif ref.endswith(".js"):
            assert a.headers["Content-Type"].startswith(("application/javascript", "text/javascript")), ref
        check_security_headers(a.headers)
        names.add(ref.rsplit("/", 1)[-1])
        if ref.endswith("swagger-ui-bundle.js"):
            assert len(a.content) > 500 * 1024, f"swagger-ui-bundle.js is only {len(a.content)} bytes"
        if ref.endswith("init.js"):
            assert spec.openapi_json in a.text
    assert {"swagger-ui-bundle.js", "swagger-ui.css"} <= names
    assert server.get(spec.docs_path + "/no-such-asset.js").status_code == 404


@pytest.mark.parametrize("name", ALL_SERVICES)
def test_openapi_document(running, name):
    server = running(name)
    r = server.get(server.spec.openapi_json)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/json")
    doc = r.json()
    assert str(doc["openapi"]).startswith("3.1")
    assert doc["info"]["title"] and doc["info"]["version"]
    assert "/health" in doc["paths"]
    assert "get" in doc["paths"]["/health"]
    if server.spec.openapi_yaml:
        y = server.get(server.spec.openapi_yaml)
        assert y.status_code == 200
        assert "yaml" in y.headers["Content-Type"]
        ydoc = yaml.safe_load(y.text)
        assert str(ydoc["openapi"]).startswith("3.1")
        assert set(ydoc["paths"]) == set(doc["paths"])
        assert "/health" in ydoc["paths"]


# --- persistence -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ALL_SERVICES)
def test_database_created_with_migrations(launch, name):
    server = launch(name)
    db_path = server.data_dir / SERVICES[name].database
    assert db_path.exists()
    assert server.stop() == 0
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as db:
        versions = [row[0] for row in db.execute("SELECT version FROM schema_migrations ORDER BY version")]
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert 1 in versions
    assert versions == sorted(set(versions))
    # A restart on the same DATA_DIR keeps the schema and applies nothing twice.
    again = launch(name, data_dir=server.data_dir)
    assert again.get("/health/ready").status_code == 200
    assert again.stop() == 0
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as db:
        assert [row[0] for row in db.execute("SELECT version FROM schema_migrations ORDER BY version")] == versions


# --- unknown body fields and query parameters ---------------------------------------------------
# Routes declare what they accept; anything else is a 400 naming it, in every service, so a
# misspelt or misremembered name never silently changes what a request means.


def _refused(server, r, name):
    assert r.status_code == 400, r.text
    body = r.json()
    assert_error_style(server, body)
    assert f"'{name}'" in body["error"], body


def test_auth_server_refuses_unknown_fields_and_query_parameters(launch):
    server = launch("auth-server", env=RELAXED_LIMITS)
    r = server.request("POST", "/api/auth/login",
                       json={"email": "a@example.com", "password": "secret-pass", "rememberMe": True})
    _refused(server, r, "rememberMe")
    assert "accepted:" in r.json()["error"] and "email" in r.json()["error"]
    _refused(server, server.get("/api/billing/plans?search=x"), "search")
    # A route that takes no body refuses members too; {} is fine.
    ok = server.request("POST", "/api/auth/register",
                        json={"email": "u1@example.com", "password": "correct-horse-9", "name": "U"})
    token = ok.json()["data"]["token"]
    auth = {"Authorization": f"Bearer {token}"}
    _refused(server, server.request("POST", "/api/auth/logout", json={"everywhere": True}, headers=auth),
             "everywhere")
    assert server.request("POST", "/api/auth/logout", json={}, headers=auth).status_code == 200


def test_manager_refuses_unknown_fields_and_query_parameters(launch):
    server = launch("manager", env=dict(RELAXED_LIMITS, MANAGER_AUTH_TOKEN="fleet-token-0123456789abcdef0123"))
    fleet = {"Authorization": "Bearer fleet-token-0123456789abcdef0123"}
    r = server.request("POST", "/api/agents/register", json={"hostname": "web-1", "hostnme": "typo"}, headers=fleet)
    _refused(server, r, "hostnme")
    _refused(server, server.get("/api/agents?q=web", headers=fleet), "q")
    assert server.get("/api/agents?search=web", headers=fleet).status_code == 200


def test_threat_cloud_refuses_unknown_fields_and_query_parameters(launch):
    from threat_cloud_helpers import ADMIN, RELAXED
    server = launch("threat-cloud", env=RELAXED)
    r = server.request("POST", "/api/iocs", json={"type": "ip", "value": "198.51.100.1", "threatTyp": "c2"},
                       headers=ADMIN)
    _refused(server, r, "threatTyp")
    _refused(server, server.get("/api/iocs?serach=x", headers=ADMIN), "serach")
    assert server.get("/api/iocs?search=x", headers=ADMIN).status_code == 200


def test_shardlyn_refuses_unknown_fields_and_query_parameters(launch):
    from shardlyn_helpers import SHARDLYN_ENV
    server = launch("shardlyn-api", env=SHARDLYN_ENV)
    r = server.request("POST", "/v1/auth/login", json={"email": "a@example.com", "password": "x", "remember": True})
    _refused(server, r, "remember")
    _refused(server, server.get("/v1/auth/bootstrap/status?verbose=1"), "verbose")
    # The intent-inverting case: "allow" is not the field, "granted" is, and it is required.
    from shardlyn_helpers import bootstrap
    owner = bootstrap(server)
    auth, org, me = owner.headers, owner.org, owner.id
    base = f"/v1/organizations/{org}/members/{me}/permissions"
    _refused(server, server.request("POST", base, json={"permission": "billing.read", "allow": False},
                                    headers=auth), "allow")
    r = server.request("POST", base, json={"permission": "billing.read"}, headers=auth)
    _refused(server, r, "granted")


# --- JSON numbers ------------------------------------------------------------------------------

EXPONENT = re.compile(r'[:\[,]\s*-?\d+(?:\.\d+)?[eE][+-]?\d+')


def test_json_numbers_are_plain_decimals(launch):
    server = launch("manager", env=dict(RELAXED_LIMITS, MANAGER_AUTH_TOKEN="fleet-token-0123456789abcdef0123"))
    fleet = {"Authorization": "Bearer fleet-token-0123456789abcdef0123"}
    agent = server.request("POST", "/api/agents/register", json={"hostname": "num-1", "os": "linux", "arch": "x86_64", "version": "1.0.0"}, headers=fleet).json()["data"]
    beat = {"timestamp": "2026-11-22T10:00:00Z", "cpuUsage": 12.5, "memUsage": 0.5, "activeMonitors": 3,
            "threatCount": 1, "eventsProcessed": 1200, "mode": "protection", "uptime": 3600}
    r = server.request("POST", f"/api/agents/{agent['agentId']}/heartbeat", json=beat,
                       headers={"Authorization": f"Bearer {agent['agentToken']}"})
    assert r.status_code == 200, r.text
    text = server.get(f"/api/agents/{agent['agentId']}/metrics", headers=fleet).text
    assert "12.5" in text and "0.5" in text
    assert not EXPONENT.search(text), text
    for name in ("manager",):
        health = server.get("/health").text
        assert not EXPONENT.search(health), health
