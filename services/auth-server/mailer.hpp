#pragma once
// Outgoing mail. Without SMTP configured, every mail becomes an .eml file in DATA_DIR/outbox/.
#include <filesystem>
#include <string>

namespace auth {

struct Mail {
  std::string to;       // one address, already validated
  std::string subject;  // one line
  std::string body;     // plain text
  std::string kind;     // template name, e.g. "verify-email" (X-Panguard-Mail header)
};

class Outbox {
 public:
  Outbox(std::filesystem::path directory, std::string from);
  // Writes the mail as an RFC 5322 message (atomically: a reader never sees half a file) and
  // returns its path. Throws std::runtime_error when the file cannot be written.
  std::filesystem::path send(const Mail& mail) const;

 private:
  std::filesystem::path directory_;
  std::string from_;
};

}  // namespace auth
