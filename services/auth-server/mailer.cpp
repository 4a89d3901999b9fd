#include "mailer.hpp"

#include <stdexcept>

#include <fmt/format.h>
#include <ctime>

#include "common/clock.hpp"
#include "common/files.hpp"
#include "security/random.hpp"

namespace auth {

namespace {

// Header values never carry line breaks (no header injection).
std::string one_line(std::string_view text) {
  std::string out;
  for (char c : text) out += (c == '\r' || c == '\n') ? ' ' : c;
  return out;
}

std::string domain_of(std::string_view from) {
  auto at = from.rfind('@');
  if (at == std::string_view::npos) return "panguard.local";
  auto rest = from.substr(at + 1);
  return std::string(rest.substr(0, rest.find('>')));
}

}  // namespace

Outbox::Outbox(std::filesystem::path directory, std::string from)
    : directory_(std::move(directory)), from_(std::move(from)) {}

std::filesystem::path Outbox::send(const Mail& mail) const {
  std::error_code ec;
  std::filesystem::create_directories(directory_, ec);
  if (ec) throw std::runtime_error("cannot create outbox " + directory_.string() + ": " + ec.message());
  std::string id = fmt::format("{}-{}", common::unix_millis(), security::random_hex(8));
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char date[64];
  std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  std::string body;
  for (char c : mail.body) {
    if (c == '\n') body += '\r';
    body += c;
  }
  std::string message = fmt::format(
      "From: {}\r\nTo: {}\r\nSubject: {}\r\nDate: {}\r\nMessage-ID: <{}@{}>\r\n"
      "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n"
      "X-Panguard-Mail: {}\r\n\r\n{}",
      one_line(from_), one_line(mail.to), one_line(mail.subject), date, id, domain_of(from_), one_line(mail.kind),
      body);
  auto path = directory_ / (id + ".eml");
  try {
    common::write_file_atomic(path, message, 0600);
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string("cannot write mail: ") + e.what());
  }
  return path;
}

}  // namespace auth
