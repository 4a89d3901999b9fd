#include "policy_push.hpp"

#include <atomic>
#include <mutex>
#include <thread>

#include <boost/json/serialize.hpp>

#include "common/clock.hpp"
#include "common/http_client.hpp"
#include "security/digest.hpp"

namespace manager {

boost::json::object push_policy(const boost::json::object& policy, const std::vector<Agents::PushTarget>& targets,
                                const PushSettings& settings) {
  std::string body =
      boost::json::serialize(boost::json::object{{"policy", policy}, {"timestamp", common::rfc3339_now()}});
  std::vector<boost::json::object> results(targets.size());
  std::atomic<std::size_t> next{0};
  auto work = [&] {
    for (std::size_t i = next++; i < targets.size(); i = next++) {
      const auto& t = targets[i];
      std::string url = t.endpoint;
      while (!url.empty() && url.back() == '/') url.pop_back();
      common::OutboundRequest request{
          .method = "POST",
          .url = url + "/api/policy/push",
          .headers = {{"Content-Type", "application/json"},
                      {"X-Manager-Signature", "sha256=" + security::hmac_sha256_hex(t.token_hash, body)}},
          .body = body,
          .timeout = settings.timeout};
      common::OutboundResponse response;
      int attempt = 0;
      while (attempt < settings.attempts) {
        ++attempt;
        response = common::send(request);
        if (response.ok() || (response.status >= 400 && response.status < 500)) break;  // 4xx: a retry won't help
      }
      boost::json::object r{{"agentId", t.agent_id}, {"ok", response.ok()}, {"attempts", attempt}};
      if (response.status) r["status"] = response.status;
      if (!response.error.empty()) r["error"] = response.error;
      results[i] = std::move(r);
    }
  };
  std::vector<std::thread> pool;
  std::size_t n = std::min(settings.concurrency, targets.size());
  for (std::size_t k = 0; k < n; ++k) pool.emplace_back(work);
  for (auto& th : pool) th.join();

  boost::json::array list;
  std::int64_t succeeded = 0;
  for (auto& r : results) {
    succeeded += r["ok"].as_bool() ? 1 : 0;
    list.push_back(std::move(r));
  }
  return {{"attempted", static_cast<std::int64_t>(targets.size())},
          {"succeeded", succeeded},
          {"failed", static_cast<std::int64_t>(targets.size()) - succeeded},
          {"results", std::move(list)}};
}

}  // namespace manager
