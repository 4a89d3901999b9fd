#include "feed_formats.hpp"

#include <algorithm>
#include <charconv>
#include <iterator>

#include <boost/json/parse.hpp>

#include "common/clock.hpp"
#include "stix.hpp"

namespace tc {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

std::optional<int> number(std::string_view s) {
  int n = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return n;
}

std::vector<std::string> split_tags(std::string_view s) {
  std::vector<std::string> out;
  while (!s.empty()) {
    auto comma = s.find(',');
    auto tag = trim(s.substr(0, comma));
    if (!tag.empty() && tag != "None" && tag.size() <= 64 && out.size() < 20) out.push_back(lower(tag));
    if (comma == std::string_view::npos) break;
    s.remove_prefix(comma + 1);
  }
  return out;
}

// Classifies `value` (as `hint` when given) into `out`; false when it is not a valid IoC.
bool classify_into(ParsedIoc& out, std::string_view value, std::optional<IocType> hint = std::nullopt) {
  auto key = classify(value, hint);
  if (!key) return false;
  out.key = std::move(*key);
  out.value = std::string(trim(value));
  return true;
}

using Each = std::function<void(ParsedIoc)>;

// Line-oriented formats: `row` reads one non-empty, non-comment line (false = malformed,
// with the reason in `why`).
ParseReport parse_lines(std::istream& in, std::string_view comments, const Each& each,
                        const std::function<bool(std::string_view, ParsedIoc&, std::string& why)>& row) {
  ParseReport report;
  std::string line;
  while (std::getline(in, line)) {
    ++report.lines;
    auto text = trim(line);
    if (text.empty() || comments.find(text.front()) != std::string_view::npos) {
      ++report.skipped;
      continue;
    }
    ParsedIoc ioc;
    std::string why;
    if (!row(text, ioc, why)) {
      if (why.empty()) {  // a header line
        ++report.skipped;
        continue;
      }
      report.malformed_line(report.lines, why);
      continue;
    }
    ++report.entries;
    each(std::move(ioc));
  }
  return report;
}

bool feodo_row(std::string_view line, ParsedIoc& ioc, std::string& why) {
  auto f = csv_fields(line);
  // first_seen_utc, dst_ip, dst_port, c2_status, last_online, malware (older files lack c2_status)
  if (f.size() >= 2 && (lower(f[1]) == "dst_ip" || lower(f[1]) == "dstip")) return false;  // header
  if (f.size() != 5 && f.size() != 6) return why = "expected 5 or 6 CSV fields, got " + std::to_string(f.size()), false;
  if (!classify_into(ioc, f[1], IocType::Ip)) return why = "'" + f[1] + "' is not an IP address", false;
  ioc.first_seen = feed_time(f[0]);
  if (!ioc.first_seen) return why = "bad first seen time '" + f[0] + "'", false;
  ioc.last_seen = feed_time(f[f.size() == 6 ? 4 : 3]);
  bool online = f.size() == 6 && lower(f[3]) == "online";
  ioc.threat_type = "botnet_cc";
  ioc.reputation = online ? 95 : 80;
  ioc.confidence = 90;
  if (!f.back().empty()) ioc.tags.push_back(lower(f.back()));
  if (ioc.last_seen && *ioc.last_seen < *ioc.first_seen) ioc.last_seen = ioc.first_seen;
  return true;
}

bool urlhaus_csv_row(std::string_view line, ParsedIoc& ioc, std::string& why) {
  auto f = csv_fields(line);
  // id, dateadded, url, url_status, last_online, threat, tags, urlhaus_link, reporter
  if (!f.empty() && lower(f[0]) == "id") return false;
  if (f.size() != 9) return why = "expected 9 CSV fields, got " + std::to_string(f.size()), false;
  if (!classify_into(ioc, f[2], IocType::Url)) return why = "'" + f[2] + "' is not a URL", false;
  ioc.first_seen = feed_time(f[1]);
  if (!ioc.first_seen) return why = "bad dateadded '" + f[1] + "'", false;
  ioc.last_seen = feed_time(f[4]);
  if (ioc.last_seen && *ioc.last_seen < *ioc.first_seen) ioc.last_seen = ioc.first_seen;
  ioc.threat_type = f[5].empty() ? "malware_download" : lower(f[5]);
  ioc.tags = split_tags(f[6]);
  ioc.reputation = lower(f[3]) == "online" ? 90 : 70;
  ioc.confidence = 85;
  return true;
}

bool threatfox_row(std::string_view line, ParsedIoc& ioc, std::string& why) {
  auto f = csv_fields(line);
  // first_seen_utc, ioc_id, ioc_value, ioc_type, threat_type, fk_malware, malware_alias,
  // malware_printable, last_seen_utc, confidence_level, reference, tags, anonymous, reporter
  if (!f.empty() && lower(f[0]) == "first_seen_utc") return false;
  if (f.size() != 14) return why = "expected 14 CSV fields, got " + std::to_string(f.size()), false;
  std::string kind = lower(f[3]);
  std::optional<IocType> type = kind == "ip:port"       ? std::optional(IocType::Ip)
                                : kind == "domain"      ? std::optional(IocType::Domain)
                                : kind == "url"         ? std::optional(IocType::Url)
                                : kind == "md5_hash"    ? std::optional(IocType::HashMd5)
                                : kind == "sha1_hash"   ? std::optional(IocType::HashSha1)
                                : kind == "sha256_hash" ? std::optional(IocType::HashSha256)
                                                        : std::nullopt;
  if (!type) return why = "unknown ioc_type '" + f[3] + "'", false;
  if (!classify_into(ioc, f[2], type)) return why = "'" + f[2] + "' is not a valid " + kind, false;
  ioc.first_seen = feed_time(f[0]);
  if (!ioc.first_seen) return why = "bad first_seen_utc '" + f[0] + "'", false;
  ioc.last_seen = feed_time(f[8]);
  auto confidence = number(f[9]);
  if (!confidence || *confidence < 0 || *confidence > 100)
    return why = "confidence_level '" + f[9] + "' is not 0-100", false;
  ioc.confidence = *confidence;
  ioc.reputation = std::max(50, *confidence);
  ioc.threat_type = f[4].empty() ? "unknown" : lower(f[4]);
  ioc.tags = split_tags(f[11]);
  if (!f[7].empty() && f[7] != "None" && ioc.tags.size() < 20) ioc.tags.push_back(lower(f[7]));
  return true;
}

bool drop_row(std::string_view line, ParsedIoc& ioc, std::string& why) {
  // "1.10.16.0/20 ; SBL256894"
  auto semi = line.find(';');
  auto cidr = trim(line.substr(0, semi));
  if (cidr.find('/') == std::string_view::npos) return why = "expected 'CIDR ; SBL id'", false;
  if (!classify_into(ioc, cidr, IocType::Ip)) return why = "'" + std::string(cidr) + "' is not a CIDR block", false;
  ioc.threat_type = "hijacked_netblock";
  ioc.reputation = 95;
  ioc.confidence = 95;
  if (semi != std::string_view::npos) {
    auto sbl = trim(line.substr(semi + 1));
    if (!sbl.empty()) ioc.tags.push_back(lower(sbl));
  }
  return true;
}

bool ipsum_row(std::string_view line, ParsedIoc& ioc, std::string& why) {
  // "ip<TAB>count": count is how many blacklists list the address
  auto tab = line.find('\t');
  if (tab == std::string_view::npos) return why = "expected 'ip<TAB>count'", false;
  auto ip = trim(line.substr(0, tab));
  auto count = number(trim(line.substr(tab + 1)));
  if (!count || *count < 1) return why = "count '" + std::string(trim(line.substr(tab + 1))) + "' is not >= 1", false;
  if (!classify_into(ioc, ip, IocType::Ip)) return why = "'" + std::string(ip) + "' is not an IP address", false;
  ioc.threat_type = "blacklisted";
  ioc.reputation = std::min(100, 30 + 10 * *count);
  ioc.confidence = std::min(100, 20 + 10 * *count);
  ioc.tags.push_back("blacklists:" + std::to_string(*count));
  return true;
}

bool plain_row(std::string_view line, ParsedIoc& ioc, std::string& why) {
  auto hash = line.find(" #");
  auto value = trim(line.substr(0, hash));
  if (!classify_into(ioc, value)) return why = "'" + std::string(value) + "' is not a recognised IoC", false;
  ioc.threat_type = "unknown";
  return true;
}

bool url_row(std::string_view line, ParsedIoc& ioc, std::string& why) {
  if (!classify_into(ioc, line, IocType::Url)) return why = "'" + std::string(line) + "' is not a URL", false;
  ioc.threat_type = "malware_download";
  ioc.reputation = 80;
  return true;
}

ParseReport parse_stix(std::istream& in, const Each& each) {
  ParseReport report;
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  boost::system::error_code ec;
  auto doc = boost::json::parse(text, ec);
  const boost::json::array* objects = nullptr;
  boost::json::array single;
  if (!ec && doc.is_object()) {
    const auto& top = doc.as_object();
    if (const auto* o = top.if_contains("objects"); o && o->is_array()) {
      objects = &o->as_array();
    } else if (const auto* t = top.if_contains("type"); t && t->is_string() && t->as_string() != "bundle") {
      single.push_back(doc);  // one STIX object on its own
      objects = &single;
    }
  }
  if (!objects) {
    report.malformed_line(1, ec ? "not JSON: " + ec.message() : "not a STIX bundle (no 'objects' array)");
    return report;
  }
  for (const auto& item : *objects) {
    ++report.lines;
    const auto* o = item.if_object();
    const auto* type = o ? o->if_contains("type") : nullptr;
    if (!type || !type->is_string() || type->as_string() != "indicator") {
      ++report.skipped;
      continue;
    }
    const auto* pattern = o->if_contains("pattern");
    const auto* pattern_type = o->if_contains("pattern_type");
    if (!pattern || !pattern->is_string() ||
        (pattern_type && (!pattern_type->is_string() || pattern_type->as_string() != "stix"))) {
      ++report.skipped;
      continue;
    }
    auto values = stix::pattern_values(pattern->as_string());
    if (values.empty()) {
      ++report.skipped;
      continue;
    }
    auto text_of = [&](std::string_view field) -> std::optional<std::string> {
      const auto* v = o->if_contains(field);
      if (!v || !v->is_string()) return std::nullopt;
      return feed_time(v->as_string());
    };
    std::vector<std::string> tags;
    for (std::string_view field : {"labels", "indicator_types"})
      if (const auto* v = o->if_contains(field); v && v->is_array())
        for (const auto& t : v->as_array())
          if (t.is_string() && t.as_string().size() <= 64 && tags.size() < 20) tags.push_back(lower(t.as_string()));
    std::optional<int> confidence;
    if (const auto* c = o->if_contains("confidence"); c && c->is_int64() && c->as_int64() >= 0 && c->as_int64() <= 100)
      confidence = static_cast<int>(c->as_int64());
    for (const auto& v : values) {
      ParsedIoc ioc;
      if (!classify_into(ioc, v.value, v.type)) {
        report.malformed_line(report.lines, "'" + v.value + "' is not a valid " + std::string(type_name(v.type)));
        continue;
      }
      ioc.threat_type = tags.empty() ? "unknown" : tags.front();
      ioc.tags = tags;
      ioc.first_seen = text_of("valid_from");
      ioc.last_seen = text_of("modified");
      if (ioc.first_seen && ioc.last_seen && *ioc.last_seen < *ioc.first_seen) ioc.last_seen = ioc.first_seen;
      ioc.confidence = confidence;
      ioc.reputation = confidence ? std::max(50, *confidence) : 75;
      ++report.entries;
      each(std::move(ioc));
    }
  }
  return report;
}

}  // namespace

void ParseReport::malformed_line(std::int64_t line, const std::string& why) {
  ++malformed;
  if (errors.size() < kMaxErrors) errors.push_back("line " + std::to_string(line) + ": " + why);
}

const std::vector<FeedFormat>& feed_formats() {
  static const std::vector<FeedFormat> kFormats{
      {"feodo", "abuse.ch Feodo Tracker", "B", "CC0-1.0", true, "https://feodotracker.abuse.ch/"},
      {"urlhaus-csv", "abuse.ch URLhaus", "B", "CC0-1.0", true, "https://urlhaus.abuse.ch/"},
      {"urlhaus-text", "abuse.ch URLhaus", "B", "CC0-1.0", true, "https://urlhaus.abuse.ch/"},
      {"threatfox", "abuse.ch ThreatFox", "B", "CC0-1.0", true, "https://threatfox.abuse.ch/"},
      {"spamhaus-drop", "Spamhaus DROP", "A", "Spamhaus DROP terms of use (no redistribution)", false,
       "https://www.spamhaus.org/drop/"},
      {"ipsum", "ipsum", "C", "Unlicense", true, "https://github.com/stamparm/ipsum"},
      {"plain", "import", "F", "", true, ""},
      {"stix", "STIX import", "C", "", true, ""},
  };
  return kFormats;
}

const FeedFormat* find_feed_format(std::string_view name) {
  for (const auto& f : feed_formats())
    if (f.name == name) return &f;
  return nullptr;
}

ParseReport parse_feed(std::string_view format, std::istream& in, const Each& each) {
  if (format == "feodo") return parse_lines(in, "#", each, feodo_row);
  if (format == "urlhaus-csv") return parse_lines(in, "#", each, urlhaus_csv_row);
  if (format == "urlhaus-text") return parse_lines(in, "#", each, url_row);
  if (format == "threatfox") return parse_lines(in, "#", each, threatfox_row);
  if (format == "spamhaus-drop") return parse_lines(in, ";#", each, drop_row);
  if (format == "ipsum") return parse_lines(in, "#", each, ipsum_row);
  if (format == "plain") return parse_lines(in, "#;", each, plain_row);
  if (format == "stix") return parse_stix(in, each);
  ParseReport report;
  report.malformed_line(0, "unknown format '" + std::string(format) + "'");
  return report;
}

std::optional<std::string> feed_time(std::string_view text) {
  auto t = trim(text);
  std::string s(t);
  if (s.size() == 10)
    s += "T00:00:00Z";
  else if (s.size() == 19 && s[10] == ' ')
    s = s.substr(0, 10) + "T" + s.substr(11) + "Z";
  auto parsed = common::parse_rfc3339(s);
  if (!parsed) return std::nullopt;
  return common::rfc3339_from_unix(*parsed);
}

std::vector<std::string> csv_fields(std::string_view line) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (true) {
    while (i < line.size() && line[i] == ' ') ++i;
    std::string field;
    if (i < line.size() && line[i] == '"') {
      ++i;
      while (i < line.size()) {
        if (line[i] == '"') {
          if (i + 1 < line.size() && line[i + 1] == '"') {
            field += '"';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        field += line[i++];
      }
      while (i < line.size() && line[i] != ',') ++i;
    } else {
      auto comma = line.find(',', i);
      field = std::string(trim(line.substr(i, comma == std::string_view::npos ? std::string_view::npos : comma - i)));
      i = comma == std::string_view::npos ? line.size() : comma;
    }
    out.push_back(std::move(field));
    if (i >= line.size()) break;
    ++i;  // the comma
  }
  return out;
}

}  // namespace tc
