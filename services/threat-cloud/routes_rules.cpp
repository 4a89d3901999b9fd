// /api/rules (Sigma / ATR detection rules) and /api/feeds/agent-update: the rules and IoCs
// that changed since an agent last asked, streamed.
#include <any>
#include <cctype>

#include <boost/json/value_from.hpp>
#include <boost/json/serialize.hpp>

#include "api_keys.hpp"
#include "common/clock.hpp"
#include "common/envelope.hpp"
#include "common/input.hpp"
#include "feed_stream.hpp"
#include "feeds.hpp"
#include "routes.hpp"
#include "rules.hpp"

namespace tc {

namespace {

namespace input = common::input;

constexpr std::size_t kMaxRules = 100;
constexpr std::size_t kMaxRuleBytes = 64 * 1024;
constexpr std::size_t kRulesBodyLimit = 8 * 1024 * 1024;

boost::json::object rule_json(const Rule& r) {
  return {{"ruleId", r.rule_id},
          {"ruleContent", r.content},
          {"source", r.source},
          {"createdAt", r.created_at},
          {"updatedAt", r.updated_at}};
}

// A rule id: 1-200 characters of letters, digits and . _ : -
void check_rule_id(const std::string& id, const std::string& field) {
  bool ok = !id.empty() && id.size() <= 200;
  for (char c : id)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == ':' || c == '-')) ok = false;
  if (!ok) throw common::ApiError::validation("'" + field + "' must be 1-200 letters, digits, '.', '_', ':' or '-'");
}

Rule parse_rule(const boost::json::object& o, const std::string& at) {
  Rule r;
  r.rule_id = input::text(o, "ruleId", {.min = 1, .max = 200});
  check_rule_id(r.rule_id, at + "ruleId");
  r.content = input::text(o, "ruleContent", {.min = 1, .max = kMaxRuleBytes, .single_line = false});
  // Sigma and ATR rules are YAML documents with a top-level detection section.
  if (!r.content.starts_with("detection:") && r.content.find("\ndetection:") == std::string::npos)
    throw common::ApiError::validation("'" + at + "ruleContent' must be a Sigma or ATR rule (YAML with 'detection:')");
  r.source = input::text(o, "source", {.min = 1, .max = 128});
  return r;
}

common::Response upload(Rules& rules, common::Request& req) {
  auto body = req.json_object();
  std::vector<Rule> batch;
  if (const auto* list = body.if_contains("rules")) {
    if (!list->is_array() || list->as_array().empty() || list->as_array().size() > kMaxRules)
      throw common::ApiError::validation("'rules' must be an array of 1-" + std::to_string(kMaxRules) + " rules");
    std::size_t i = 0;
    for (const auto& item : list->as_array()) {
      if (!item.is_object()) throw common::ApiError::validation("'rules[" + std::to_string(i) + "]' must be an object");
      batch.push_back(parse_rule(item.as_object(), "rules[" + std::to_string(i) + "]."));
      ++i;
    }
  } else {
    batch.push_back(parse_rule(body, ""));
  }
  auto result = rules.save(batch, actor_of(req));
  boost::json::array ids;
  for (const auto& r : batch) ids.emplace_back(r.rule_id);
  return common::envelope_ok({{"created", result.created}, {"updated", result.updated}, {"ids", std::move(ids)}},
                             result.created ? 201 : 200);
}

common::Response list(const Rules& rules, common::Request& req) {
  auto page = common::parse_page(req);
  auto source = common::input::query_text(req, "source", 128);
  auto since = common::input::query_timestamp_text(req, "since");
  auto [items, total] = rules.list(source, since, page.limit, page.offset());
  boost::json::array out;
  for (const auto& r : items) out.push_back(rule_json(r));
  return common::envelope_page(std::move(out), total, page);
}

// {"ok":true,"data":{"generatedAt","since","rules":[...],"iocs":[{type,value,action,...}],
// "totalIocs"}}: rules changed since, then IoCs changed since with "add" (active at or above
// minReputation) or "remove" (anything else), so an agent can apply them in order.
common::Response agent_update(const FeedSource& source, const Rules& rules, common::Request& req) {
  std::string generated = common::rfc3339_now();
  auto since = common::input::query_timestamp_text(req, "since");
  FeedQuery query;
  if (auto n = common::input::query_integer(req, "minReputation", 0, 100)) query.min_reputation = static_cast<int>(*n);
  int min_reputation = query.min_reputation;
  query.changed_since = since;
  const auto* caller = std::any_cast<Caller>(&req.principal);
  query.shareable_only = !caller || caller->anonymous;
  // Rules are few; they go first, read before the IoC snapshot so none is missed.
  boost::json::array rule_list;
  for (std::int64_t offset = 0;; offset += 200) {
    auto [items, total] = rules.list(std::nullopt, since, 200, offset);
    for (const auto& r : items) rule_list.push_back(rule_json(r));
    if (offset + 200 >= total) break;
  }
  auto reader = std::make_shared<FeedReader>(*source.db, query, FeedReader::Rows::Iocs,
                                                     feed_slot(source, req));
  record_feed_access(
      *source.db, actor_of(req), "agent-update",
      {{"since", boost::json::value_from(since)}, {"minReputation", min_reputation}});
  std::string head = R"({"ok":true,"data":{"generatedAt":")" + generated + R"(","since":)" +
                     (since ? "\"" + *since + "\"" : std::string("null")) + R"(,"rules":)" +
                     boost::json::serialize(rule_list) + R"(,"iocs":[)";
  bool started = false;
  std::int64_t count = 0;
  return streamed(source, "application/json",
                  [reader, head = std::move(head), started, count, min_reputation](std::string& out) mutable {
                    if (!started) {
                      out += head;
                      started = true;
                    }
                    for (int i = 0; i < 512; ++i) {
                      if (!reader->next()) {
                        out += R"(],"totalIocs":)" + std::to_string(count) + "}}";
                        return false;
                      }
                      Ioc ioc = reader->ioc();
                      bool add = ioc.status == "active" && ioc.reputation >= min_reputation;
                      if (count++) out += ',';
                      out += boost::json::serialize(boost::json::object{{"type", type_name(ioc.type)},
                                                                        {"value", ioc.normalized_value},
                                                                        {"action", add ? "add" : "remove"},
                                                                        {"reputation", ioc.reputation},
                                                                        {"threatType", ioc.threat_type},
                                                                        {"status", ioc.status},
                                                                        {"updatedAt", ioc.updated_at}});
                    }
                    return true;
                  });
}

}  // namespace

std::vector<common::Route> rule_routes(Rules& rules, const FeedSource& source) {
  using common::Request;
  return {
      {.method = "GET",
       .path = "/api/rules",
       .auth = "read",
       .limit = "read",
       .query = {"limit", "page", "since", "source"},
       .handler = [&rules](Request& r) { return list(rules, r); }},
      {.method = "POST",
       .path = "/api/rules",
       .auth = "write",
       .limit = "write",
       .fields = {"ruleContent", "ruleId", "rules", "source"},
       .handler = [&rules](Request& r) { return upload(rules, r); },
       .body_limit = kRulesBodyLimit},
      {.method = "GET",
       .path = "/api/feeds/agent-update",
       .auth = "public-read",
       .limit = "feed",
       .query = {"minReputation", "since"},
       .handler = [&rules, source](Request& r) { return agent_update(source, rules, r); },
       .offload = true},
  };
}

}  // namespace tc
