#pragma once
// The MITRE ATT&CK Enterprise catalogue (assets/enterprise-attack-techniques.json, ATT&CK
// v18.1; terms in assets/ATTACK-LICENSE.txt): technique ids to names and tactics.
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tc {

struct AttackTechnique {
  std::string id;
  std::string name;
  std::vector<std::string> tactics;  // tactic short names ("credential-access"), ATT&CK order
  bool subtechnique = false;
  bool deprecated = false;
};

struct AttackTactic {
  std::string id;         // TA0006
  std::string shortname;  // credential-access
  std::string name;       // Credential Access
};

class AttackCatalog {
 public:
  // Parses the catalogue JSON; throws std::runtime_error when it is malformed.
  explicit AttackCatalog(std::string_view json);
  const AttackTechnique* technique(std::string_view id) const;
  const std::vector<AttackTactic>& tactics() const { return tactics_; }
  const AttackTactic* tactic(std::string_view shortname) const;
  const std::string& version() const { return version_; }  // "18.1"

 private:
  std::map<std::string, AttackTechnique, std::less<>> techniques_;
  std::vector<AttackTactic> tactics_;
  std::string version_;
};

}  // namespace tc
