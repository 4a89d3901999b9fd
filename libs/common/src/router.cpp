#include "common/router.hpp"

#include <algorithm>
#include <stdexcept>

#include "common/error.hpp"

namespace common {

namespace {

std::vector<std::string_view> split_path(std::string_view path) {
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

}  // namespace

bool Router::same_shape(const std::vector<Segment>& a, const std::vector<Segment>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].param != b[i].param || a[i].rest != b[i].rest) return false;
    if (!a[i].param && a[i].text != b[i].text) return false;
  }
  return true;
}

void Router::add(Route route) {
  if (route.path.empty() || route.path.front() != '/')
    throw std::invalid_argument("route path must start with '/': " + route.path);
  if (!route.handler) throw std::invalid_argument("route without handler: " + route.method + " " + route.path);
  Compiled compiled;
  auto parts = split_path(route.path);
  for (std::size_t i = 0; i < parts.size(); ++i) {
    std::string_view part = parts[i];
    Segment seg;
    if (part.size() >= 2 && part.front() == '{' && part.back() == '}') {
      std::string_view name = part.substr(1, part.size() - 2);
      seg.param = true;
      if (!name.empty() && name.back() == '*') {
        if (i + 1 != parts.size()) throw std::invalid_argument("{name*} must be the last segment: " + route.path);
        seg.rest = true;
        name.remove_suffix(1);
      }
      if (name.empty() || name.find_first_of("{}*") != std::string_view::npos)
        throw std::invalid_argument("malformed parameter in " + route.path);
      seg.text = std::string(name);
    } else {
      if (part.find_first_of("{}") != std::string_view::npos)
        throw std::invalid_argument("malformed segment in " + route.path);
      seg.text = std::string(part);
    }
    compiled.segments.push_back(std::move(seg));
  }
  for (std::size_t r = 0; r < routes_.size(); ++r)
    if (routes_[r].method == route.method && same_shape(compiled_[r].segments, compiled.segments))
      throw std::invalid_argument("duplicate route " + route.method + " " + route.path);
  routes_.push_back(std::move(route));
  compiled_.push_back(std::move(compiled));
}

Router::Match Router::match(std::string_view method, std::string_view path) const {
  Match result;
  auto parts = split_path(path);
  std::string_view wanted = method == "HEAD" ? std::string_view("GET") : method;

  // Specificity: compare segment by segment, a static segment beats a parameter.
  auto more_specific = [&](std::size_t a, std::size_t b) {
    const auto& sa = compiled_[a].segments;
    const auto& sb = compiled_[b].segments;
    for (std::size_t i = 0; i < std::min(sa.size(), sb.size()); ++i) {
      if (sa[i].param != sb[i].param) return !sa[i].param;
      if (sa[i].rest != sb[i].rest) return !sa[i].rest;
    }
    return sa.size() > sb.size();
  };

  // Among the templates matching the path, the most specific one registered for the method
  // wins (an explicit HEAD route first, else GET for HEAD); the methods of every matching
  // template make up `allowed` for a 405.
  std::optional<std::size_t> best, best_head;
  for (std::size_t r = 0; r < routes_.size(); ++r) {
    const auto& segs = compiled_[r].segments;
    bool rest = !segs.empty() && segs.back().rest;
    if (rest ? parts.size() < segs.size() : parts.size() != segs.size()) continue;
    bool ok = true;
    for (std::size_t i = 0; i < segs.size() && ok; ++i) {
      if (segs[i].rest) break;
      if (segs[i].param)
        ok = !parts[i].empty();
      else
        ok = segs[i].text == parts[i];
    }
    if (!ok) continue;
    auto add_allowed = [&](const std::string& m) {
      if (std::find(result.allowed.begin(), result.allowed.end(), m) == result.allowed.end())
        result.allowed.push_back(m);
    };
    add_allowed(routes_[r].method);
    if (routes_[r].method == "GET") add_allowed("HEAD");
    if (method == "HEAD" && routes_[r].method == "HEAD") {
      if (!best_head || more_specific(r, *best_head)) best_head = r;
    } else if (routes_[r].method == wanted) {
      if (!best || more_specific(r, *best)) best = r;
    }
  }
  if (best_head) best = best_head;
  if (!best) return result;
  const Route* chosen = &routes_[*best];
  std::size_t chosen_index = *best;

  const auto& segs = compiled_[chosen_index].segments;
  for (std::size_t i = 0; i < segs.size(); ++i) {
    if (!segs[i].param) continue;
    std::string raw;
    if (segs[i].rest) {
      for (std::size_t j = i; j < parts.size(); ++j) {
        if (j > i) raw += '/';
        raw += parts[j];
      }
    } else {
      raw = std::string(parts[i]);
    }
    auto decoded = percent_decode(raw, false);
    if (!decoded) throw ApiError::bad_request("malformed percent-encoding in path");
    result.params.emplace_back(segs[i].text, std::move(*decoded));
  }
  result.route = chosen;
  return result;
}

}  // namespace common
