#pragma once
// The route tables of threat-cloud, one function per resource (routes_<resource>.cpp).
// Auth schemes: "read", "write", "admin", "public-read" (api_keys.hpp); limit classes:
// "read", "write", "feed", "admin".
#include <vector>

#include <boost/json/object.hpp>

#include "audit.hpp"
#include "common/router.hpp"

namespace tc {

class ApiKeys;
class Iocs;
class AuditLog;
class Sightings;
class Stats;
class Backups;
struct Ioc;

// The caller of an authenticated request, for the audit log.
Actor actor_of(const common::Request& req);

std::vector<common::Route> key_routes(ApiKeys& keys);
std::vector<common::Route> ioc_routes(Iocs& iocs);
std::vector<common::Route> feed_routes(Iocs& iocs);
std::vector<common::Route> sighting_routes(Iocs& iocs, Sightings& sightings);
std::vector<common::Route> stats_routes(Stats& stats);
std::vector<common::Route> audit_routes(AuditLog& log);
std::vector<common::Route> admin_routes(Backups& backups);

// The JSON shape of an IoC (routes_iocs.cpp).
boost::json::object ioc_json(const Ioc& ioc);

}  // namespace tc
