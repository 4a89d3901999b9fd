#include "tunnel/console_routes.hpp"

#include <boost/json.hpp>

#include "common/input.hpp"

namespace shardlyn {

namespace json = boost::json;

namespace {

constexpr std::int64_t kHistoryPage = 100, kHistoryMaxPage = 1000;
constexpr std::size_t kDownloadChunkLines = 1000;

// The instance of the route's organisation (404 for another organisation's), for the org the
// guard resolved; admin routes look in every organisation.
InstanceRef instance_of(ConsoleArea& area, const common::Request& req) {
  const auto& caller = caller_of(req);
  std::string id(req.param("id"));
  auto found = caller.org_id.empty() ? area.instances.find_any(id) : area.instances.find(caller.org_id, id);
  if (!found) throw common::ApiError::not_found("instance not found");
  return *found;
}

json::object line_json(const ConsoleLine& l) { return {{"seq", l.seq}, {"line", l.text}}; }

// GET /v1/instances/{id}/logs/history?since=<seq>&limit=<n>: the kept lines after `since`.
common::Response log_history(ConsoleArea& area, common::Request& req) {
  auto instance = instance_of(area, req);
  auto since = static_cast<std::uint64_t>(common::input::query_integer(req, "since", 0, INT64_MAX).value_or(0));
  auto limit = common::input::query_integer(req, "limit", 1, INT64_MAX).value_or(kHistoryPage);
  limit = std::min(limit, kHistoryMaxPage);
  auto lines = area.feeds.page(instance.instance_id, since, static_cast<std::size_t>(limit));
  auto last = area.feeds.last_seq(instance.instance_id);
  json::array items;
  for (const auto& l : lines) items.push_back(line_json(l));
  bool more = !lines.empty() && lines.back().seq < last;
  return common::Response::json({{"items", std::move(items)},
                                 {"limit", limit},
                                 {"last_seq", last},
                                 {"next_since", more ? json::value(lines.back().seq) : json::value(nullptr)}});
}

// The journal as text, one page of lines per chunk: nothing held whole in memory.
class LogDownload final : public common::ResponseStream {
 public:
  LogDownload(ConsoleFeeds& feeds, std::string instance_id) : feeds_(feeds), instance_id_(std::move(instance_id)) {}
  void next(Deliver deliver) override {
    auto lines = cancelled_ ? std::vector<ConsoleLine>{} : feeds_.page(instance_id_, after_, kDownloadChunkLines);
    std::string chunk;
    for (const auto& l : lines) chunk += l.text + '\n';
    if (!lines.empty()) after_ = lines.back().seq;
    deliver(std::move(chunk), lines.size() < kDownloadChunkLines);
  }
  void cancel() override { cancelled_ = true; }

 private:
  ConsoleFeeds& feeds_;
  std::string instance_id_;
  std::uint64_t after_ = 0;
  std::atomic<bool> cancelled_{false};
};

common::Response log_download(ConsoleArea& area, common::Request& req) {
  auto instance = instance_of(area, req);
  common::Response out;
  out.headers.set("Content-Type", "text/plain; charset=utf-8");
  out.headers.set("Content-Disposition", "attachment; filename=\"" + instance.instance_id + ".log\"");
  out.stream = std::make_shared<LogDownload>(area.feeds, instance.instance_id);
  return out;
}

// DELETE /v1/instances/{id}/logs/clear (admin): the journal forgets its lines; seqs go on.
common::Response log_clear(ConsoleArea& area, common::Request& req) {
  auto instance = instance_of(area, req);
  auto through = area.feeds.last_seq(instance.instance_id);
  area.feeds.clear(instance.instance_id);
  return common::Response::json({{"instance_id", instance.instance_id}, {"cleared_through_seq", through}});
}

common::WebSocketRoute socket(ConsoleArea& area, ConsoleMode mode) {
  return {.open = [&area, mode](common::Request& req) { return open_console(area, req, mode); }};
}

}  // namespace

Routes console_routes(ConsoleArea& area) {
  const Guard member{Auth::Member, OrgScope::Current};
  const Guard admin{Auth::Admin, OrgScope::None};
  return join({
      group("/v1/instances", member,
            {
                websocket("/{id}/logs", "instances.logs", socket(area, ConsoleMode::Logs), {.limit = "console"}),
                websocket("/{id}/console", "instances.logs", socket(area, ConsoleMode::Console), {.limit = "console"}),
                get("/{id}/logs/history", "instances.logs", bind(area, log_history), {.query = {"since", "limit"}}),
                get("/{id}/logs/download", "instances.logs", bind(area, log_download)),
            }),
      group("/v1/instances", admin,
            {
                del("/{id}/logs/clear", "admin.logs", bind(area, log_clear)),
            }),
  });
}

}  // namespace shardlyn
