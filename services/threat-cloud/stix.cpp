#include "stix.hpp"

#include <array>
#include <utility>

#include "iocs.hpp"
#include "security/digest.hpp"

namespace tc::stix {

namespace {

struct TlpMarking {
  std::string_view tlp;
  std::string_view id;
};
// The marking definitions STIX 2.1 predefines for TLP (section 7.2.1.4).
constexpr std::array<TlpMarking, 4> kTlpMarkings{{
    {"white", "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"},
    {"green", "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"},
    {"amber", "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"},
    {"red", "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"},
}};

// The observable paths a pattern comparison may name, and the IoC type each gives.
struct ObjectPath {
  std::string_view path;
  IocType type;
};
constexpr std::array<ObjectPath, 10> kPaths{{
    {"ipv4-addr:value", IocType::Ip},
    {"ipv6-addr:value", IocType::Ip},
    {"domain-name:value", IocType::Domain},
    {"url:value", IocType::Url},
    {"email-addr:value", IocType::Email},
    {"file:hashes.md5", IocType::HashMd5},
    {"file:hashes.'md5'", IocType::HashMd5},
    {"file:hashes.'sha-1'", IocType::HashSha1},
    {"file:hashes.sha1", IocType::HashSha1},
    {"file:hashes.'sha-256'", IocType::HashSha256},
}};

std::string quote(std::string_view value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

bool is_hex(std::string_view s) {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

}  // namespace

std::optional<std::string> pattern(IocType type, std::string_view v) {
  switch (type) {
    case IocType::Ip:
      return std::string(v.find(':') == std::string_view::npos ? "[ipv4-addr:value = " : "[ipv6-addr:value = ") +
             quote(v) + "]";
    case IocType::Domain: return "[domain-name:value = " + quote(v) + "]";
    case IocType::Url: return "[url:value = " + quote(v) + "]";
    case IocType::Email: return "[email-addr:value = " + quote(v) + "]";
    case IocType::HashMd5: return "[file:hashes.MD5 = " + quote(v) + "]";
    case IocType::HashSha1: return "[file:hashes.'SHA-1' = " + quote(v) + "]";
    case IocType::HashSha256: return "[file:hashes.'SHA-256' = " + quote(v) + "]";
    case IocType::Cve: return std::nullopt;
  }
  return std::nullopt;
}

std::string indicator_id(std::string_view ioc_id) {
  std::string hex(ioc_id.starts_with("ioc_") ? ioc_id.substr(4) : ioc_id);
  std::string digest = security::sha256_hex(ioc_id);
  if (hex.size() != 16 || !is_hex(hex)) hex = digest.substr(32, 16);
  // 8-4-4-4-12 with version 4 and variant 8: 16 hex of the id, then 14 of the digest.
  std::string tail = digest.substr(0, 14);
  return "indicator--" + hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-4" + hex.substr(12, 3) + "-8" +
         hex.substr(15, 1) + tail.substr(0, 2) + "-" + tail.substr(2, 12);
}

std::optional<std::string> ioc_id_of(std::string_view id) {
  constexpr std::string_view kPrefix = "indicator--";
  if (!id.starts_with(kPrefix) || id.size() != kPrefix.size() + 36) return std::nullopt;
  auto u = id.substr(kPrefix.size());
  std::string hex = std::string(u.substr(0, 8)) + std::string(u.substr(9, 4)) + std::string(u.substr(15, 3)) +
                    std::string(u.substr(20, 1));
  if (!is_hex(hex)) return std::nullopt;
  std::string ioc_id = "ioc_" + hex;
  if (indicator_id(ioc_id) != id) return std::nullopt;
  return ioc_id;
}

std::string_view tlp_marking_id(std::string_view tlp) {
  std::string_view name = tlp == "clear" ? "white" : tlp == "amber+strict" ? "amber" : tlp;
  for (const auto& m : kTlpMarkings)
    if (m.tlp == name) return m.id;
  return kTlpMarkings.back().id;  // unknown: the most restrictive
}

boost::json::array tlp_markings() {
  boost::json::array out;
  for (const auto& m : kTlpMarkings) {
    std::string upper(m.tlp);
    for (auto& c : upper) c = static_cast<char>(c - 'a' + 'A');
    out.push_back(boost::json::object{{"type", "marking-definition"},
                                      {"spec_version", "2.1"},
                                      {"id", m.id},
                                      {"created", "2017-01-20T00:00:00.000Z"},
                                      {"definition_type", "tlp"},
                                      {"name", "TLP:" + upper},
                                      {"definition", boost::json::object{{"tlp", m.tlp}}}});
  }
  return out;
}

std::string timestamp(std::string_view t) {
  if (t.size() == 20 && t.back() == 'Z') return std::string(t.substr(0, 19)) + ".000Z";
  return std::string(t);
}

std::optional<boost::json::object> indicator(const Ioc& ioc) {
  auto p = pattern(ioc.type, ioc.normalized_value);
  if (!p) return std::nullopt;
  auto verdict = verdict_of(&ioc);
  std::string_view kind = verdict == "malicious"    ? "malicious-activity"
                          : verdict == "suspicious" ? "anomalous-activity"
                                                    : "unknown";
  boost::json::object o{{"type", "indicator"},
                        {"spec_version", "2.1"},
                        {"id", indicator_id(ioc.id)},
                        {"created", timestamp(ioc.created_at)},
                        {"modified", timestamp(ioc.updated_at)},
                        {"name", std::string(type_name(ioc.type)) + " " + ioc.normalized_value},
                        {"indicator_types", boost::json::array{kind}},
                        {"pattern", std::move(*p)},
                        {"pattern_type", "stix"},
                        {"pattern_version", "2.1"},
                        {"valid_from", timestamp(ioc.first_seen)},
                        {"confidence", ioc.confidence},
                        {"object_marking_refs", boost::json::array{tlp_marking_id(ioc.tlp)}}};
  if (ioc.threat_type != "unknown") o["description"] = "threat type: " + ioc.threat_type;
  if (!ioc.tags.empty()) {
    boost::json::array labels;
    for (const auto& t : ioc.tags) labels.emplace_back(t);
    o["labels"] = std::move(labels);
  }
  if (ioc.status != "active") o["revoked"] = true;
  return o;
}

std::vector<PatternValue> pattern_values(std::string_view text) {
  std::vector<PatternValue> out;
  std::size_t i = 0;
  auto skip_space = [&] {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r')) ++i;
  };
  while (i < text.size()) {
    // An object path starts with a letter and runs to whitespace, '=' or a bracket.
    char c = text[i];
    bool starts = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (!starts) {
      if (c == '\'') {  // skip a string literal that is not the right side of a comparison
        ++i;
        while (i < text.size() && text[i] != '\'') i += text[i] == '\\' ? 2 : 1;
      }
      ++i;
      continue;
    }
    std::size_t start = i;
    while (i < text.size() && text[i] != ' ' && text[i] != '=' && text[i] != ']' && text[i] != '[' && text[i] != '!' &&
           text[i] != '<' && text[i] != '>' && text[i] != '\t') {
      if (text[i] == '\'') {  // quoted path segment, e.g. hashes.'SHA-256'
        ++i;
        while (i < text.size() && text[i] != '\'') ++i;
      }
      ++i;
    }
    std::string path = lower(text.substr(start, i - start));
    skip_space();
    if (i >= text.size() || text[i] != '=') continue;
    ++i;
    skip_space();
    if (i >= text.size() || text[i] != '\'') continue;
    ++i;
    std::string value;
    while (i < text.size() && text[i] != '\'') {
      if (text[i] == '\\' && i + 1 < text.size()) ++i;
      value += text[i++];
    }
    ++i;
    for (const auto& p : kPaths)
      if (p.path == path) out.push_back({p.type, std::move(value)});
  }
  return out;
}

}  // namespace tc::stix
