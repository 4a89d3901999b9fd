#pragma once
// STIX 2.1: indicators for IoCs (patterns, ids, TLP markings) and the reverse, IoC values
// from the comparison expressions of a STIX pattern. Pure functions, unit-tested directly.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "ioc_types.hpp"

namespace tc {

struct Ioc;

namespace stix {

// The media types of STIX 2.1 content and of TAXII 2.1 responses.
inline constexpr std::string_view kStixMediaType = "application/stix+json;version=2.1";
inline constexpr std::string_view kTaxiiMediaType = "application/taxii+json;version=2.1";

// The STIX pattern matching this IoC ("[ipv4-addr:value = '192.0.2.1']"); nullopt for types
// STIX patterns cannot express (CVE names a vulnerability, not an observable).
std::optional<std::string> pattern(IocType type, std::string_view normalized_value);

// "indicator--<uuid>" for an IoC id: the id's 16 hex digits are the start of the UUID (so
// the IoC can be found again from it), the end is a digest of the id.
std::string indicator_id(std::string_view ioc_id);
// The IoC id an indicator id was made from; nullopt when it is not one of ours.
std::optional<std::string> ioc_id_of(std::string_view indicator_id);

// The id of the STIX 2.1 TLP marking definition for a TLP ("amber+strict" is marked amber).
std::string_view tlp_marking_id(std::string_view tlp);
// The four TLP marking-definition objects STIX 2.1 predefines.
boost::json::array tlp_markings();

// Timestamps with the milliseconds STIX requires ("...:05Z" -> "...:05.000Z").
std::string timestamp(std::string_view rfc3339);

// The indicator object for an IoC (nullopt when its type has no pattern).
std::optional<boost::json::object> indicator(const Ioc& ioc);

// A value named by one comparison `<object>:<path> = '<value>'` of a pattern.
struct PatternValue {
  IocType type;
  std::string value;
};
// Every equality comparison on a supported observable (ipv4/ipv6 address, domain name, URL,
// email address, MD5 / SHA-1 / SHA-256 file hash) in a pattern; other comparisons are ignored.
std::vector<PatternValue> pattern_values(std::string_view pattern);

}  // namespace stix
}  // namespace tc
