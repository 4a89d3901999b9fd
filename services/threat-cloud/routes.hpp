#pragma once
// The route tables of threat-cloud, one function per resource (routes_<resource>.cpp).
// Auth schemes: "read", "write", "admin", "public-read" (api_keys.hpp); limit classes:
// "read", "write", "feed", "admin".
#include <optional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "audit.hpp"
#include "common/router.hpp"
#include "store/database.hpp"

namespace common::metrics {
class Counter;
template <class M>
class Family;
}  // namespace common::metrics

namespace tc {

class ApiKeys;
class Iocs;
class AuditLog;
class Sightings;
class Stats;
class Backups;
struct Ioc;
class ThreatEvents;
class Campaigns;
class AttackCatalog;
class GeoIp;
class Analytics;
struct Campaign;
struct ThreatEvent;

// What an IoC lookup adds when present: the threat events the IoC was the source of and the
// campaigns holding them (relatedThreats, campaigns).
struct LookupContext {
  const ThreatEvents* events = nullptr;
  const Campaigns* campaigns = nullptr;
};

struct FeedSource;
class Sources;
class Rules;

// The caller of an authenticated request, for the audit log.
Actor actor_of(const common::Request& req);

std::vector<common::Route> key_routes(ApiKeys& keys);
std::vector<common::Route> ioc_routes(Iocs& iocs, LookupContext related = {});
std::vector<common::Route> feed_routes(const FeedSource& source);
std::vector<common::Route> sighting_routes(Iocs& iocs, Sightings& sightings);
std::vector<common::Route> stats_routes(Stats& stats);
std::vector<common::Route> audit_routes(AuditLog& log);
std::vector<common::Route> admin_routes(Backups& backups);
// `counted` (labels origin, result) counts accepted and duplicate events.
std::vector<common::Route> event_routes(ThreatEvents& events, const AttackCatalog& attack, bool anonymize,
                                        common::metrics::Family<common::metrics::Counter>& counted);
std::vector<common::Route> campaign_routes(Campaigns& campaigns);
std::vector<common::Route> query_routes(const Analytics& analytics, const AttackCatalog& attack, const GeoIp& geo);
std::vector<common::Route> source_routes(Sources& sources);
std::vector<common::Route> rule_routes(Rules& rules, const FeedSource& source);
// /taxii2/: TAXII 2.1 over the "public-read" scheme and "read" class, errors as TAXII messages.
std::vector<common::Route> taxii_routes(store::Database& db);

// The JSON shape of an IoC (routes_iocs.cpp).
boost::json::object ioc_json(const Ioc& ioc);
// The `tlp` query parameter. An unescaped "amber+strict" arrives as "amber strict" (a '+' in a
// query string is a space) and means amber+strict.
std::optional<std::string> tlp_query(const common::Request& req);
// The JSON shapes of a campaign and a threat event (routes_campaigns.cpp).
boost::json::object campaign_json(const Campaign& campaign);
boost::json::object event_json(const ThreatEvent& event);

}  // namespace tc
