"""threat-cloud queries over threat events: time series, geography (real IP ranges from
tor-geoipdb, and a range file of the test's own), trends, the MITRE ATT&CK heatmap with its
Navigator layer, and the event part of /api/stats."""
from __future__ import annotations

import bisect
import ipaddress
import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from conftest import GEOIP_FILES, SOURCE_DIR, assert_error_style
from threat_cloud_helpers import ADMIN, RELAXED, assert_validation, auth, create_key, iso, post_threats, threat_event

PLAIN = {**RELAXED, "TC_ANONYMIZE_UPLOADS": "false"}
NOW = datetime.now(timezone.utc).replace(microsecond=0)
TOR_GEOIP, TOR_GEOIP6 = GEOIP_FILES
ISO_3166 = Path("/usr/share/iso-codes/json/iso_3166-1.json")
ATTACK = SOURCE_DIR / "services/threat-cloud/assets/enterprise-attack-techniques.json"


def hours_ago(h: float) -> str:
    return iso(NOW - timedelta(hours=h))


def query(server, path, headers=ADMIN, **params):
    r = server.get(path, params=params, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()["data"]


# --- time series ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def series(module_launch):
    server = module_launch("threat-cloud", env=PLAIN)
    events = [threat_event(attackSourceIP="192.0.2.1", timestamp=hours_ago(1)),
              threat_event(attackSourceIP="192.0.2.2", timestamp=hours_ago(1)),
              threat_event(attackSourceIP="192.0.2.2", timestamp=hours_ago(1.01)),
              threat_event(attackSourceIP="192.0.2.3", attackType="port_scan", mitreTechnique="T1046",
                           timestamp=hours_ago(5)),
              threat_event(attackSourceIP="192.0.2.4", timestamp=hours_ago(24 * 3))]
    post_threats(server, {"events": events}, expect=201)
    return server


def bucket(hours: float, granularity="hour") -> str:
    t = NOW - timedelta(hours=hours)
    if granularity == "hour":
        return iso(t.replace(minute=0, second=0))
    return iso(t.replace(hour=0, minute=0, second=0))


def test_timeseries_by_hour(series):
    data = query(series, "/api/query/timeseries", granularity="hour")
    points = data["points"]
    assert data["granularity"] == "hour" and len(points) == 24 and data["total"] == 4
    assert points[-1]["time"] == data["until"][:14] + "00:00Z" and data["since"] == points[0]["time"]
    by_time = {p["time"]: p for p in points}
    one_hour = {bucket(1), bucket(1.01)}
    assert sum(by_time[t]["count"] for t in one_hour) == 3
    assert by_time[bucket(5)] == {"time": bucket(5), "count": 1, "uniqueSources": 1}
    assert sum(p["count"] for p in points) == 4
    scan = query(series, "/api/query/timeseries", granularity="hour", attackType="PORT_SCAN")
    assert scan["total"] == 1 and scan["attackType"] == "port_scan"


def test_timeseries_by_day_and_week(series):
    data = query(series, "/api/query/timeseries", granularity="day", since=hours_ago(24 * 4))
    days = (datetime.fromisoformat(data["until"][:10]) - datetime.fromisoformat(hours_ago(24 * 4)[:10])).days
    assert len(data["points"]) == days + 1 and data["total"] == 5
    by_time = {p["time"]: p["count"] for p in data["points"]}
    assert by_time[bucket(24 * 3, "day")] == 1
    week = query(series, "/api/query/timeseries", granularity="week")
    assert len(week["points"]) == 12 and week["total"] == 5
    for p in week["points"]:
        assert datetime.strptime(p["time"], "%Y-%m-%dT%H:%M:%SZ").weekday() == 0  # Mondays
    until = query(series, "/api/query/timeseries", granularity="hour", since=hours_ago(30), until=hours_ago(2))
    assert until["total"] == 1 and until["until"] == hours_ago(2)


def test_timeseries_errors(series):
    for params, field in [({"granularity": "month"}, "granularity"), ({"since": "last week"}, "since"),
                          ({"since": hours_ago(1), "until": hours_ago(2)}, "since"),
                          ({"granularity": "hour", "since": hours_ago(24 * 365)}, "since"),
                          ({"attackType": "x" * 65}, "attackType")]:
        assert_validation(series.get("/api/query/timeseries", params=params, headers=ADMIN), field)


# --- geography --------------------------------------------------------------------------------


def load_tor_ranges():
    """Tor's geoip/geoip6 read independently of the service: sorted (start, end, code)."""
    ranges = []
    for line in TOR_GEOIP.read_text().splitlines():
        if line and not line.startswith("#"):
            a, b, cc = line.split(",")
            ranges.append((int(a), int(b), cc))
    six = []
    for line in TOR_GEOIP6.read_text().splitlines():
        if line and not line.startswith("#"):
            a, b, cc = line.split(",")
            six.append((int(ipaddress.IPv6Address(a)), int(ipaddress.IPv6Address(b)), cc))
    return sorted(ranges), sorted(six)


def tor_country(ip: str, ranges, six):
    addr = ipaddress.ip_address(ip)
    table = ranges if addr.version == 4 else six
    n = int(addr)
    i = bisect.bisect_right([r[0] for r in table], n) - 1
    if i >= 0 and table[i][0] <= n <= table[i][1] and table[i][2] != "??":
        return table[i][2]
    return None


def test_geo_with_the_tor_ranges_and_anonymised_sources(module_launch):
    server = module_launch("threat-cloud", env=RELAXED)  # anonymised to /16 and /48
    ranges, six = load_tor_ranges()
    names = {c["alpha_2"]: c.get("common_name", c["name"]) for c in json.loads(ISO_3166.read_text())["3166-1"]}
    sources = ["8.8.8.8", "8.8.4.4", "81.2.69.142", "133.242.0.3", "2001:4860:4860::8888", "2a00:1450:4001:82b::200e"]
    post_threats(server, {"events": [threat_event(attackSourceIP=ip, region=f"r{i % 2}") for i, ip in
                                     enumerate(sources)]}, expect=201)
    networks = [str(ipaddress.ip_network(f"{ip}/{16 if ':' not in ip else 48}", strict=False).network_address)
                for ip in sources]
    expected: dict[str, int] = {}
    for net in networks:
        cc = tor_country(net, ranges, six)
        if cc:
            expected[cc] = expected.get(cc, 0) + 1
    assert expected, "the sample addresses resolve to no country at all"
    data = query(server, "/api/query/geo")
    assert data["total"] == 6 and data["unresolved"] == 6 - sum(expected.values())
    got = {c["country"]: c for c in data["countries"]}
    assert {cc: c["count"] for cc, c in got.items()} == expected
    for cc, c in got.items():
        assert c["name"] == names[cc] and c["share"] == round(c["count"] / 6, 3)
    assert {r["region"]: r["count"] for r in data["regions"]} == {"r0": 3, "r1": 3}


@pytest.fixture(scope="module")
def geo(module_launch, tmp_path_factory):
    ranges = tmp_path_factory.mktemp("geoip") / "ranges.csv"
    ranges.write_text("# start,end,country (ip-location-db layout)\n"
                      "192.0.2.0,192.0.2.255,DE\n"
                      "2001:db8::,2001:db8:ffff:ffff:ffff:ffff:ffff:ffff,JP\n"
                      "198.51.100.0,198.51.100.255,??\n"
                      "this line is malformed\n")
    server = module_launch("threat-cloud", env={**PLAIN, "TC_GEOIP_FILE": str(ranges)})
    events = [threat_event(attackSourceIP="192.0.2.5", timestamp=hours_ago(1), region="eu-central"),
              threat_event(attackSourceIP="192.0.2.5", timestamp=hours_ago(2), region="eu-central"),
              threat_event(attackSourceIP="192.0.2.6", attackType="port_scan", mitreTechnique="T1046",
                           region="eu-central"),
              threat_event(attackSourceIP="2001:db8::1", region="ap-northeast"),
              threat_event(attackSourceIP="198.51.100.1", region="us-east", timestamp=hours_ago(48))]
    post_threats(server, {"events": events}, expect=201)
    return server


def test_geo_by_country_and_region(geo):
    data = query(geo, "/api/query/geo")
    assert data["total"] == 5 and data["unresolved"] == 1
    de, jp = data["countries"]
    assert de == {"country": "DE", "name": "Germany", "count": 3, "share": 0.6, "uniqueIps": 2,
                  "topAttackTypes": [{"attackType": "brute_force", "count": 2}, {"attackType": "port_scan", "count": 1}]}
    assert jp["country"] == "JP" and jp["name"] == "Japan" and jp["count"] == 1 and jp["share"] == 0.2
    regions = {r["region"]: r for r in data["regions"]}
    assert regions["eu-central"]["count"] == 3 and regions["eu-central"]["uniqueIps"] == 2
    assert regions["us-east"]["share"] == 0.2
    recent = query(geo, "/api/query/geo", since=hours_ago(24))
    assert recent["total"] == 4 and recent["unresolved"] == 0
    scans = query(geo, "/api/query/geo", attackType="port_scan")
    assert [(c["country"], c["count"]) for c in scans["countries"]] == [("DE", 1)]
    # the country is also on the event and its IoC
    from threat_cloud_helpers import lookup
    found = lookup(geo, "192.0.2.5")
    assert found["ioc"]["country"] == "DE" and found["relatedThreats"][0]["country"] == "DE"
    assert_validation(geo.get("/api/query/geo", params={"since": "x"}, headers=ADMIN), "since")


@pytest.mark.parametrize("setting", ["off", "empty file"])
def test_geo_without_ranges_is_501(launch, tmp_path, setting):
    if setting == "empty file":
        (tmp_path / "empty.csv").write_text("# no ranges\n")
        setting = str(tmp_path / "empty.csv")
    server = launch("threat-cloud", env={**PLAIN, "TC_GEOIP_FILE": setting})
    post_threats(server, threat_event(), expect=201)  # events are still taken, without a country
    r = server.get("/api/query/geo", headers=ADMIN)
    assert r.status_code == 501
    assert_error_style(server, r.json())
    assert "TC_GEOIP_FILE" in r.json()["error"]


def test_a_missing_configured_range_file_stops_the_start(launch, tmp_path):
    server = launch("threat-cloud", env={**PLAIN, "TC_GEOIP_FILE": str(tmp_path / "nope.csv")}, wait=False)
    assert server.process.wait(timeout=10) == 2
    assert "TC_GEOIP_FILE" in server.log_text()


# --- trends -----------------------------------------------------------------------------------


def test_trends(launch):
    server = launch("threat-cloud", env=PLAIN)
    day = 24
    plan = [("brute_force", day * 1), ("brute_force", day * 2), ("brute_force", day * 3), ("brute_force", day * 9),
            ("port_scan", day * 1), ("port_scan", day * 8), ("port_scan", day * 10),
            ("xss", day * 2), ("sqli", day * 4), ("sqli", day * 11), ("ddos", day * 12)]
    # half an hour off the period boundaries, so that the seconds between here and the query never matter
    post_threats(server, {"events": [threat_event(attackSourceIP=f"192.0.2.{i}", attackType=t,
                                                  timestamp=hours_ago(h + 0.5))
                                     for i, (t, h) in enumerate(plan, 1)]}, expect=201)
    data = query(server, "/api/query/trends", period="7d")
    assert data["period"] == "7d" and data["current"]["total"] == 6 and data["previous"]["total"] == 5
    assert data["rising"] == [
        {"attackType": "brute_force", "current": 3, "previous": 1, "change": 2, "changePercent": 200.0},
        {"attackType": "xss", "current": 1, "previous": 0, "change": 1, "changePercent": None}]
    assert data["falling"] == [
        {"attackType": "ddos", "current": 0, "previous": 1, "change": -1, "changePercent": -100.0},
        {"attackType": "port_scan", "current": 1, "previous": 2, "change": -1, "changePercent": -50.0}]
    assert [t["attackType"] for t in data["stable"]] == ["sqli"]
    short = query(server, "/api/query/trends", period="24h")
    assert short["current"]["total"] == 0 and short["previous"]["total"] == 2
    assert_validation(server.get("/api/query/trends", params={"period": "1y"}, headers=ADMIN), "period")


# --- MITRE ATT&CK -----------------------------------------------------------------------------


def check_navigator_layer(layer: dict, techniques: dict):
    """The rules of the ATT&CK Navigator layer format 4.5 (mitre-attack/attack-navigator,
    layers/spec/v4.5/layerformat.md) that a layer must meet to open."""
    assert isinstance(layer["name"], str) and layer["name"]
    assert layer["domain"] in ("enterprise-attack", "mobile-attack", "ics-attack")
    versions = layer["versions"]
    assert versions["layer"] == "4.5"
    assert tuple(int(x) for x in versions["navigator"].split(".")) >= (4, 9, 0)
    assert layer.get("sorting", 0) in (0, 1, 2, 3)
    layout = layer.get("layout", {})
    assert layout.get("layout", "side") in ("side", "flat", "mini")
    assert layout.get("aggregateFunction", "average") in ("average", "min", "max", "sum")
    gradient = layer["gradient"]
    assert len(gradient["colors"]) >= 2 and all(re.fullmatch(r"#[0-9a-fA-F]{6}([0-9a-fA-F]{2})?", c)
                                                for c in gradient["colors"])
    assert gradient["maxValue"] > gradient["minValue"]
    for t in layer["techniques"]:
        assert re.fullmatch(r"T\d{4}(\.\d{3})?", t["techniqueID"]) and t["techniqueID"] in techniques
        assert isinstance(t.get("score", 0), (int, float)) and isinstance(t.get("enabled", True), bool)
        if "tactic" in t:
            assert t["tactic"] in techniques[t["techniqueID"]]["tactics"]
        if t.get("showSubtechniques"):
            assert not techniques[t["techniqueID"]]["subtechnique"]
    for m in layer.get("metadata", []):
        assert isinstance(m["name"], str) and isinstance(m["value"], str)


def test_navigator_layer_of_an_empty_map(launch):
    server = launch("threat-cloud", env=PLAIN)
    attack = {t["id"]: t for t in json.loads(ATTACK.read_text())["techniques"]}
    layer = server.get("/api/query/mitre-heatmap", params={"format": "navigator"}, headers=ADMIN).json()
    check_navigator_layer(layer, attack)
    assert layer["techniques"] == []


def test_mitre_heatmap_and_navigator_layer(series):
    attack = json.loads(ATTACK.read_text())
    techniques = {t["id"]: t for t in attack["techniques"]}
    post_threats(series, {"events": [
        threat_event(attackSourceIP="192.0.2.20", mitreTechnique=["T1110.001", "T1078"], timestamp=hours_ago(3)),
        threat_event(attackSourceIP="192.0.2.21", mitreTechnique="T1046", attackType="port_scan")]}, expect=201)
    data = query(series, "/api/query/mitre-heatmap")
    counts = {t["id"]: t for t in data["techniques"]}
    # T1110 x5 (4 from the series fixture + 0 here), T1046 x2, T1110.001 x1, T1078 x1
    assert counts["T1110"]["count"] == 4 and counts["T1046"]["count"] == 2
    assert counts["T1110.001"]["count"] == 1 and counts["T1078"]["count"] == 1
    assert data["maxCount"] == 4 and data["techniques"][0]["id"] == "T1110"
    for tid, t in counts.items():
        assert t["name"] == techniques[tid]["name"] and t["tactics"] == techniques[tid]["tactics"]
        assert t["tactic"] == techniques[tid]["tactics"][0]
        assert t["intensity"] == round(t["count"] / 4, 3)
    assert counts["T1110"]["name"] == "Brute Force" and counts["T1110"]["tactic"] == "credential-access"
    assert counts["T1110.001"]["subtechnique"] is True
    assert data["tactics"]["credential-access"] == {"id": "TA0006", "name": "Credential Access", "count": 5,
                                                    "techniques": 2}
    assert data["tactics"]["impact"]["count"] == 0
    assert len(data["tactics"]) == len(attack["tactics"])
    scans = query(series, "/api/query/mitre-heatmap", attackType="port_scan")
    assert [(t["id"], t["count"]) for t in scans["techniques"]] == [("T1046", 2)]

    r = series.get("/api/query/mitre-heatmap", params={"format": "navigator"}, headers=ADMIN)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/json")
    assert "attachment" in r.headers["Content-Disposition"]
    layer = r.json()
    check_navigator_layer(layer, techniques)
    assert layer["versions"]["layer"] == "4.5" and layer["versions"]["attack"] == "18"
    assert layer["domain"] == "enterprise-attack" and layer["gradient"]["maxValue"] == 4
    scored = {t["techniqueID"]: t for t in layer["techniques"]}
    assert {k: v.get("score") for k, v in scored.items()} == {"T1110": 4, "T1046": 2, "T1110.001": 1, "T1078": 1}
    assert scored["T1110"]["showSubtechniques"] is True and scored["T1046"]["showSubtechniques"] is False
    assert all(t in techniques for t in scored)
    assert_validation(series.get("/api/query/mitre-heatmap", params={"format": "svg"}, headers=ADMIN), "format")


def test_stats_include_threat_events(geo):
    threats = query(geo, "/api/stats")["threats"]
    assert threats["total"] == 5 and threats["last24h"] == 4 and threats["uniqueSources"] == 4
    assert threats["topAttackTypes"] == [{"attackType": "brute_force", "count": 4},
                                         {"attackType": "port_scan", "count": 1}]
    assert threats["topTechniques"] == [{"technique": "T1110", "count": 4}, {"technique": "T1046", "count": 1}]
    assert threats["topRegions"][0] == {"region": "eu-central", "count": 3}


def test_scopes(geo):
    read = auth(create_key(geo, ["read"])["key"])
    for path in ["/api/query/timeseries", "/api/query/geo", "/api/query/trends", "/api/query/mitre-heatmap"]:
        assert geo.get(path, headers=read).status_code == 200, path
        r = geo.get(path)
        assert r.status_code == 401, path
        assert_error_style(geo, r.json())
