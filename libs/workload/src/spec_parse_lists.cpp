// The two list sections of a spec whose entries have their own small grammar: variables (with
// their rules) and config files (with their replacements).
#include <regex>

#include "walker.hpp"
#include "workload/rules.hpp"
#include "workload/spec.hpp"

namespace workload {

namespace json = boost::json;

namespace {

Variable read_variable(Walker& w, const json::object& obj, const std::string& path) {
  w.only(obj, path, {"name", "env", "description", "default", "userViewable", "userEditable", "rules"});
  Variable var;
  if (auto* n = w.required(obj, path, "name")) {
    auto s = w.string(*n, path + ".name");
    if (s && s->empty()) w.fail(path + ".name", "must not be empty");
    if (s) var.name = *s;
  }
  if (auto* e = w.required(obj, path, "env")) {
    auto s = w.string(*e, path + ".env");
    if (s && !std::regex_match(*s, std::regex("[A-Za-z_][A-Za-z0-9_]*")))
      w.fail(path + ".env", "must be an environment variable name");
    if (s) var.env = *s;
  }
  if (auto* d = obj.if_contains("description"))
    if (auto s = w.string(*d, path + ".description")) var.description = *s;
  if (auto* d = obj.if_contains("default"))
    if (auto s = w.string(*d, path + ".default")) var.default_value = *s;
  if (auto* b = obj.if_contains("userViewable"))
    if (auto v = w.boolean(*b, path + ".userViewable")) var.user_viewable = *v;
  if (auto* b = obj.if_contains("userEditable"))
    if (auto v = w.boolean(*b, path + ".userEditable")) var.user_editable = *v;
  if (auto* r = obj.if_contains("rules")) {
    if (auto* s = r->if_string())
      var.rules = split_rules(*s);
    else if (r->is_array())
      var.rules = w.strings(*r, path + ".rules");
    else
      w.fail(path + ".rules", "must be a rule string (required|string) or a list of rules");
  }
  return var;
}

void read_replacements(Walker& w, const json::value& v, const std::string& path, std::vector<Replacement>& out) {
  auto* obj = w.object(v, path);
  if (!obj) return;
  for (const auto& [key, value] : *obj) {
    const std::string field = join_path(path, key);
    if (auto* s = value.if_string()) {
      out.push_back({std::string(key), std::nullopt, std::string(*s)});
    } else if (auto* cases = value.if_object()) {
      // {current value: new value, ...}: replace only where the file holds that value.
      for (const auto& [when, then] : *cases) {
        if (auto s = w.string(then, join_path(field, when))) out.push_back({std::string(key), std::string(when), *s});
      }
    } else {
      w.fail(field, "must be a string or an object of {current value: new value}");
    }
  }
}

ConfigFile read_config_file(Walker& w, const json::object& obj, const std::string& path) {
  w.only(obj, path, {"path", "parser", "replace"});
  ConfigFile file;
  if (auto* p = w.required(obj, path, "path")) {
    auto s = w.string(*p, path + ".path");
    if (s && s->empty()) w.fail(path + ".path", "must not be empty");
    if (s) file.path = *s;
  }
  if (auto* p = w.required(obj, path, "parser")) {
    if (auto s = w.string(*p, path + ".parser")) {
      if (auto parser = config_parser_from(*s))
        file.parser = *parser;
      else
        w.fail(path + ".parser", "must be one of file, properties, ini, json, yaml, xml");
    }
  }
  if (auto* r = obj.if_contains("replace")) read_replacements(w, *r, path + ".replace", file.replace);
  return file;
}

}  // namespace

void read_variables(Walker& w, const json::value& v, std::vector<Variable>& out) {
  auto* arr = w.array(v, "spec.variables");
  if (!arr) return;
  for (std::size_t i = 0; i < arr->size(); ++i) {
    const std::string path = index_path("spec.variables", i);
    if (auto* obj = w.object((*arr)[i], path)) out.push_back(read_variable(w, *obj, path));
  }
}

void read_config_files(Walker& w, const json::value& v, std::vector<ConfigFile>& out) {
  auto* arr = w.array(v, "spec.configFiles");
  if (!arr) return;
  for (std::size_t i = 0; i < arr->size(); ++i) {
    const std::string path = index_path("spec.configFiles", i);
    if (auto* obj = w.object((*arr)[i], path)) out.push_back(read_config_file(w, *obj, path));
  }
}

}  // namespace workload
