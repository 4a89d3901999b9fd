// The line-oriented config parsers: file, properties, ini. They edit lines in place so that
// comments, blank lines and line endings survive.
#include <algorithm>

#include "config_internal.hpp"
#include "text.hpp"

namespace workload {

namespace {

struct Line {
  std::string body;
  std::string end;  // "\n", "\r\n" or "" for the last line
};

std::vector<Line> lines_of(std::string_view text) {
  std::vector<Line> out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto nl = text.find('\n', pos);
    std::string_view body = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    std::string end = nl == std::string_view::npos ? "" : "\n";
    if (!body.empty() && body.back() == '\r') body.remove_suffix(1), end = "\r" + end;
    out.push_back({std::string(body), end});
    if (nl == std::string_view::npos) break;
    pos = nl + 1;
  }
  return out;
}

std::string join_lines(const std::vector<Line>& lines) {
  std::string out;
  for (const auto& l : lines) out += l.body + l.end;
  return out;
}

// Appending keeps the file's own line ending style.
void append_line(std::vector<Line>& lines, std::string body) {
  std::string end = !lines.empty() && lines.front().end == "\r\n" ? "\r\n" : "\n";
  if (!lines.empty() && lines.back().end.empty()) lines.back().end = end;
  lines.push_back({std::move(body), end});
}

// key, separator position and value of a `key=value` / `key: value` / `key value` line.
struct KeyValue {
  std::string key;
  std::size_t value_start = 0;
  std::string value;
};

std::optional<KeyValue> key_value(const std::string& body, bool ini) {
  std::string_view t = trim(body);
  if (t.empty() || t.front() == '#' || t.front() == '!' || t.front() == ';' || t.front() == '[') return std::nullopt;
  auto sep = body.find_first_of(ini ? "=" : "=:");
  if (sep == std::string::npos && !ini) sep = body.find_first_of(" \t", body.find_first_not_of(" \t"));
  if (sep == std::string::npos) return std::nullopt;
  KeyValue kv{std::string(trim(std::string_view(body).substr(0, sep))), sep + 1, {}};
  while (kv.value_start < body.size() && (body[kv.value_start] == ' ' || body[kv.value_start] == '\t'))
    ++kv.value_start;
  kv.value = std::string(trim(std::string_view(body).substr(kv.value_start)));
  return kv;
}

// A value with no space after `=` gets none; one with a space keeps it.
std::string set_value(const std::string& body, const KeyValue& kv, const std::string& value) {
  return body.substr(0, kv.value_start) + value;
}

}  // namespace

std::string rewrite_file_lines(std::string_view text, const std::vector<Replacement>& replace) {
  auto lines = lines_of(text);
  for (auto& line : lines) {
    for (const auto& r : replace) {
      if (line.body.starts_with(r.match) && (!r.if_value || line.body == *r.if_value)) line.body = r.value;
    }
  }
  return join_lines(lines);
}

std::string rewrite_properties(std::string_view text, const std::vector<Replacement>& replace) {
  auto lines = lines_of(text);
  for (const auto& r : replace) {
    bool found = false;
    for (auto& line : lines) {
      auto kv = key_value(line.body, false);
      if (!kv || kv->key != r.match) continue;
      found = true;
      if (!r.if_value || kv->value == *r.if_value) line.body = set_value(line.body, *kv, r.value);
    }
    if (!found && !r.if_value) append_line(lines, r.match + "=" + r.value);
  }
  return join_lines(lines);
}

namespace {

std::string section_of(const std::string& body) {
  std::string_view t = trim(body);
  if (t.size() >= 2 && t.front() == '[' && t.back() == ']') return std::string(trim(t.substr(1, t.size() - 2)));
  return {};
}

bool is_section(const std::string& body) { return !section_of(body).empty(); }

// `section.key` when the file has that section, else a key of the global part.
std::pair<std::string, std::string> ini_target(const std::vector<Line>& lines, const std::string& match) {
  auto dot = match.find('.');
  if (dot != std::string::npos) {
    std::string section = match.substr(0, dot);
    bool exists = std::any_of(lines.begin(), lines.end(), [&](const Line& l) { return section_of(l.body) == section; });
    if (exists) return {section, match.substr(dot + 1)};
  }
  return {"", match};
}

}  // namespace

std::string rewrite_ini(std::string_view text, const std::vector<Replacement>& replace) {
  auto lines = lines_of(text);
  for (const auto& r : replace) {
    auto [section, key] = ini_target(lines, r.match);
    std::string current;
    std::optional<std::size_t> section_end;  // where a missing key goes
    bool found = false;
    for (std::size_t i = 0; i < lines.size(); ++i) {
      if (is_section(lines[i].body)) {
        current = section_of(lines[i].body);
        continue;
      }
      if (current != section) continue;
      if (!trim(lines[i].body).empty()) section_end = i + 1;  // after its last line, before blank ones
      auto kv = key_value(lines[i].body, true);
      if (!kv || kv->key != key) continue;
      found = true;
      if (!r.if_value || kv->value == *r.if_value) lines[i].body = set_value(lines[i].body, *kv, r.value);
    }
    if (found || r.if_value) continue;
    std::string end = !lines.empty() && lines.front().end == "\r\n" ? "\r\n" : "\n";
    if (section_end) {
      if (lines[*section_end - 1].end.empty()) lines[*section_end - 1].end = end;
      lines.insert(lines.begin() + static_cast<std::ptrdiff_t>(*section_end), Line{key + "=" + r.value, end});
    } else if (section.empty()) {
      lines.insert(lines.begin(), Line{key + "=" + r.value, end});  // the global part comes first
    } else {
      append_line(lines, "[" + section + "]");
      append_line(lines, key + "=" + r.value);
    }
  }
  return join_lines(lines);
}

}  // namespace workload
