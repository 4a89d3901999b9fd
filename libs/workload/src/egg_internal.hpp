#pragma once
// The parts of egg import, split over egg.cpp (document, format, images, metadata) and
// egg_parts.cpp (startup, config, install, variables).
#include <optional>
#include <string>

#include <boost/json.hpp>

#include "walker.hpp"
#include "workload/spec.hpp"

namespace workload {

// Rewrites every {{placeholder}} of a config value in Shardlyn's words; the untranslatable
// ones are reported at `path`.
std::string translate_text(const std::string& text, Walker& w, const std::string& path);
// A part that older formats store as JSON text, decoded; objects pass through.
std::optional<boost::json::value> decoded(const boost::json::value& v, Walker& w, const std::string& path);
// A variable's default as text: YAML booleans become "true"/"false", numbers their digits.
std::string scalar_text(const boost::json::value& v);

void read_egg_startup(Walker& w, const boost::json::object& egg, WorkloadSpec& spec, Metadata& meta);
void read_egg_config(Walker& w, const boost::json::object& egg, WorkloadSpec& spec);
void read_egg_install(Walker& w, const boost::json::object& egg, WorkloadSpec& spec);
void read_egg_variables(Walker& w, const boost::json::object& egg, WorkloadSpec& spec);

}  // namespace workload
