#include "mitre.hpp"

#include <stdexcept>

#include <boost/json/parse.hpp>

namespace tc {

namespace {

std::string text_of(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (!v || !v->is_string()) throw std::runtime_error("ATT&CK catalogue: missing '" + std::string(key) + "'");
  return std::string(v->as_string());
}

}  // namespace

AttackCatalog::AttackCatalog(std::string_view json) {
  auto doc = boost::json::parse(json).as_object();
  // "source": "... ATT&CK v18.1 (commit ...) ..."
  auto source = text_of(doc, "source");
  if (auto at = source.find("ATT&CK v"); at != std::string::npos) {
    auto end = source.find_first_not_of("0123456789.", at + 8);
    version_ = source.substr(at + 8, end == std::string::npos ? std::string::npos : end - at - 8);
  }
  for (const auto& t : doc.at("tactics").as_array()) {
    const auto& o = t.as_object();
    tactics_.push_back({text_of(o, "id"), text_of(o, "shortname"), text_of(o, "name")});
  }
  for (const auto& t : doc.at("techniques").as_array()) {
    const auto& o = t.as_object();
    AttackTechnique tech{text_of(o, "id"), text_of(o, "name"), {}, false, false};
    for (const auto& tactic : o.at("tactics").as_array()) tech.tactics.emplace_back(tactic.as_string());
    if (const auto* v = o.if_contains("subtechnique"); v && v->is_bool()) tech.subtechnique = v->as_bool();
    if (const auto* v = o.if_contains("deprecated"); v && v->is_bool()) tech.deprecated = v->as_bool();
    techniques_.emplace(tech.id, std::move(tech));
  }
}

const AttackTechnique* AttackCatalog::technique(std::string_view id) const {
  auto it = techniques_.find(id);
  return it == techniques_.end() ? nullptr : &it->second;
}

const AttackTactic* AttackCatalog::tactic(std::string_view shortname) const {
  for (const auto& t : tactics_)
    if (t.shortname == shortname) return &t;
  return nullptr;
}

}  // namespace tc
