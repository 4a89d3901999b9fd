#pragma once
// Importing Pterodactyl and Pelican eggs (PTDL_v1, PTDL_v2, PLCN_v1..v3; JSON or YAML) as
// shardlyn/v1 workloads: images, startup command, install script, variables with their
// rules, config files with their parsers and placeholders, done markers and the stop action.
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/embedded.hpp"
#include "workload/spec.hpp"

namespace workload {

enum class EggFormat { PtdlV1, PtdlV2, PlcnV1, PlcnV2, PlcnV3 };
std::string_view to_string(EggFormat format);

struct EggImport {
  Workload workload;
  EggFormat format = EggFormat::PtdlV2;
};

// Throws SpecError naming the egg field that is missing or malformed ("meta.version: ...",
// "variables[2].env_variable: is required", "config.files: is not valid JSON").
EggImport import_egg(std::string_view text);

// The egg's stop string as the spec's stop: "^C", "^^C", "^SIGINT", "^INT" -> that signal,
// anything else -> a console command. nullopt for an unknown signal after '^'.
std::optional<Stop> stop_from_egg(std::string_view stop);

// An egg placeholder ({{server.build.default.port}}, {{env.X}}, {{config.docker.interface}},
// the Pelican spellings ...) in Shardlyn's words ({{server.port}}, {{env.X}}, {{node.interface}});
// nullopt when Shardlyn has no equivalent.
std::optional<std::string> translate_placeholder(std::string_view name);

// The real eggs shipped with Shardlyn (libs/workload/eggs/*.json), for templates.
std::span<const common::EmbeddedFile> shipped_eggs();

}  // namespace workload
