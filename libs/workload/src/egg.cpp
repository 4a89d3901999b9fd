// Egg import. The egg is read into a JSON value first (JSON or YAML), the parts that older
// formats store as JSON text are decoded, and then each part maps onto the spec.
#include "workload/egg.hpp"

#include <algorithm>

#include "egg_internal.hpp"
#include "text.hpp"
#include "walker.hpp"
#include "workload/resolve.hpp"
#include "workload/rules.hpp"

namespace workload {

namespace json = boost::json;

std::string_view to_string(EggFormat format) {
  switch (format) {
    case EggFormat::PtdlV1: return "PTDL_v1";
    case EggFormat::PtdlV2: return "PTDL_v2";
    case EggFormat::PlcnV1: return "PLCN_v1";
    case EggFormat::PlcnV2: return "PLCN_v2";
    case EggFormat::PlcnV3: return "PLCN_v3";
  }
  return "PTDL_v2";
}

std::optional<Stop> stop_from_egg(std::string_view text) {
  if (!text.starts_with('^')) return Stop{std::string(text), {}};
  // "^^C" is what users wrote when "^C" was sent as SIGKILL: it means the same thing.
  while (text.starts_with('^')) text.remove_prefix(1);
  std::string name(text);
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::toupper(c); });
  if (name == "C") return Stop{{}, "SIGINT"};
  if (!name.starts_with("SIG")) name = "SIG" + name;
  if (signal_number(name) == 0) return std::nullopt;
  return Stop{{}, name};
}

std::optional<std::string> translate_placeholder(std::string_view name) {
  static const std::pair<std::string_view, std::string_view> kExact[] = {
      {"server.build.default.port", "server.port"},
      {"server.allocations.default.port", "server.port"},
      {"server.build.env.SERVER_PORT", "server.port"},
      {"env.SERVER_PORT", "server.port"},
      {"server.build.default.ip", "server.ip"},
      {"server.allocations.default.ip", "server.ip"},
      {"server.build.env.SERVER_IP", "server.ip"},
      {"env.SERVER_IP", "server.ip"},
      {"server.build.memory", "server.memory"},
      {"server.build.memory_limit", "server.memory"},
      {"server.build.env.SERVER_MEMORY", "server.memory"},
      {"env.SERVER_MEMORY", "server.memory"},
      {"server.build.disk", "server.disk"},
      {"server.build.disk_space", "server.disk"},
      {"server.uuid", "server.id"},
      {"config.docker.interface", "node.interface"},
  };
  for (const auto& [from, to] : kExact) {
    if (name == from) return std::string(to);
  }
  for (std::string_view prefix : {"server.build.env.", "server.environment.", "server.build.environment.", "env."}) {
    if (name.starts_with(prefix) && name.size() > prefix.size())
      return "env." + std::string(name.substr(prefix.size()));
  }
  // A bare upper-case name is a variable, as in the startup line.
  if (!name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
        return std::isupper(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '_';
      }))
    return std::string(name);
  return std::nullopt;
}

// Rewrites every {{placeholder}} of `text`; the untranslatable ones are reported at `path`.
std::string translate_text(const std::string& text, Walker& w, const std::string& path) {
  std::string out = text;
  for (const auto& name : placeholders(text)) {
    auto translated = translate_placeholder(name);
    if (!translated) {
      w.fail(path, "placeholder {{" + name + "}} has no Shardlyn equivalent");
      continue;
    }
    out = replace_all(out, "{{" + name + "}}", "{{" + *translated + "}}");
  }
  return out;
}

// PTDL_v2 keeps config.files/startup/logs as JSON inside strings; PLCN as real objects.
std::optional<json::value> decoded(const json::value& v, Walker& w, const std::string& path) {
  if (!v.is_string()) return v;
  std::string_view text = trim(v.as_string());
  if (text.empty()) return json::value(json::object());
  boost::system::error_code ec;
  auto parsed = json::parse(text, ec);
  if (ec) {
    w.fail(path, "is not valid JSON: " + ec.message());
    return std::nullopt;
  }
  return parsed;
}

std::string scalar_text(const json::value& v) {
  if (auto* s = v.if_string()) return std::string(*s);
  if (v.is_bool()) return v.as_bool() ? "true" : "false";  // YAML booleans in PLCN defaults
  if (v.is_null()) return {};
  return json::serialize(v);
}

namespace {

EggFormat read_format(Walker& w, const json::object& egg) {
  const json::value* meta = egg.if_contains("meta");
  const json::value* version = meta && meta->is_object() ? meta->as_object().if_contains("version") : nullptr;
  std::string v = version && version->is_string() ? std::string(version->as_string()) : "";
  if (v == "PTDL_v1") return EggFormat::PtdlV1;
  if (v == "PTDL_v2") return EggFormat::PtdlV2;
  if (v == "PLCN_v1") return EggFormat::PlcnV1;
  if (v == "PLCN_v2") return EggFormat::PlcnV2;
  if (v == "PLCN_v3") return EggFormat::PlcnV3;
  w.fail("meta.version", v.empty() ? "is required (PTDL_v1, PTDL_v2 or PLCN_v3)"
                                   : "'" + v + "' is not a known egg format (PTDL_v1, PTDL_v2, PLCN_v1..v3)");
  throw SpecError("meta.version", "unknown egg format");  // replaced by the walker's errors
}

void read_images(Walker& w, const json::object& egg, EggFormat format, WorkloadSpec& spec) {
  if (format == EggFormat::PtdlV1 && !egg.contains("docker_images")) {
    std::vector<std::string> images;
    if (auto* list = egg.if_contains("images"))
      images = w.strings(*list, "images");
    else if (auto* one = egg.if_contains("image"))
      if (auto s = w.string(*one, "image")) images.push_back(*s);
    for (const auto& image : images) spec.images[image] = image;
    if (!images.empty()) spec.image = images.front();
  } else if (auto* map = egg.if_contains("docker_images")) {
    auto pairs = w.string_map(*map, "docker_images");
    for (const auto& [label, image] : pairs) spec.images[label] = image;
    if (!pairs.empty()) spec.image = pairs.front().second;  // the egg lists its default first
  }
  if (spec.image.empty())
    w.fail(format == EggFormat::PtdlV1 ? "images" : "docker_images", "must name at least one image");
}

}  // namespace

namespace {

void read_metadata(Walker& w, const json::object& egg, EggFormat format, Metadata& meta) {
  if (auto* name = w.required(egg, "", "name"))
    if (auto s = w.string(*name, "name")) meta.name = s->substr(0, 128);
  meta.annotations["egg.shardlyn.io/format"] = std::string(to_string(format));
  for (auto [key, annotation] :
       {std::pair{"author", "egg.shardlyn.io/author"}, std::pair{"description", "egg.shardlyn.io/description"},
        std::pair{"uuid", "egg.shardlyn.io/uuid"}}) {
    if (auto* v = egg.if_contains(key); v && v->is_string() && !v->as_string().empty())
      meta.annotations[annotation] = std::string(v->as_string());
  }
  if (auto* tags = egg.if_contains("tags"); tags && tags->is_array()) {
    std::string joined;
    for (const auto& t : w.strings(*tags, "tags")) joined += (joined.empty() ? "" : ",") + t;
    if (!joined.empty()) meta.annotations["egg.shardlyn.io/tags"] = joined;
  }
}

void read_lists(Walker& w, const json::object& egg, WorkloadSpec& spec) {
  if (auto* f = egg.if_contains("features"); f && !f->is_null()) spec.features = w.strings(*f, "features");
  // PLCN writes an empty deny list as `{ }`.
  if (auto* d = egg.if_contains("file_denylist"); d && !d->is_null() && !(d->is_object() && d->as_object().empty()))
    spec.file_denylist = w.strings(*d, "file_denylist");
}

}  // namespace

EggImport import_egg(std::string_view text) {
  json::value document = parse_document(text);
  ErrorList errors;
  Walker w(errors);
  EggImport out;
  auto* egg = w.object(document, "egg");
  if (!egg) errors.throw_if_any();
  try {
    out.format = read_format(w, *egg);
  } catch (const SpecError&) {
    errors.throw_if_any();
  }
  auto& spec = out.workload.spec;
  read_metadata(w, *egg, out.format, out.workload.metadata);
  read_images(w, *egg, out.format, spec);
  read_egg_startup(w, *egg, spec, out.workload.metadata);
  read_egg_config(w, *egg, spec);
  read_egg_install(w, *egg, spec);
  read_egg_variables(w, *egg, spec);
  read_lists(w, *egg, spec);
  errors.throw_if_any();
  // What the egg became must pass as a spec itself (the errors then name the spec's fields),
  // so an imported workload always exports and parses again.
  out.workload = workload_from_json(to_json(out.workload));
  return out;
}

}  // namespace workload
