#include "common/openapi.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <iterator>
#include <map>
#include <regex>
#include <set>
#include <stdexcept>

#include <yaml-cpp/yaml.h>

#include "common/error.hpp"

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

// Follows local references ("#/components/schemas/X") to the node they name; null when one is broken.
const boost::json::value* resolve(const boost::json::object& document, const boost::json::value* node) {
  for (int hops = 0; node && node->is_object() && hops < 32; ++hops) {
    auto* ref = node->as_object().if_contains("$ref");
    if (!ref) return node;
    if (!ref->is_string() || !ref->as_string().starts_with("#/")) return nullptr;
    const boost::json::value* at = nullptr;
    const boost::json::object* in = &document;
    std::string_view rest = std::string_view(ref->as_string()).substr(2);
    while (in) {
      auto slash = rest.find('/');
      std::string part(rest.substr(0, slash));
      for (std::size_t i = 0; (i = part.find('~', i)) != std::string::npos; ++i)
        part.replace(i, 2, i + 1 < part.size() && part[i + 1] == '1' ? "/" : "~");
      at = in->if_contains(part);
      if (!at || slash == std::string_view::npos) break;
      rest.remove_prefix(slash + 1);
      in = at->if_object();
      if (!in) at = nullptr;
    }
    node = at;
  }
  return node;
}

// The members a request-body schema describes: the union over allOf/oneOf/anyOf branches and,
// for an array body, over its items (routes declare the members of each object of an array).
// `open` when the schema takes members it does not name (an object without properties, or
// additionalProperties other than false).
struct Members {
  std::set<std::string> names;
  bool open = false;
};

void collect_members(const boost::json::object& document, const boost::json::value* node, Members& out,
                     int depth = 0) {
  node = resolve(document, node);
  if (!node || !node->is_object() || depth > 16) return;
  const auto& schema = node->as_object();
  bool branched = false;
  for (const char* key : {"allOf", "oneOf", "anyOf"})
    if (auto* list = schema.if_contains(key); list && list->is_array()) {
      branched = true;
      for (const auto& branch : list->as_array()) collect_members(document, &branch, out, depth + 1);
    }
  if (auto* items = schema.if_contains("items")) collect_members(document, items, out, depth + 1);
  auto* properties = schema.if_contains("properties");
  if (properties && properties->is_object())
    for (const auto& member : properties->as_object()) out.names.emplace(member.key());
  auto* type = schema.if_contains("type");
  bool object = (type && type->is_string() && type->as_string() == "object") || properties;
  auto* extra = schema.if_contains("additionalProperties");
  bool closed = extra && extra->is_bool() && !extra->as_bool();
  if (object && !closed && (!properties || extra) && !branched) out.open = true;
}

std::string names_list(const std::set<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "'" : ", '") + n + "'";
  return out;
}

std::set<std::string> difference(const std::set<std::string>& a, const std::set<std::string>& b) {
  std::set<std::string> out;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::inserter(out, out.end()));
  return out;
}

// The route's declared query parameters and body members against the operation's, both ways.
void compare_inputs(const Route& route, const std::string& path, const boost::json::object& document,
                    const boost::json::object& item, const boost::json::object& operation,
                    std::vector<std::string>& problems) {
  const std::string where = route.method + " " + path;
  auto report = [&](const std::set<std::string>& declared, const std::set<std::string>& documented,
                    const std::string& what) {
    auto named = [&](const std::set<std::string>& names) {
      return what + (names.size() == 1 ? " " : "s ") + names_list(names);
    };
    if (auto extra = difference(declared, documented); !extra.empty())
      problems.push_back("route " + where + " accepts " + named(extra) + " the document does not describe");
    if (auto missing = difference(documented, declared); !missing.empty())
      problems.push_back("documented " + named(missing) + " of " + where + " not accepted by the route");
  };
  auto any = [](const std::vector<std::string>& names) {
    return std::find(names.begin(), names.end(), "*") != names.end();
  };
  if (!any(route.query)) {
    std::set<std::string> documented;
    for (const auto* holder : {&item, &operation})
      if (auto* list = holder->if_contains("parameters"); list && list->is_array())
        for (const auto& entry : list->as_array()) {
          auto* p = resolve(document, &entry);
          if (!p || !p->is_object()) continue;
          auto* in = p->as_object().if_contains("in");
          auto* name = p->as_object().if_contains("name");
          if (in && name && in->is_string() && name->is_string() && in->as_string() == "query")
            documented.emplace(name->as_string());
        }
    report({route.query.begin(), route.query.end()}, documented, "query parameter");
  }
  if (any(route.fields)) return;
  Members members;
  if (auto* body = resolve(document, operation.if_contains("requestBody")); body && body->is_object())
    if (auto* content = body->as_object().if_contains("content"); content && content->is_object())
      for (const auto& media : content->as_object())
        if (media.value().is_object()) collect_members(document, media.value().as_object().if_contains("schema"), members);
  std::set<std::string> declared(route.fields.begin(), route.fields.end());
  report(declared, members.names, "field");
  if (members.open && !declared.empty())
    problems.push_back("the document lets " + where + " take any body member, the route only " +
                       names_list(declared) + " (close the schema: additionalProperties: false)");
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
  struct Documented {
    const boost::json::object* item;
    const boost::json::object* operation;
  };
  std::map<std::pair<std::string, std::string>, Documented> documented;  // (METHOD, path)
  if (auto* paths = document.if_contains("paths"); paths && paths->is_object()) {
    for (const auto& [path, item] : paths->as_object()) {
      if (!item.is_object()) continue;
      for (const auto& [method, op] : item.as_object()) {
        std::string m(method);
        if (!kMethods.count(m)) continue;
        for (auto& c : m) c = static_cast<char>(c - 'a' + 'A');
        documented.emplace(std::pair{m, std::string(path)}, Documented{&item.as_object(), op.if_object()});
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
    auto found = documented.find({r.method, path});
    if (found == documented.end())
      problems.push_back("route " + r.method + " " + path + " is not documented");
    else if (found->second.operation)
      compare_inputs(r, path, document, *found->second.item, *found->second.operation, problems);
  }
  for (const auto& [key, _] : documented)
    if (!routed.count(key)) problems.push_back("documented " + key.first + " " + key.second + " has no route");
  return problems;
}

namespace {

bool closes(const boost::json::object& schema) {
  auto* extra = schema.if_contains("additionalProperties");
  return extra && extra->is_bool() && !extra->as_bool();
}

// Property schemas of a schema and of its allOf/oneOf/anyOf branches (the first naming wins);
// `closed` when the schema, or every one of its branches, says additionalProperties: false.
void gather(const boost::json::object& document, const boost::json::object& schema,
            std::map<std::string, const boost::json::value*>& properties, bool& closed, int depth) {
  if (depth > 16) return;
  if (auto* own = schema.if_contains("properties"); own && own->is_object())
    for (const auto& member : own->as_object()) properties.emplace(member.key(), &member.value());
  bool branches = false, all_closed = true;
  for (const char* key : {"allOf", "oneOf", "anyOf"})
    if (auto* list = schema.if_contains(key); list && list->is_array())
      for (const auto& entry : list->as_array()) {
        auto* branch = resolve(document, &entry);
        if (!branch || !branch->is_object()) continue;
        bool branch_closed = false;
        gather(document, branch->as_object(), properties, branch_closed, depth + 1);
        branches = true;
        all_closed = all_closed && branch_closed;
      }
  closed = closes(schema) || (branches && all_closed);
}

std::shared_ptr<const BodyShape> shape_of(const boost::json::object& document, const boost::json::value* node,
                                          int depth) {
  node = resolve(document, node);
  if (!node || !node->is_object() || depth > 16) return nullptr;
  auto shape = std::make_shared<BodyShape>();
  std::map<std::string, const boost::json::value*> properties;
  gather(document, node->as_object(), properties, shape->closed, depth);
  if (auto* items = node->as_object().if_contains("items")) shape->items = shape_of(document, items, depth + 1);
  bool checked = false;
  for (const auto& [name, schema] : properties) {
    auto child = shape_of(document, schema, depth + 1);
    checked = checked || child;
    if (child || shape->closed) shape->members.emplace_back(name, std::move(child));
  }
  if (!shape->closed && !checked && !shape->items) return nullptr;
  return shape;
}

void collect_nested(const boost::json::value& value, const BodyShape& shape, const std::string& path,
                    std::vector<std::string>& unknown, std::vector<std::string>& accepted) {
  if (value.is_array()) {
    if (!shape.items) return;
    std::size_t index = 0;
    for (const auto& item : value.get_array())
      collect_nested(item, *shape.items, path + "[" + std::to_string(index++) + "]", unknown, accepted);
    return;
  }
  if (!value.is_object()) return;
  for (const auto& member : value.get_object()) {
    std::string_view key = member.key();
    std::string where = path.empty() ? std::string(key) : path + "." + std::string(key);
    auto found = std::lower_bound(shape.members.begin(), shape.members.end(), key,
                                  [](const auto& m, std::string_view k) { return m.first < k; });
    if (found == shape.members.end() || found->first != key) {
      if (!shape.closed || path.empty()) continue;  // the top level is Route::fields' business
      if (unknown.empty())
        for (const auto& m : shape.members) accepted.push_back(path + "." + m.first);
      unknown.push_back(std::move(where));
    } else if (found->second) {
      collect_nested(member.value(), *found->second, where, unknown, accepted);
    }
  }
}

}  // namespace

std::map<std::pair<std::string, std::string>, std::shared_ptr<const BodyShape>> openapi_body_shapes(
    const boost::json::object& document) {
  std::map<std::pair<std::string, std::string>, std::shared_ptr<const BodyShape>> out;
  auto* paths = document.if_contains("paths");
  if (!paths || !paths->is_object()) return out;
  for (const auto& [path, item] : paths->as_object()) {
    if (!item.is_object()) continue;
    for (const auto& [method, op] : item.as_object()) {
      auto* body = op.is_object() ? resolve(document, op.as_object().if_contains("requestBody")) : nullptr;
      auto* content = body && body->is_object() ? body->as_object().if_contains("content") : nullptr;
      if (!content || !content->is_object()) continue;
      for (const auto& media : content->as_object()) {
        if (!std::string_view(media.key()).ends_with("json") || !media.value().is_object()) continue;
        auto* schema = resolve(document, media.value().as_object().if_contains("schema"));
        // An array body's members are those of each item, as for Route::fields.
        if (schema && schema->is_object())
          if (auto* items = schema->as_object().if_contains("items")) schema = items;
        if (auto shape = shape_of(document, schema, 0)) {
          std::string m(method);
          for (auto& c : m) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
          out[{m, std::string(path)}] = std::move(shape);
        }
      }
    }
  }
  return out;
}

void refuse_unknown_nested(const boost::json::value& body, const BodyShape& shape) {
  std::vector<std::string> unknown, accepted;
  if (body.is_array())
    for (const auto& item : body.get_array()) collect_nested(item, shape, "", unknown, accepted);
  else
    collect_nested(body, shape, "", unknown, accepted);
  if (unknown.empty()) return;
  std::string message = unknown.size() == 1 ? "unknown field " : "unknown fields ";
  for (std::size_t i = 0; i < unknown.size(); ++i) message += (i ? ", '" : "'") + unknown[i] + "'";
  if (accepted.empty()) {
    message += ": that object takes no members";
  } else {
    message += " (accepted: ";
    for (std::size_t i = 0; i < accepted.size(); ++i) message += (i ? ", " : "") + accepted[i];
    message += ")";
  }
  throw ApiError::validation(message);
}

}  // namespace common
