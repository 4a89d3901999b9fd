#include "runtime/driver.hpp"

#include <cctype>

namespace agent {

const char* to_string(RunState state) {
  switch (state) {
    case RunState::Created: return "created";
    case RunState::Running: return "running";
    case RunState::Exited: return "exited";
    case RunState::Missing: return "missing";
  }
  return "missing";
}

void check_instance_id(const std::string& id) {
  if (id.empty() || id.size() > 64) throw RuntimeError("instance id must have 1 to 64 characters");
  for (char c : id)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_'))
      throw RuntimeError("instance id may hold only letters, digits, '-' and '_': " + id);
}

}  // namespace agent
