#include "common/openapi.hpp"

#include <charconv>
#include <regex>
#include <set>
#include <stdexcept>

#include <yaml-cpp/yaml.h>

namespace common {

namespace {

boost::json::value scalar_to_json(const YAML::Node& node) {
  const std::string& text = node.Scalar();
  // Quoted scalars carry the tag "!", an explicit !!str the full tag: both stay strings.
  if (node.Tag() == "!" || node.Tag() == "tag:yaml.org,2002:str") return boost::json::string(text);
  if (text == "null" || text == "Null" || text == "NULL" || text == "~" || text.empty()) return nullptr;
  if (text == "true" || text == "True" || text == "TRUE") return true;
  if (text == "false" || text == "False" || text == "FALSE") return false;
  static const std::regex kInt("[-+]?[0-9]+");
  static const std::regex kFloat("[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?");
  if (std::regex_match(text, kInt)) {
    std::int64_t v = 0;
    const char* begin = text.data() + (text[0] == '+' ? 1 : 0);
    auto [ptr, ec] = std::from_chars(begin, text.data() + text.size(), v);
    if (ec == std::errc() && ptr == text.data() + text.size()) return v;
  }
  if (std::regex_match(text, kFloat)) {
    double v = 0;
    const char* begin = text.data() + (text[0] == '+' ? 1 : 0);
    auto [ptr, ec] = std::from_chars(begin, text.data() + text.size(), v);
    if (ec == std::errc() && ptr == text.data() + text.size()) return v;
  }
  return boost::json::string(text);
}

boost::json::value node_to_json(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined: return nullptr;
    case YAML::NodeType::Scalar: return scalar_to_json(node);
    case YAML::NodeType::Sequence: {
      boost::json::array out;
      for (const auto& item : node) out.push_back(node_to_json(item));
      return out;
    }
    case YAML::NodeType::Map: {
      boost::json::object out;
      for (const auto& kv : node) out[kv.first.Scalar()] = node_to_json(kv.second);
      return out;
    }
  }
  return nullptr;
}

}  // namespace

boost::json::value yaml_to_json(std::string_view yaml) {
  try {
    return node_to_json(YAML::Load(std::string(yaml)));
  } catch (const YAML::Exception& e) {
    throw std::runtime_error("invalid YAML at line " + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
}

std::vector<std::string> openapi_mismatches(const std::vector<Route>& routes, const boost::json::object& document) {
  static const std::set<std::string> kMethods{"get", "put", "post", "delete", "patch", "head", "options", "trace"};
  std::vector<std::string> problems;
  std::set<std::pair<std::string, std::string>> documented;  // (METHOD, path)
  if (auto* paths = document.if_contains("paths"); paths && paths->is_object()) {
    for (const auto& [path, item] : paths->as_object()) {
      if (!item.is_object()) continue;
      for (const auto& [method, op] : item.as_object()) {
        std::string m(method);
        if (!kMethods.count(m)) continue;
        for (auto& c : m) c = static_cast<char>(c - 'a' + 'A');
        documented.emplace(m, std::string(path));
      }
    }
  } else {
    problems.push_back("the document has no paths object");
  }
  std::set<std::pair<std::string, std::string>> routed;
  for (const auto& r : routes) {
    // Rest parameters are written {name} in OpenAPI, which has no multi-segment form.
    std::string path = r.path;
    if (auto star = path.rfind("*}"); star != std::string::npos && star + 2 == path.size()) path.erase(star, 1);
    routed.emplace(r.method, path);
    if (!documented.count({r.method, path}))
      problems.push_back("route " + r.method + " " + path + " is not documented");
  }
  for (const auto& [method, path] : documented)
    if (!routed.count({method, path})) problems.push_back("documented " + method + " " + path + " has no route");
  return problems;
}

}  // namespace common
