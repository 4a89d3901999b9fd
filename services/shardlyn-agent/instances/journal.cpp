#include "instances/journal.hpp"

#include <boost/json.hpp>

#include "common/files.hpp"
#include "common/log.hpp"

namespace agent {

Journal::Journal(std::filesystem::path dir) : dir_(std::move(dir)) { std::filesystem::create_directories(dir_); }

std::optional<InstanceRecord> Journal::load(const std::string& id) const {
  auto file = dir_ / (id + ".json");
  if (!std::filesystem::exists(file)) return std::nullopt;
  try {
    auto o = boost::json::parse(common::read_file(file)).as_object();
    InstanceRecord r;
    r.restart_generation = boost::json::value_to<std::uint64_t>(o.at("restart_generation"));
    r.kill_generation = boost::json::value_to<std::uint64_t>(o.at("kill_generation"));
    r.installed = o.at("installed").as_bool();
    r.installing = o.at("installing").as_bool();
    r.ready_run_started_at_ms = o.at("ready_run_started_at_ms").to_number<std::int64_t>();
    r.ready_reason = boost::json::value_to<std::string>(o.at("ready_reason"));
    r.restarts_unix_ms = boost::json::value_to<std::vector<std::int64_t>>(o.at("restarts_unix_ms"));
    r.exit_handled = o.at("exit_handled").as_bool();
    r.restart_at_unix_ms = o.at("restart_at_unix_ms").to_number<std::int64_t>();
    r.hold = boost::json::value_to<std::string>(o.at("hold"));
    r.hold_reason = boost::json::value_to<std::string>(o.at("hold_reason"));
    return r;
  } catch (const std::exception& e) {
    common::log::warn("instance journal unreadable; starting from a clean record",
                      {{"instance", id}, {"error", e.what()}});
    return std::nullopt;
  }
}

void Journal::save(const std::string& id, const InstanceRecord& r) const {
  boost::json::object o{{"restart_generation", r.restart_generation},
                        {"kill_generation", r.kill_generation},
                        {"installed", r.installed},
                        {"installing", r.installing},
                        {"ready_run_started_at_ms", r.ready_run_started_at_ms},
                        {"ready_reason", r.ready_reason},
                        {"restarts_unix_ms", boost::json::value_from(r.restarts_unix_ms)},
                        {"exit_handled", r.exit_handled},
                        {"restart_at_unix_ms", r.restart_at_unix_ms},
                        {"hold", r.hold},
                        {"hold_reason", r.hold_reason}};
  common::write_file_atomic(dir_ / (id + ".json"), boost::json::serialize(o), 0600);
}

void Journal::forget(const std::string& id) const {
  std::error_code ec;
  std::filesystem::remove(dir_ / (id + ".json"), ec);
}

}  // namespace agent
