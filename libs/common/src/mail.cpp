#include "common/mail.hpp"

#include <curl/curl.h>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <fstream>
#include <memory>
#include <mutex>
#include <stdexcept>

#include "common/clock.hpp"
#include "common/error.hpp"
#include "common/files.hpp"
#include "common/log.hpp"
#include "security/encoding.hpp"

namespace common {

namespace {

// Header values never carry line breaks (no header injection).
std::string one_line(std::string_view text) {
  std::string out;
  for (char c : text) out += (c == '\r' || c == '\n') ? ' ' : c;
  return out;
}

}  // namespace

std::string encode_header_text(std::string_view text) {
  std::string line = one_line(text);
  bool plain = std::all_of(line.begin(), line.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
  // Printable ASCII that could not be mistaken for an encoded word goes out as it is.
  if (plain && line.find("=?") == std::string::npos) return line;
  // Encoded words of at most 75 characters: 45 bytes of text each (60 base64 characters),
  // never splitting a UTF-8 sequence; folded onto continuation lines (RFC 2047 2 and 5).
  constexpr std::size_t kChunk = 45;
  std::string out;
  std::size_t i = 0;
  while (i < line.size()) {
    std::size_t end = std::min(line.size(), i + kChunk);
    while (end < line.size() && end > i + 1 && (static_cast<unsigned char>(line[end]) & 0xC0) == 0x80) --end;
    if (!out.empty()) out += "\r\n ";
    out += "=?UTF-8?B?" + security::base64_encode(std::string_view(line).substr(i, end - i)) + "?=";
    i = end;
  }
  return out;
}

namespace {

// "Name <a@b>" -> "a@b"; a bare address stays as it is.
std::string address_of(std::string_view mailbox) {
  auto open = mailbox.rfind('<');
  auto close = mailbox.rfind('>');
  if (open != std::string_view::npos && close != std::string_view::npos && close > open)
    return std::string(mailbox.substr(open + 1, close - open - 1));
  return std::string(mailbox);
}

std::string domain_of(std::string_view from) {
  std::string address = address_of(from);
  auto at = address.rfind('@');
  return at == std::string::npos ? "localhost" : address.substr(at + 1);
}

struct Upload {
  const std::string* data;
  std::size_t offset = 0;
};

std::size_t read_upload(char* buffer, std::size_t size, std::size_t count, void* user) {
  auto* upload = static_cast<Upload*>(user);
  std::size_t n = std::min(size * count, upload->data->size() - upload->offset);
  std::copy_n(upload->data->data() + upload->offset, n, buffer);
  upload->offset += n;
  return n;
}

constexpr std::string_view kEnqueue =
    "INSERT INTO mail_queue (recipient, subject, body, kind, created_at, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?) "
    "RETURNING id";
constexpr std::string_view kClaim =
    "UPDATE mail_queue SET claimed_until = ?1 WHERE id = ?2 AND sent_at IS NULL AND failed_at IS NULL "
    "AND claimed_until <= ?3 RETURNING recipient, subject, body, kind, created_at, attempts";
// The body may hold a secret link: once delivered only the record of the delivery stays.
constexpr std::string_view kSent =
    "UPDATE mail_queue SET sent_at = ?, attempts = attempts + 1, claimed_until = 0, body = '', last_error = NULL "
    "WHERE id = ?";
constexpr std::string_view kFailed =
    "UPDATE mail_queue SET attempts = attempts + 1, next_attempt_at = ?1, claimed_until = 0, last_error = ?2, "
    "failed_at = CASE WHEN attempts + 1 >= ?3 THEN ?4 END WHERE id = ?5";
constexpr std::string_view kDue =
    "SELECT id FROM mail_queue WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= ?1 "
    "AND claimed_until <= ?1 ORDER BY id LIMIT 100";
constexpr std::string_view kReleaseClaims =
    "UPDATE mail_queue SET claimed_until = 0 WHERE claimed_until > 0 AND sent_at IS NULL";
constexpr std::string_view kForget = "DELETE FROM mail_queue WHERE sent_at < ?";

}  // namespace

std::vector<OptionSpec> mail_options(std::string default_from) {
  return {
      {"SMTP_HOST", "", "SMTP server; unset: mails are written to DATA_DIR/outbox/ as .eml files"},
      {"SMTP_PORT", "587", "SMTP port; 465 means TLS from the first byte"},
      {"SMTP_USER", "", "SMTP AUTH user (none when unset)"},
      {"SMTP_PASS", "", "SMTP AUTH password", true},
      {"SMTP_FROM", std::move(default_from), "sender of mails"},
      {"SMTP_STARTTLS", "true", "require STARTTLS on ports other than 465"},
      {"SMTP_CA_FILE", "", "PEM file with an extra CA to trust for the SMTP server's certificate"},
      {"SMTP_TIMEOUT_S", "10", "longest SMTP exchange in seconds"},
      {"MAIL_RETRY_BASE_S", "30", "first retry of a mail that could not be delivered; doubles up to an hour"},
  };
}

MailSettings read_mail_settings(const Config& config, const std::filesystem::path& data_dir, std::string kind_header) {
  MailSettings s;
  s.from = config.get("SMTP_FROM");
  if (s.from.find_first_of("\r\n") != std::string::npos || address_of(s.from).find('@') == std::string::npos)
    throw ConfigError("SMTP_FROM must be one line with an address, e.g. 'Name <no-reply@example.com>'");
  s.kind_header = std::move(kind_header);
  s.outbox = data_dir / "outbox";
  s.smtp_host = config.get("SMTP_HOST");
  s.smtp_port = static_cast<int>(config.get_int("SMTP_PORT", 1, 65535));
  s.starttls = config.get_bool("SMTP_STARTTLS");
  s.smtp_user = config.get("SMTP_USER");
  s.smtp_pass = config.get("SMTP_PASS");
  s.ca_file = config.get("SMTP_CA_FILE");
  s.timeout = std::chrono::seconds(config.get_int("SMTP_TIMEOUT_S", 1, 300));
  s.retry_base_s = config.get_int("MAIL_RETRY_BASE_S", 1, 3600);
  return s;
}

Mailer::Mailer(MailSettings settings) : settings_(std::move(settings)) {}

std::string Mailer::format(const Mail& mail, std::int64_t created_at, const std::string& message_id) const {
  std::time_t when = static_cast<std::time_t>(created_at / 1000);
  std::tm tm{};
  gmtime_r(&when, &tm);
  char date[64];
  std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  std::string body;
  for (char c : mail.body) {
    if (c == '\n') body += '\r';
    body += c;
  }
  return fmt::format(
      "From: {}\r\nTo: {}\r\nSubject: {}\r\nDate: {}\r\nMessage-ID: <{}@{}>\r\n"
      "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n"
      "{}: {}\r\n\r\n{}",
      one_line(settings_.from), one_line(mail.to), encode_header_text(mail.subject), date, message_id,
      domain_of(settings_.from), settings_.kind_header, one_line(mail.kind), body);
}

void Mailer::deliver(const Mail& mail, std::int64_t created_at, const std::string& message_id) const {
  std::string message = format(mail, created_at, message_id);
  if (uses_smtp()) return deliver_smtp(mail, message);
  std::error_code ec;
  std::filesystem::create_directories(settings_.outbox, ec);
  if (ec) throw std::runtime_error("cannot create outbox " + settings_.outbox.string() + ": " + ec.message());
  // Named after the message: delivering the same queued mail twice writes the same file.
  common::write_file_atomic(settings_.outbox / (message_id + ".eml"), message, 0600);
}

void Mailer::deliver_smtp(const Mail& mail, const std::string& message) const {
  static std::once_flag init;
  std::call_once(init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) throw std::runtime_error("cannot create an SMTP client");
  CURL* h = curl.get();
  bool implicit_tls = settings_.smtp_port == 465;
  std::string host =
      settings_.smtp_host.find(':') != std::string::npos ? "[" + settings_.smtp_host + "]" : settings_.smtp_host;
  std::string url = fmt::format("{}://{}:{}", implicit_tls ? "smtps" : "smtp", host, settings_.smtp_port);
  std::string from = "<" + address_of(settings_.from) + ">";
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> rcpt(
      curl_slist_append(nullptr, ("<" + address_of(mail.to) + ">").c_str()), curl_slist_free_all);
  Upload upload{&message};
  char error[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(settings_.timeout.count() * 1000));
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(h, CURLOPT_USE_SSL, (implicit_tls || settings_.starttls) ? CURLUSESSL_ALL : CURLUSESSL_NONE);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!settings_.ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, settings_.ca_file.c_str());
  if (!settings_.smtp_user.empty()) {
    curl_easy_setopt(h, CURLOPT_USERNAME, settings_.smtp_user.c_str());
    curl_easy_setopt(h, CURLOPT_PASSWORD, settings_.smtp_pass.c_str());
  }
  curl_easy_setopt(h, CURLOPT_MAIL_FROM, from.c_str());
  curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpt.get());
  curl_easy_setopt(h, CURLOPT_READFUNCTION, read_upload);
  curl_easy_setopt(h, CURLOPT_READDATA, &upload);
  curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(message.size()));
  CURLcode rc = curl_easy_perform(h);
  if (rc != CURLE_OK)
    throw std::runtime_error(
        fmt::format("SMTP delivery to {} failed: {}", settings_.smtp_host, error[0] ? error : curl_easy_strerror(rc)));
}

MailQueue::MailQueue(store::Database& db, Mailer mailer) : db_(db), mailer_(std::move(mailer)) {
  // One process owns the database: claims left by a crash end now (a mail that was handed to
  // the server just before the crash goes out again with the same Message-ID: at least once).
  db_.write([](store::Connection& c) { c.execute(kReleaseClaims); });
  if (mailer_.uses_smtp()) sender_ = std::thread([this] { sender_loop(); });
}

MailQueue::~MailQueue() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (sender_.joinable()) sender_.join();
}

void MailQueue::sender_loop() {
  std::unique_lock lock(mutex_);
  while (true) {
    wake_.wait(lock, [this] { return stopping_ || !pending_.empty(); });
    if (stopping_) return;
    std::int64_t id = pending_.front();
    pending_.pop_front();
    lock.unlock();
    attempt_all({id});
    lock.lock();
  }
}

std::int64_t MailQueue::enqueue(store::Connection& c, const Mail& mail) {
  return c.query_int(kEnqueue, mail.to, mail.subject, mail.body, mail.kind, unix_millis(), unix_millis() / 1000)
      .value_or(0);
}

void MailQueue::attempt(std::int64_t id) {
  std::int64_t now = unix_millis() / 1000;
  std::int64_t lease = mailer_.settings().timeout.count() + 30;
  struct Claimed {
    Mail mail;
    std::int64_t created_at;
    std::int64_t attempts;
  };
  auto claimed = db_.write([&](store::Connection& c) -> std::optional<Claimed> {
    auto q = c.prepare(kClaim);
    q->bind_all(now + lease, id, now);
    if (!q->step()) return std::nullopt;
    return Claimed{{q->text(0), q->text(1), q->text(2), q->text(3)}, q->int64(4), q->int64(5)};
  });
  if (!claimed) return;
  try {
    mailer_.deliver(claimed->mail, claimed->created_at, fmt::format("{}-{:010d}", claimed->created_at, id));
    db_.write([&](store::Connection& c) { c.execute(kSent, unix_millis() / 1000, id); });
  } catch (const std::exception& e) {
    std::int64_t attempts = claimed->attempts + 1;
    std::int64_t delay = mailer_.settings().retry_base_s;
    for (std::int64_t i = 1; i < attempts && delay < 3600; ++i) delay *= 2;
    delay = std::min<std::int64_t>(delay, 3600);
    bool last = attempts >= mailer_.settings().max_attempts;
    db_.write([&](store::Connection& c) {
      c.execute(kFailed, now + delay, std::string(e.what()), mailer_.settings().max_attempts, now, id);
    });
    log::warn(last ? "mail given up" : "mail not delivered; will retry",
              {{"mail_id", id}, {"kind", claimed->mail.kind}, {"attempts", attempts}, {"error", e.what()}});
  }
}

void MailQueue::send_now(const std::vector<std::int64_t>& ids) {
  if (!sender_.joinable()) return attempt_all(ids);
  {
    std::lock_guard lock(mutex_);
    for (std::int64_t id : ids)
      if (id > 0) pending_.push_back(id);
  }
  wake_.notify_one();
}

void MailQueue::attempt_all(const std::vector<std::int64_t>& ids) {
  for (std::int64_t id : ids) {
    try {
      attempt(id);
    } catch (const std::exception& e) {
      log::error("mail queue error", {{"mail_id", id}, {"error", e.what()}});
    }
  }
}

int MailQueue::deliver_due() {
  std::int64_t now = unix_millis() / 1000;
  auto due = db_.read([&](store::Connection& c) {
    std::vector<std::int64_t> ids;
    auto q = c.prepare(kDue);
    q->bind_all(now);
    while (q->step()) ids.push_back(q->int64(0));
    return ids;
  });
  attempt_all(due);
  db_.write([&](store::Connection& c) { c.execute(kForget, now - 7 * 86400); });
  return static_cast<int>(due.size());
}

std::size_t MailQueue::forget_outbox(const std::vector<std::string>& addresses) {
  auto lower = [](std::string s) {
    for (auto& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return s;
  };
  std::vector<std::string> wanted;
  for (const auto& a : addresses) wanted.push_back(lower(address_of(a)));
  std::error_code ec;
  std::size_t removed = 0;
  if (mailer_.uses_smtp() || !std::filesystem::is_directory(mailer_.settings().outbox, ec)) return 0;
  for (const auto& entry : std::filesystem::directory_iterator(mailer_.settings().outbox, ec)) {
    if (entry.path().extension() != ".eml") continue;
    std::ifstream in(entry.path());
    std::string line;
    // The header block this mailer wrote (values are one line each).
    while (std::getline(in, line) && line != "\r" && !line.empty()) {
      if (!line.starts_with("To: ")) continue;
      if (line.ends_with('\r')) line.pop_back();
      std::string to = lower(address_of(line.substr(4)));
      if (std::find(wanted.begin(), wanted.end(), to) != wanted.end() && std::filesystem::remove(entry.path(), ec))
        ++removed;
      break;
    }
  }
  return removed;
}

}  // namespace common
