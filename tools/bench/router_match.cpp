// Router benchmark: time per match over shardlyn-api's full route table (from its OpenAPI
// document, which the openapi.shardlyn-api test keeps equal to the route table), for the
// segment trie (common::Router) and, as the reference measured in the same run, the linear
// scan it replaced (every template compared per request, and run twice per request: once for
// the body limit, once for dispatch).
//   router-bench [rounds] [copies]   prints one JSON object; copies > 1 registers the table
//   again under /v1-2, /v1-3 ... (about the 236 routes shardlyn-api is heading for at 3)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/json/serialize.hpp>

#include "common/files.hpp"
#include "common/openapi.hpp"
#include "common/router.hpp"

namespace {

std::vector<std::string_view> split(std::string_view path) {
  std::vector<std::string_view> out;
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  while (true) {
    auto slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

// The former matcher: every template tested against the path, the most specific kept.
struct LinearRouter {
  struct Seg {
    std::string text;
    bool param;
  };
  std::vector<std::pair<std::string, std::vector<Seg>>> routes;  // method, segments

  void add(const std::string& method, const std::string& path) {
    std::vector<Seg> segs;
    for (auto p : split(path)) segs.push_back({std::string(p), !p.empty() && p.front() == '{'});
    routes.emplace_back(method, std::move(segs));
  }
  std::pair<std::optional<std::size_t>, std::size_t> match(std::string_view method, std::string_view path) const {
    auto parts = split(path);
    std::optional<std::size_t> best;
    std::vector<std::string> allowed;
    for (std::size_t r = 0; r < routes.size(); ++r) {
      const auto& segs = routes[r].second;
      if (segs.size() != parts.size()) continue;
      bool ok = true;
      for (std::size_t i = 0; i < segs.size() && ok; ++i) ok = segs[i].param ? !parts[i].empty() : segs[i].text == parts[i];
      if (!ok) continue;
      if (std::find(allowed.begin(), allowed.end(), routes[r].first) == allowed.end()) allowed.push_back(routes[r].first);
      if (routes[r].first != method) continue;
      if (!best) {
        best = r;
        continue;
      }
      const auto& sb = routes[*best].second;
      for (std::size_t i = 0; i < segs.size(); ++i)
        if (segs[i].param != sb[i].param) {
          if (!segs[i].param) best = r;
          break;
        }
    }
    return {best, allowed.size()};
  }
};

template <class F>
double ns_per_call(std::size_t rounds, std::size_t per_round, F&& f) {
  auto begin = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < rounds; ++i) f();
  double ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - begin).count();
  return ns / static_cast<double>(rounds * per_round);
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t rounds = argc > 1 ? std::stoul(argv[1]) : 2000;
  std::size_t copies = argc > 2 ? std::stoul(argv[2]) : 1;
  auto doc = common::yaml_to_json(common::read_file(SHARDLYN_OPENAPI)).as_object();
  common::Router trie;
  LinearRouter linear;
  std::vector<std::pair<std::string, std::string>> requests;  // method, concrete path
  static const char* kMethods[] = {"get", "post", "put", "patch", "delete"};
  for (std::size_t copy = 0; copy < copies; ++copy) {
    for (const auto& [doc_path, item] : doc.at("paths").as_object()) {
      std::string path(doc_path);
      if (copy > 0 && path.starts_with("/v1")) path.insert(3, "-" + std::to_string(copy + 1));
      std::string concrete;
      for (auto seg : split(path)) {
        concrete += "/";
        concrete += !seg.empty() && seg.front() == '{' ? std::string_view("a1b2c3") : seg;
      }
      for (const char* m : kMethods) {
        if (!item.as_object().contains(m)) continue;
        std::string method = m;
        std::transform(method.begin(), method.end(), method.begin(), ::toupper);
        try {
          trie.add({.method = method, .path = path, .handler = [](common::Request&) { return common::Response{}; }});
        } catch (const std::invalid_argument&) {
          continue;  // a path outside /v1 is registered once
        }
        linear.add(method, path);
        requests.emplace_back(method, concrete);
      }
    }
  }
  requests.emplace_back("GET", "/v1/no/such/path");
  requests.emplace_back("PATCH", "/v1/auth/login");  // 405

  std::size_t sink = 0;
  double trie_ns = ns_per_call(rounds, requests.size(), [&] {
    for (const auto& [m, p] : requests) sink += trie.match(m, p).route != nullptr;
  });
  double linear_ns = ns_per_call(rounds, requests.size(), [&] {
    for (const auto& [m, p] : requests) sink += linear.match(m, p).first.has_value();
  });
  boost::json::object out{{"routes", trie.routes().size()},
                          {"requests_per_round", requests.size()},
                          {"rounds", rounds},
                          {"trie_ns_per_match", trie_ns},
                          {"linear_ns_per_match", linear_ns},
                          {"before_ns_per_request", 2 * linear_ns},  // matched twice per request
                          {"after_ns_per_request", trie_ns},
                          {"matched", sink}};
  std::printf("%s\n", boost::json::serialize(out).c_str());
  return 0;
}
