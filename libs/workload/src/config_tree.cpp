// The tree-shaped config parsers: json, yaml (dotted paths with `*`) and xml (element paths).
#include <charconv>

#include <yaml-cpp/yaml.h>
#include <boost/json.hpp>

#include "config_internal.hpp"
#include "text.hpp"
#include "workload/config_files.hpp"
#include "workload/errors.hpp"

namespace workload {

namespace json = boost::json;

namespace {

// Keeps the type a key already has (a number stays a number); new keys get the type the text
// reads as, so `"port": 25565` is written for a port.
json::value typed_like(const json::value* current, const std::string& text) {
  if (current && current->is_string()) return json::string(text);
  if (text == "true" || text == "false") return text == "true";
  std::int64_t n = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec == std::errc() && ptr == text.data() + text.size() && !text.empty()) return n;
  return json::string(text);
}

bool equals_text(const json::value& v, const std::string& text) {
  if (auto* s = v.if_string()) return *s == text;
  return json::serialize(v) == text;
}

void set_json(json::value& node, const std::vector<std::string>& keys, std::size_t i, const Replacement& r) {
  if (i == keys.size()) {
    if (!r.if_value || equals_text(node, *r.if_value)) node = typed_like(&node, r.value);
    return;
  }
  const std::string& key = keys[i];
  if (key == "*") {
    if (auto* arr = node.if_array())
      for (auto& item : *arr) set_json(item, keys, i + 1, r);
    if (auto* obj = node.if_object())
      for (auto& kv : *obj) set_json(kv.value(), keys, i + 1, r);
    return;
  }
  if (!node.is_object()) {
    if (r.if_value) return;
    node = json::object();
  }
  auto& obj = node.as_object();
  if (!obj.contains(key)) {
    if (r.if_value) return;  // nothing there to compare against
    if (i + 1 == keys.size()) {
      obj[key] = typed_like(nullptr, r.value);
      return;
    }
    obj[key] = json::object();
  }
  set_json(obj[key], keys, i + 1, r);
}

void pretty(std::string& out, const json::value& v, int indent) {
  const std::string pad(static_cast<std::size_t>(indent + 2), ' ');
  if (auto* obj = v.if_object(); obj && !obj->empty()) {
    out += "{\n";
    bool first = true;
    for (const auto& [k, item] : *obj) {
      out += (first ? "" : ",\n") + pad + json::serialize(json::string(k)) + ": ";
      pretty(out, item, indent + 2);
      first = false;
    }
    out += "\n" + std::string(static_cast<std::size_t>(indent), ' ') + "}";
  } else if (auto* arr = v.if_array(); arr && !arr->empty()) {
    out += "[\n";
    for (std::size_t i = 0; i < arr->size(); ++i) {
      out += (i ? ",\n" : "") + pad;
      pretty(out, (*arr)[i], indent + 2);
    }
    out += "\n" + std::string(static_cast<std::size_t>(indent), ' ') + "]";
  } else {
    out += json::serialize(v);
  }
}

}  // namespace

std::string rewrite_json(std::string_view text, const std::vector<Replacement>& replace, std::string_view path) {
  boost::system::error_code ec;
  json::value doc = trim(text).empty() ? json::value(json::object()) : json::parse(text, ec);
  if (ec) throw SpecError(std::string(path), "is not valid JSON: " + ec.message());
  for (const auto& r : replace) set_json(doc, split(r.match, '.'), 0, r);
  std::string out;
  pretty(out, doc, 0);
  return out + "\n";
}

namespace {

void set_yaml(YAML::Node node, const std::vector<std::string>& keys, std::size_t i, const Replacement& r) {
  if (i == keys.size()) return;
  const std::string& key = keys[i];
  bool last = i + 1 == keys.size();
  if (key == "*") {
    if (!node.IsMap() && !node.IsSequence()) return;
    for (auto it = node.begin(); it != node.end(); ++it) {
      YAML::Node child = node.IsMap() ? it->second : *it;
      if (last) {
        if (!r.if_value || (child.IsScalar() && child.Scalar() == *r.if_value)) child = r.value;
      } else {
        set_yaml(child, keys, i + 1, r);
      }
    }
    return;
  }
  if (!node.IsMap() && !(node.IsNull() && !r.if_value)) return;
  YAML::Node child = node[key];
  if (last) {
    bool matches = child.IsDefined() && child.IsScalar() && child.Scalar() == r.if_value.value_or("");
    if (!r.if_value || matches) node[key] = r.value;
    return;
  }
  if (!child.IsDefined() || child.IsNull()) {
    if (r.if_value) return;
    node[key] = YAML::Node(YAML::NodeType::Map);
  }
  set_yaml(node[key], keys, i + 1, r);
}

}  // namespace

std::string rewrite_yaml(std::string_view text, const std::vector<Replacement>& replace, std::string_view path) {
  YAML::Node doc;
  try {
    doc = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    throw SpecError(std::string(path), "is not valid YAML: " + e.msg);
  }
  if (!doc.IsDefined() || doc.IsNull()) doc = YAML::Node(YAML::NodeType::Map);
  for (const auto& r : replace) set_yaml(doc, split(r.match, '.'), 0, r);
  YAML::Emitter out;
  out << doc;
  return std::string(out.c_str()) + "\n";
}

namespace {

std::string xml_escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '&')
      out += "&amp;";
    else if (c == '<')
      out += "&lt;";
    else if (c == '>')
      out += "&gt;";
    else
      out += c;
  }
  return out;
}

// The first element named `name` that starts in [from, to): positions of its content.
std::optional<std::pair<std::size_t, std::size_t>> find_element(const std::string& doc, const std::string& name,
                                                                std::size_t from, std::size_t to) {
  std::size_t pos = from;
  while ((pos = doc.find("<" + name, pos)) != std::string::npos && pos < to) {
    char after = pos + 1 + name.size() < doc.size() ? doc[pos + 1 + name.size()] : '\0';
    if (after != '>' && after != ' ' && after != '\t' && after != '\n' && after != '\r') {
      ++pos;
      continue;
    }
    auto open_end = doc.find('>', pos);
    if (open_end == std::string::npos || doc[open_end - 1] == '/') return std::nullopt;  // <x/> has no text
    auto close = doc.find("</" + name + ">", open_end);
    if (close == std::string::npos || close > to) return std::nullopt;
    return std::pair{open_end + 1, close};
  }
  return std::nullopt;
}

}  // namespace

std::string rewrite_xml(std::string_view text, const std::vector<Replacement>& replace, std::string_view path) {
  std::string doc(text);
  if (doc.find('<') == std::string::npos) throw SpecError(std::string(path), "is not an XML document");
  for (const auto& r : replace) {
    std::size_t from = 0, to = doc.size();
    std::optional<std::pair<std::size_t, std::size_t>> element;
    for (const auto& name : split(r.match, '.')) {
      element = find_element(doc, name, from, to);
      if (!element) break;
      std::tie(from, to) = *element;
    }
    if (!element) continue;  // a missing element is not invented: XML structure is the file's own
    std::string current = doc.substr(from, to - from);
    if (!r.if_value || std::string(trim(current)) == *r.if_value) doc.replace(from, to - from, xml_escape(r.value));
  }
  return doc;
}

std::string rewrite_config(ConfigParser parser, std::string_view text, const std::vector<Replacement>& replace,
                           std::string_view path) {
  switch (parser) {
    case ConfigParser::File: return rewrite_file_lines(text, replace);
    case ConfigParser::Properties: return rewrite_properties(text, replace);
    case ConfigParser::Ini: return rewrite_ini(text, replace);
    case ConfigParser::Json: return rewrite_json(text, replace, path);
    case ConfigParser::Yaml: return rewrite_yaml(text, replace, path);
    case ConfigParser::Xml: return rewrite_xml(text, replace, path);
  }
  return std::string(text);
}

}  // namespace workload
