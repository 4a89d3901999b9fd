#include <regex>

#include "egg_internal.hpp"
#include "text.hpp"
#include "workload/egg.hpp"
#include "workload/resolve.hpp"
#include "workload/rules.hpp"

namespace workload {

namespace json = boost::json;

namespace {

// The startup line's placeholders as variables: {{server.build.memory}} -> {{SERVER_MEMORY}}.
std::string startup_placeholders(const std::string& text, Walker& w, const std::string& path) {
  std::string out = text;
  for (const auto& name : placeholders(text)) {
    auto t = translate_placeholder(name);
    std::optional<std::string> var;
    if (t && t->starts_with("env."))
      var = t->substr(4);
    else if (t == "server.port")
      var = "SERVER_PORT";
    else if (t == "server.ip")
      var = "SERVER_IP";
    else if (t == "server.memory")
      var = "SERVER_MEMORY";
    else if (t == "server.id")
      var = "SERVER_UUID";
    else if (t && t->find('.') == std::string::npos)
      var = *t;
    if (!var) {
      w.fail(path, "placeholder {{" + name + "}} has no Shardlyn equivalent");
      continue;
    }
    out = replace_all(out, "{{" + name + "}}", "{{" + *var + "}}");
  }
  return out;
}

}  // namespace

void read_egg_startup(Walker& w, const json::object& egg, WorkloadSpec& spec, Metadata& meta) {
  std::string startup, path = "startup";
  if (auto* commands = egg.if_contains("startup_commands")) {
    path = "startup_commands";
    auto pairs = w.string_map(*commands, path);
    for (const auto& [name, command] : pairs) {
      if (name == "Default" || startup.empty()) startup = command;
    }
    // The other named commands stay visible to whoever picks one later.
    for (const auto& [name, command] : pairs) {
      if (command != startup) meta.annotations["egg.shardlyn.io/startup." + name] = command;
    }
    if (pairs.empty()) w.fail(path, "must hold at least one command");
  } else if (auto* s = w.required(egg, "", "startup")) {
    if (auto text = w.string(*s, "startup")) startup = *text;
  }
  if (startup.empty()) return;
  startup = startup_placeholders(startup, w, path);
  // Eggs are written for the image's shell entrypoint, which is bash where `[[` is used.
  spec.command = {std::string(startup.find("[[") != std::string::npos ? "/bin/bash" : "/bin/sh"), "-c", startup};
}

namespace {

void read_files(Walker& w, const json::value& v, WorkloadSpec& spec) {
  auto files = decoded(v, w, "config.files");
  if (!files) return;
  if (files->is_array() && files->as_array().empty()) return;  // PHP writes an empty map as []
  auto* obj = w.object(*files, "config.files");
  if (!obj) return;
  for (const auto& [file_path, entry] : *obj) {
    const std::string path = "config.files." + std::string(file_path);
    auto* e = w.object(entry, path);
    if (!e) continue;
    ConfigFile file{std::string(file_path), ConfigParser::File, {}};
    if (auto* p = w.required(*e, path, "parser")) {
      if (auto name = w.string(*p, path + ".parser")) {
        if (auto parser = config_parser_from(*name))
          file.parser = *parser;
        else
          w.fail(path + ".parser", "'" + *name + "' is not a parser (file, properties, ini, json, yaml, xml)");
      }
    }
    if (auto* find = e->if_contains("find"); find && !(find->is_array() && find->as_array().empty())) {
      if (auto* f = w.object(*find, path + ".find")) {
        for (const auto& [key, value] : *f) {
          const std::string field = path + ".find." + std::string(key);
          if (auto* cases = value.if_object()) {
            for (const auto& [when, then] : *cases)
              file.replace.push_back(
                  {std::string(key), std::string(when), translate_text(scalar_text(then), w, field)});
          } else {
            file.replace.push_back({std::string(key), std::nullopt, translate_text(scalar_text(value), w, field)});
          }
        }
      }
    }
    spec.config_files.push_back(std::move(file));
  }
}

void read_done(Walker& w, const json::value& v, WorkloadSpec& spec) {
  auto startup = decoded(v, w, "config.startup");
  if (!startup || (startup->is_array() && startup->as_array().empty())) return;
  auto* obj = w.object(*startup, "config.startup");
  if (!obj) return;
  if (auto* done = obj->if_contains("done")) {
    std::vector<std::string> texts;
    if (done->is_string())
      texts.emplace_back(done->as_string());
    else
      texts = w.strings(*done, "config.startup.done");
    for (auto& t : texts) {
      if (t.empty()) continue;
      if (t.starts_with("regex:"))
        spec.startup.done.push_back({t.substr(6), true});
      else
        spec.startup.done.push_back({t, false});
    }
  }
  if (auto* strip = obj->if_contains("strip_ansi"); strip && strip->is_bool())
    spec.startup.strip_ansi = strip->as_bool();
}

}  // namespace

void read_egg_config(Walker& w, const json::object& egg, WorkloadSpec& spec) {
  auto* config_value = w.required(egg, "", "config");
  if (!config_value) return;
  auto* config = w.object(*config_value, "config");
  if (!config) return;
  if (auto* files = config->if_contains("files"); files && !files->is_null()) read_files(w, *files, spec);
  if (auto* startup = config->if_contains("startup"); startup && !startup->is_null()) read_done(w, *startup, spec);
  if (auto* stop = config->if_contains("stop"); stop && !stop->is_null()) {
    if (auto text = w.string(*stop, "config.stop"); text && !text->empty()) {
      if (auto parsed = stop_from_egg(*text))
        spec.stop = *parsed;
      else
        w.fail("config.stop", "'" + *text + "' names no signal");
    }
  }
}

void read_egg_install(Walker& w, const json::object& egg, WorkloadSpec& spec) {
  auto* scripts = egg.if_contains("scripts");
  if (!scripts || !scripts->is_object()) return;
  auto* installation = scripts->as_object().if_contains("installation");
  if (!installation || installation->is_null()) return;
  auto* obj = w.object(*installation, "scripts.installation");
  if (!obj) return;
  Install install;
  if (auto* s = obj->if_contains("script"); s && !s->is_null())
    if (auto text = w.string(*s, "scripts.installation.script")) install.script = *text;
  if (install.script.empty()) return;  // an egg without an install step
  if (auto* c = obj->if_contains("container"); c && !c->is_null())
    if (auto text = w.string(*c, "scripts.installation.container")) install.image = *text;
  if (auto* e = obj->if_contains("entrypoint"); e && !e->is_null())
    if (auto text = w.string(*e, "scripts.installation.entrypoint"); text && !text->empty()) install.entrypoint = *text;
  spec.install = install;
}

void read_egg_variables(Walker& w, const json::object& egg, WorkloadSpec& spec) {
  auto* vars = egg.if_contains("variables");
  if (!vars || vars->is_null()) return;
  auto* arr = w.array(*vars, "variables");
  if (!arr) return;
  for (std::size_t i = 0; i < arr->size(); ++i) {
    const std::string path = index_path("variables", i);
    auto* v = w.object((*arr)[i], path);
    if (!v) continue;
    Variable var;
    if (auto* n = w.required(*v, path, "name"))
      if (auto s = w.string(*n, path + ".name")) var.name = *s;
    if (auto* e = w.required(*v, path, "env_variable"))
      if (auto s = w.string(*e, path + ".env_variable")) var.env = *s;
    // Pelican's rule: a variable may not shadow what the platform sets; it gets a prefix.
    if (is_builtin_env(var.env)) var.env = "SERVER_" + var.env;
    if (auto* d = v->if_contains("description")) var.description = scalar_text(*d);
    if (auto* d = v->if_contains("default_value")) var.default_value = scalar_text(*d);
    if (auto* b = v->if_contains("user_viewable"))
      var.user_viewable = b->is_bool() ? b->as_bool() : scalar_text(*b) == "1";
    if (auto* b = v->if_contains("user_editable"))
      var.user_editable = b->is_bool() ? b->as_bool() : scalar_text(*b) == "1";
    if (auto* r = v->if_contains("rules"); r && !r->is_null()) {
      if (auto* s = r->if_string())
        var.rules = split_rules(*s);
      else
        var.rules = w.strings(*r, path + ".rules");
    }
    spec.variables.push_back(std::move(var));
  }
}

}  // namespace workload
