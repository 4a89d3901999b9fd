#include "campaigns.hpp"

#include <algorithm>
#include <map>
#include <set>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "common/clock.hpp"
#include "common/error.hpp"
#include "json_text.hpp"
#include "security/random.hpp"

namespace tc {

namespace {

constexpr std::int64_t kClusterWindow = 60 * 60;  // seconds: ip_cluster events lie this close
constexpr std::size_t kIpClusterMin = 3;
constexpr std::size_t kPatternClusterMin = 5;
constexpr std::int64_t kDayTimelineAfter = 14 * 24 * 3600;
constexpr std::int64_t kMaxCampaignIocs = 200;

constexpr std::string_view kSelectCampaign =
    "SELECT c.id, c.name, c.description, c.kind, c.status, c.severity, c.first_seen, c.last_seen, c.created_at, "
    "c.updated_at, c.created_by FROM campaigns c";
// What a campaign's events add up to, in two passes over them.
constexpr std::string_view kAggregates =
    "SELECT count(*), count(DISTINCT source_ip), count(DISTINCT ioc_id), json_group_array(DISTINCT attack_type) "
    "FROM threat_events WHERE campaign_id = ?";
constexpr std::string_view kTechniquesOf =
    "SELECT json_group_array(DISTINCT j.value) FROM threat_events e, json_each(e.techniques) j "
    "WHERE e.campaign_id = ?";
constexpr std::string_view kFilter =
    " WHERE (?1 IS NULL OR c.status = ?1) AND (?2 IS NULL OR c.kind = ?2) AND (?3 IS NULL OR c.severity = ?3)"
    " AND (?4 IS NULL OR coalesce(c.last_seen, c.created_at) >= ?4)";
constexpr std::string_view kOrder = " ORDER BY coalesce(c.last_seen, c.created_at) DESC, c.id";
constexpr std::string_view kCountFiltered = "SELECT count(*) FROM campaigns c";
constexpr std::string_view kInsert =
    "INSERT INTO campaigns (id, name, description, kind, status, severity, cluster_key, created_at, updated_at, "
    "created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
constexpr std::string_view kAttach = "UPDATE threat_events SET campaign_id = ? WHERE id = ? AND campaign_id IS NULL";
constexpr std::string_view kEventCampaign = "SELECT campaign_id FROM threat_events WHERE id = ?";
// Span from the events; severity = the highest of the campaign's own and its events'.
constexpr std::string_view kRefresh =
    "UPDATE campaigns SET "
    "first_seen = (SELECT min(occurred_at) FROM threat_events WHERE campaign_id = ?1), "
    "last_seen = (SELECT max(occurred_at) FROM threat_events WHERE campaign_id = ?1), "
    "severity = (SELECT s FROM (SELECT severity AS s FROM threat_events WHERE campaign_id = ?1 "
    "  UNION ALL SELECT severity FROM campaigns WHERE id = ?1) AS candidates "
    "  ORDER BY CASE s WHEN 'critical' THEN 3 WHEN 'high' THEN 2 WHEN 'medium' THEN 1 ELSE 0 END DESC LIMIT 1), "
    "updated_at = ?2 WHERE id = ?1";
constexpr std::string_view kUncorrelated =
    "SELECT id, source_ip, attack_type, techniques, occurred_at FROM threat_events "
    "WHERE campaign_id IS NULL AND received_at >= ? ORDER BY seq DESC LIMIT ?";
constexpr std::string_view kActiveCluster =
    "SELECT id, first_seen, last_seen FROM campaigns WHERE kind = ? AND cluster_key = ? AND status = 'active' "
    "ORDER BY last_seen DESC LIMIT 1";
constexpr std::string_view kDormant =
    "UPDATE campaigns SET status = 'dormant', updated_at = ? WHERE status = 'active' AND kind <> 'manual' "
    "AND last_seen < ?";
constexpr std::string_view kPatch =
    "UPDATE campaigns SET name = coalesce(?, name), description = coalesce(?, description), "
    "severity = coalesce(?, severity), status = coalesce(?, status), updated_at = ? WHERE id = ?";
constexpr std::string_view kExists = "SELECT 1 FROM campaigns WHERE id = ?";
constexpr std::string_view kEventsOf =
    " FROM threat_events WHERE campaign_id = ? ORDER BY occurred_at DESC, seq DESC LIMIT ?";
constexpr std::string_view kIocsOf =
    "SELECT i.id, i.type, i.normalized_value, i.reputation, count(*) FROM threat_events e JOIN iocs i ON i.id = "
    "e.ioc_id "
    "WHERE e.campaign_id = ? GROUP BY i.id ORDER BY 5 DESC, i.id LIMIT ?";
constexpr std::string_view kTimeline =
    "SELECT strftime(?, occurred_at) AS t, count(*), count(DISTINCT source_ip), json_group_array(DISTINCT attack_type) "
    "FROM threat_events WHERE campaign_id = ? GROUP BY t ORDER BY t";
constexpr std::string_view kForIoc = " WHERE c.id IN (SELECT campaign_id FROM threat_events WHERE ioc_id = ?)";

// A JSON list from json_group_array, sorted.
std::vector<std::string> sorted_list(const std::string& text) {
  auto out = parse_list(text);
  std::sort(out.begin(), out.end());
  return out;
}

Campaign read_campaign(const store::Statement& q) {
  Campaign c;
  c.id = q.text(0);
  c.name = q.text(1);
  c.description = q.text_or_null(2);
  c.kind = q.text(3);
  c.status = q.text(4);
  c.severity = q.text(5);
  c.first_seen = q.text_or_null(6);
  c.last_seen = q.text_or_null(7);
  c.created_at = q.text(8);
  c.updated_at = q.text(9);
  c.created_by = q.text(10);
  return c;
}

// Fills the counts and lists that come from the campaign's events.
void add_aggregates(store::Connection& c, Campaign& campaign) {
  {
    auto q = c.prepare(kAggregates);
    q->bind_all(campaign.id);
    if (q->step()) {
      campaign.event_count = q->int64(0);
      campaign.unique_sources = q->int64(1);
      campaign.ioc_count = q->int64(2);
      campaign.attack_types = sorted_list(q->text(3));
    }
  }
  campaign.techniques = sorted_list(c.query_text(kTechniquesOf, campaign.id).value_or("[]"));
}

// Every campaign the statement yields, with its aggregates.
std::vector<Campaign> read_campaigns(store::Connection& c, store::Query q) {
  std::vector<Campaign> out;
  while (q->step()) out.push_back(read_campaign(*q));
  for (auto& campaign : out) add_aggregates(c, campaign);
  return out;
}

std::optional<Campaign> load(store::Connection& c, std::string_view id) {
  auto q = c.prepare(std::string(kSelectCampaign) + " WHERE c.id = ?");
  q->bind_all(id);
  auto found = read_campaigns(c, std::move(q));
  if (found.empty()) return std::nullopt;
  return std::move(found.front());
}

std::string new_id() {
  std::string day = common::rfc3339_now().substr(0, 10);  // YYYY-MM-DD
  day.erase(std::remove(day.begin(), day.end(), '-'), day.end());
  return "C-" + day + "-" + security::random_hex(4);
}

std::int64_t seconds_of(const std::string& rfc3339) { return common::parse_rfc3339(rfc3339).value_or(0); }

// Attaches the listed events to the campaign (events already in another campaign: 409 when
// `strict`, else skipped) and refreshes its span and severity. Returns how many were attached.
std::int64_t attach(store::Connection& c, const std::string& campaign_id, const std::vector<std::string>& event_ids,
                    bool strict, const std::string& now) {
  std::int64_t attached = 0;
  for (const auto& event_id : event_ids) {
    if (c.execute(kAttach, campaign_id, event_id) == 1) {
      ++attached;
      continue;
    }
    if (!strict) continue;
    auto q = c.prepare(kEventCampaign);
    q->bind_all(event_id);
    if (!q->step()) throw common::ApiError::not_found("no threat event " + event_id);
    if (q->text_or_null(0).value_or("") != campaign_id)
      throw common::ApiError::conflict("threat event " + event_id + " already belongs to campaign " + q->text(0));
  }
  c.execute(kRefresh, campaign_id, now);
  return attached;
}

struct Pending {
  std::string id, source, attack_type, techniques, occurred_at;
  std::int64_t t = 0;
};

// One run of the correlation job inside its write transaction: the uncorrelated events, then
// ip clusters per source, then pattern clusters over what is left.
class CorrelationRun {
 public:
  CorrelationRun(store::Connection& c, const Actor& by) : c_(c), by_(by) {}

  void load(std::int64_t since_s, std::size_t max_events) {
    auto q = c_.prepare(kUncorrelated);
    q->bind_all(common::rfc3339_from_unix(since_s), static_cast<std::int64_t>(max_events));
    while (q->step()) {
      Pending p{q->text(0), q->text(1), q->text(2), q->text(3), q->text(4), 0};
      p.t = seconds_of(p.occurred_at);
      events_.push_back(std::move(p));
    }
  }

  // ip_cluster, per source in time order: extend the source's active cluster with the events
  // inside its window, then open new clusters where enough events fall close together.
  void ip_clusters() {
    std::map<std::string, std::vector<const Pending*>> by_source;
    for (const auto& e : events_) by_source[e.source].push_back(&e);
    for (auto& [source, list] : by_source) {
      std::sort(list.begin(), list.end(), [](const Pending* a, const Pending* b) { return a->t < b->t; });
      auto rest = extend_ip_cluster(source, list);
      for (std::size_t i = 0; i < rest.size();) {
        std::size_t j = i;
        while (j + 1 < rest.size() && rest[j + 1]->t - rest[i]->t <= kClusterWindow) ++j;
        if (j - i + 1 < kIpClusterMin) {
          ++i;
          continue;
        }
        while (j + 1 < rest.size() && rest[j + 1]->t - rest[j]->t <= kClusterWindow) ++j;
        std::vector<const Pending*> group(rest.begin() + static_cast<std::ptrdiff_t>(i),
                                          rest.begin() + static_cast<std::ptrdiff_t>(j + 1));
        std::string id = create("ip_cluster", source, group.front()->attack_type + " from " + source);
        commit_group(id, group);
        clustered_.insert(group.begin(), group.end());
        i = j + 1;
      }
    }
  }

  // pattern_cluster over what is left: attack type + technique set from enough sources.
  void pattern_clusters() {
    std::map<std::string, std::vector<const Pending*>> by_pattern;
    for (const auto& e : events_)
      if (!clustered_.count(&e)) by_pattern[e.attack_type + " " + e.techniques].push_back(&e);
    for (auto& [key, group] : by_pattern) {
      std::set<std::string> sources;
      for (const auto* p : group) sources.insert(p->source);
      auto existing = active_cluster("pattern_cluster", key);
      if (!existing && sources.size() < kPatternClusterMin) continue;
      std::string id;
      if (existing) {
        id = std::get<0>(*existing);
        ++result_.extended;
      } else {
        std::string techniques;
        for (const auto& t : parse_list(group.front()->techniques)) techniques += (techniques.empty() ? "" : ", ") + t;
        id = create("pattern_cluster", key,
                    group.front()->attack_type + (techniques.empty() ? "" : " (" + techniques + ")") + " from " +
                        std::to_string(sources.size()) + " sources");
      }
      commit_group(id, group);
    }
  }

  // Marks quiet automatic campaigns dormant and audits the run when it changed anything.
  CorrelationResult finish(std::int64_t dormant_before_s) {
    result_.dormant = c_.execute(kDormant, now_, common::rfc3339_from_unix(dormant_before_s));
    result_.campaign_ids.assign(touched_.begin(), touched_.end());
    if (result_.created || result_.events_correlated || result_.dormant)
      record_audit(c_, by_, "campaign.correlate", "campaign", result_.campaign_ids.size() == 1 ? *touched_.begin() : "",
                   {{"created", result_.created},
                    {"extended", result_.extended},
                    {"eventsCorrelated", result_.events_correlated},
                    {"dormant", result_.dormant}});
    return result_;
  }

 private:
  // The events of `list` inside the window of the source's active cluster join it; returns the rest.
  std::vector<const Pending*> extend_ip_cluster(const std::string& source, const std::vector<const Pending*>& list) {
    auto existing = active_cluster("ip_cluster", source);
    if (!existing) return list;
    auto& [id, first, last] = *existing;
    std::vector<const Pending*> joined, rest;
    for (const auto* p : list) {
      if (p->t >= first - kClusterWindow && p->t <= last + kClusterWindow) {
        joined.push_back(p);
        last = std::max(last, p->t);
        first = std::min(first, p->t);
      } else {
        rest.push_back(p);
      }
    }
    if (!joined.empty()) {
      commit_group(id, joined);
      clustered_.insert(joined.begin(), joined.end());
      ++result_.extended;
    }
    return rest;
  }

  std::optional<std::tuple<std::string, std::int64_t, std::int64_t>> active_cluster(std::string_view kind,
                                                                                    const std::string& key) {
    std::optional<std::tuple<std::string, std::int64_t, std::int64_t>> found;
    auto q = c_.prepare(kActiveCluster);
    q->bind_all(kind, key);
    if (q->step())
      found = std::tuple{q->text(0), seconds_of(q->text_or_null(1).value_or("")),
                         seconds_of(q->text_or_null(2).value_or(""))};
    return found;
  }

  std::string create(std::string_view kind, const std::string& key, const std::string& name) {
    std::string id = new_id();
    c_.execute(kInsert, id, name, std::nullopt, kind, "active", "low", key, now_, now_, by_.key_id);
    ++result_.created;
    return id;
  }

  void commit_group(const std::string& id, const std::vector<const Pending*>& group) {
    std::vector<std::string> ids;
    for (const auto* p : group) ids.push_back(p->id);
    result_.events_correlated += attach(c_, id, ids, false, now_);
    touched_.insert(id);
  }

  store::Connection& c_;
  const Actor& by_;
  const std::string now_ = common::rfc3339_now();
  std::vector<Pending> events_;
  std::set<const Pending*> clustered_;
  std::set<std::string> touched_;
  CorrelationResult result_;
};

}  // namespace

CorrelationResult Campaigns::correlate(const Actor& by) {
  return db_.write([&](store::Connection& c) {
    const std::int64_t now_s = common::unix_seconds();
    CorrelationRun run(c, by);
    run.load(now_s - settings_.lookback.count(), settings_.max_events);
    run.ip_clusters();
    run.pattern_clusters();
    return run.finish(now_s - settings_.dormant_after.count());
  });
}

Campaign Campaigns::create(const NewCampaign& n, const Actor& by) {
  return db_.write([&](store::Connection& c) {
    const std::string now = common::rfc3339_now();
    std::string id = new_id();
    c.execute(kInsert, id, n.name, n.description, "manual", n.status, n.severity, std::nullopt, now, now, by.key_id);
    attach(c, id, n.event_ids, true, now);
    record_audit(c, by, "campaign.create", "campaign", id,
                 {{"name", n.name}, {"events", static_cast<std::int64_t>(n.event_ids.size())}});
    return *load(c, id);
  });
}

std::optional<Campaign> Campaigns::update(std::string_view id, const CampaignPatch& p, const Actor& by) {
  return db_.write([&](store::Connection& c) -> std::optional<Campaign> {
    if (!c.query_int(kExists, id)) return std::nullopt;
    const std::string now = common::rfc3339_now();
    c.execute(kPatch, p.name, p.description, p.severity, p.status, now, id);
    std::string campaign_id(id);
    if (!p.add_event_ids.empty()) attach(c, campaign_id, p.add_event_ids, true, now);
    boost::json::object details;
    if (p.name) details["name"] = *p.name;
    if (p.status) details["status"] = *p.status;
    if (p.severity) details["severity"] = *p.severity;
    if (!p.add_event_ids.empty()) details["addedEvents"] = static_cast<std::int64_t>(p.add_event_ids.size());
    record_audit(c, by, "campaign.update", "campaign", campaign_id, details);
    return load(c, campaign_id);
  });
}

std::pair<std::vector<Campaign>, std::int64_t> Campaigns::list(const CampaignFilter& f, std::int64_t limit,
                                                               std::int64_t offset) const {
  const std::string count_sql = std::string(kCountFiltered) + std::string(kFilter);
  const std::string list_sql =
      std::string(kSelectCampaign) + std::string(kFilter) + std::string(kOrder) + " LIMIT ?5 OFFSET ?6";
  return db_.read([&](store::Connection& c) {
    std::int64_t total = 0;
    {
      auto q = c.prepare(count_sql);
      q->bind_all(f.status, f.kind, f.severity, f.since);
      if (q->step()) total = q->int64(0);
    }
    auto q = c.prepare(list_sql);
    q->bind_all(f.status, f.kind, f.severity, f.since, limit, offset);
    return std::pair{read_campaigns(c, std::move(q)), total};
  });
}

std::optional<CampaignDetail> Campaigns::detail(std::string_view id, std::int64_t event_limit) const {
  return db_.read([&](store::Connection& c) -> std::optional<CampaignDetail> {
    auto campaign = load(c, id);
    if (!campaign) return std::nullopt;
    CampaignDetail d{std::move(*campaign), {}, {}, "hour", {}};
    {
      auto q = c.prepare("SELECT " + std::string(kEventColumns) + std::string(kEventsOf));
      q->bind_all(id, event_limit);
      while (q->step()) d.events.push_back(read_event(*q));
    }
    {
      auto q = c.prepare(kIocsOf);
      q->bind_all(id, kMaxCampaignIocs);
      while (q->step())
        d.iocs.push_back({q->text(0), q->text(1), q->text(2), static_cast<int>(q->int64(3)), q->int64(4)});
    }
    const auto& k = d.campaign;
    if (k.first_seen && k.last_seen && seconds_of(*k.last_seen) - seconds_of(*k.first_seen) > kDayTimelineAfter)
      d.timeline_granularity = "day";
    auto q = c.prepare(kTimeline);
    q->bind_all(d.timeline_granularity == "day" ? "%Y-%m-%dT00:00:00Z" : "%Y-%m-%dT%H:00:00Z", id);
    while (q->step()) d.timeline.push_back({q->text(0), q->int64(1), q->int64(2), sorted_list(q->text(3))});
    return d;
  });
}

CampaignStats Campaigns::stats() const {
  const std::string day_ago = common::rfc3339_from_unix(common::unix_seconds() - 24 * 3600);
  return db_.read([&](store::Connection& c) {
    CampaignStats s;
    s.total = c.query_int("SELECT count(*) FROM campaigns").value_or(0);
    s.created_last_24h = c.query_int("SELECT count(*) FROM campaigns WHERE created_at >= ?", day_ago).value_or(0);
    s.events_correlated = c.query_int("SELECT count(*) FROM threat_events WHERE campaign_id IS NOT NULL").value_or(0);
    s.events_uncorrelated = c.query_int("SELECT count(*) FROM threat_events WHERE campaign_id IS NULL").value_or(0);
    auto counts = [&c](std::string_view sql) {
      CampaignStats::Counts out;
      auto q = c.prepare(sql);
      while (q->step()) out.emplace_back(q->text(0), q->int64(1));
      return out;
    };
    s.by_status = counts("SELECT status, count(*) FROM campaigns GROUP BY status ORDER BY 2 DESC, 1");
    s.by_kind = counts("SELECT kind, count(*) FROM campaigns GROUP BY kind ORDER BY 2 DESC, 1");
    s.by_severity = counts("SELECT severity, count(*) FROM campaigns GROUP BY severity ORDER BY 2 DESC, 1");
    s.top_attack_types = counts(
        "SELECT attack_type, count(*) FROM threat_events WHERE campaign_id IS NOT NULL GROUP BY attack_type "
        "ORDER BY 2 DESC, 1 LIMIT 10");
    return s;
  });
}

std::vector<Campaign> Campaigns::for_ioc(store::Connection& c, std::string_view ioc_id) {
  static const std::string sql = std::string(kSelectCampaign) + std::string(kForIoc) + std::string(kOrder);
  auto q = c.prepare(sql);
  q->bind_all(ioc_id);
  return read_campaigns(c, std::move(q));
}

}  // namespace tc
