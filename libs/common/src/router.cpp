#include "common/router.hpp"

#include <algorithm>
#include <stdexcept>

#include "common/error.hpp"

namespace common {

namespace {

void split_path(std::string_view path, std::vector<std::string_view>& out) {
  out.clear();
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  while (true) {
    auto slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
}

enum class Kind { Static, Param, Rest };

struct Segment {
  Kind kind = Kind::Static;
  std::string text;  // the static text, or the parameter name
};

std::vector<Segment> parse_template(const std::string& path) {
  std::vector<Segment> out;
  std::vector<std::string_view> parts;
  split_path(path, parts);
  for (std::size_t i = 0; i < parts.size(); ++i) {
    std::string_view part = parts[i];
    Segment seg;
    if (part.size() >= 2 && part.front() == '{' && part.back() == '}') {
      std::string_view name = part.substr(1, part.size() - 2);
      seg.kind = Kind::Param;
      if (!name.empty() && name.back() == '*') {
        if (i + 1 != parts.size()) throw std::invalid_argument("{name*} must be the last segment: " + path);
        seg.kind = Kind::Rest;
        name.remove_suffix(1);
      }
      if (name.empty() || name.find_first_of("{}*") != std::string_view::npos)
        throw std::invalid_argument("malformed parameter in " + path);
      seg.text = std::string(name);
    } else {
      if (part.find_first_of("{}") != std::string_view::npos) throw std::invalid_argument("malformed segment in " + path);
      seg.text = std::string(part);
    }
    out.push_back(std::move(seg));
  }
  return out;
}

}  // namespace

void Router::add(Route route) {
  if (route.path.empty() || route.path.front() != '/')
    throw std::invalid_argument("route path must start with '/': " + route.path);
  if (!route.handler && !route.async_handler && !route.websocket.open && !route.body_sink)
    throw std::invalid_argument("route without handler: " + route.method + " " + route.path);
  if (route.websocket.open && route.method != "GET")
    throw std::invalid_argument("a WebSocket route is a GET: " + route.method + " " + route.path);
  auto segments = parse_template(route.path);

  // Find (without creating) the node first, so that a rejected route leaves the trie as it was.
  Params params;
  std::vector<std::pair<std::uint32_t, const Segment*>> missing;  // node to extend, segment
  std::uint32_t node = 0;
  bool rest = false;
  for (std::size_t i = 0; i < segments.size(); ++i) {
    const auto& seg = segments[i];
    if (seg.kind != Kind::Static) params.names.emplace_back(i, seg.text);
    if (seg.kind == Kind::Rest) {
      rest = params.rest = true;
      break;
    }
    if (!missing.empty()) {
      missing.emplace_back(0, &seg);
      continue;
    }
    std::optional<std::uint32_t> next;
    if (seg.kind == Kind::Param) {
      next = nodes_[node].param;
    } else {
      for (const auto& [text, child] : nodes_[node].statics)
        if (text == seg.text) next = child;
    }
    if (next)
      node = *next;
    else
      missing.emplace_back(node, &seg);
  }
  auto index = static_cast<std::uint32_t>(routes_.size());
  if (missing.empty()) {
    const auto& ending = rest ? nodes_[node].rest_routes : nodes_[node].routes;
    for (auto r : ending)
      if (routes_[r].method == route.method)
        throw std::invalid_argument("duplicate route " + route.method + " " + route.path);
  }
  for (const auto& [unused, seg] : missing) {
    auto child = static_cast<std::uint32_t>(nodes_.size());
    nodes_.emplace_back();
    if (seg->kind == Kind::Param)
      nodes_[node].param = child;
    else
      nodes_[node].statics.emplace_back(seg->text, child);
    node = child;
  }
  (rest ? nodes_[node].rest_routes : nodes_[node].routes).push_back(index);
  routes_.push_back(std::move(route));
  params_.push_back(std::move(params));
}

// Depth first in order of specificity (static, then parameter, then rest parameter, segment
// by segment from the left), so `rank` numbers the matching templates most specific first.
void Router::walk(std::uint32_t node, const std::vector<std::string_view>& parts, std::size_t at, std::uint32_t& rank,
                  std::vector<Found>& found) const {
  const Node& n = nodes_[node];
  if (at == parts.size()) {
    for (auto r : n.routes) found.push_back({r, rank});
    ++rank;
    return;
  }
  for (const auto& [text, child] : n.statics)
    if (text == parts[at]) walk(child, parts, at + 1, rank, found);
  if (n.param && !parts[at].empty()) walk(*n.param, parts, at + 1, rank, found);
  for (auto r : n.rest_routes) found.push_back({r, rank});
  ++rank;
}

Router::Match Router::match(std::string_view method, std::string_view path) const {
  Match result;
  // Scratch space reused across matches on a thread: a match allocates only its result.
  thread_local std::vector<std::string_view> parts;
  thread_local std::vector<Found> found;
  split_path(path, parts);
  found.clear();
  std::uint32_t rank = 0;
  walk(0, parts, 0, rank, found);
  if (found.empty()) return result;

  // The most specific template registered for the method wins (an explicit HEAD route first,
  // else GET for HEAD); the methods of every matching template make up `allowed` for a 405.
  const Found* best = nullptr;
  const Found* best_get = nullptr;
  for (const auto& f : found) {
    const auto& m = routes_[f.route].method;
    if (m == method && (!best || f.rank < best->rank)) best = &f;
    if (method == "HEAD" && m == "GET" && (!best_get || f.rank < best_get->rank)) best_get = &f;
  }
  if (!best) best = best_get;
  std::uint32_t chosen = best ? best->route : 0;

  std::sort(found.begin(), found.end(), [](const Found& a, const Found& b) { return a.route < b.route; });
  for (const auto& f : found) {
    const auto& m = routes_[f.route].method;
    auto add_allowed = [&](const std::string& name) {
      if (std::find(result.allowed.begin(), result.allowed.end(), name) == result.allowed.end())
        result.allowed.push_back(name);
    };
    add_allowed(m);
    if (m == "GET") add_allowed("HEAD");
  }
  if (!best) return result;

  const auto& params = params_[chosen];
  for (std::size_t k = 0; k < params.names.size(); ++k) {
    std::size_t i = params.names[k].first;
    std::string raw;
    if (params.rest && k + 1 == params.names.size()) {
      for (std::size_t j = i; j < parts.size(); ++j) {
        if (j > i) raw += '/';
        raw += parts[j];
      }
    } else {
      raw = std::string(parts[i]);
    }
    auto decoded = percent_decode(raw, false);
    if (!decoded) throw ApiError::bad_request("malformed percent-encoding in path");
    result.params.emplace_back(params.names[k].second, std::move(*decoded));
  }
  result.route = &routes_[chosen];
  return result;
}

}  // namespace common
