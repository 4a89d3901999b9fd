#pragma once
// Outgoing mail: RFC 5322 messages delivered over SMTP (libcurl; STARTTLS or implicit TLS,
// optional AUTH) or, when SMTP_HOST is not set, written as .eml files to DATA_DIR/outbox/.
//
// Mail a use case promises must not be lost to a crash between its commit and the delivery:
// enqueue it with MailQueue::enqueue inside the same transaction as the change it reports,
// then call send_now() after the commit; a background job retries what failed. Requests never
// wait for an SMTP server: with SMTP, send_now() hands the mails to the queue's own sender
// thread; the outbox (a local file write) is written at once.
// Needs the table
//   CREATE TABLE mail_queue (
//     id INTEGER PRIMARY KEY, recipient TEXT NOT NULL, subject TEXT NOT NULL, body TEXT NOT NULL,
//     kind TEXT NOT NULL, created_at INTEGER NOT NULL (unix ms), attempts INTEGER NOT NULL DEFAULT 0,
//     next_attempt_at INTEGER NOT NULL, claimed_until INTEGER NOT NULL DEFAULT 0,
//     sent_at INTEGER, failed_at INTEGER, last_error TEXT) STRICT;
//   CREATE INDEX mail_queue_due ON mail_queue (sent_at, failed_at, next_attempt_at);
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/config.hpp"
#include "store/database.hpp"

namespace common {

struct Mail {
  std::string to;       // one address, already validated
  std::string subject;  // one line
  std::string body;     // plain text
  std::string kind;     // template name, e.g. "reset-password" (in the kind header)
};

struct MailSettings {
  std::string from;         // SMTP_FROM
  std::string kind_header;  // e.g. "X-Panguard-Mail"
  std::filesystem::path outbox;
  std::string smtp_host;  // empty: write to the outbox
  int smtp_port = 587;    // 465 means implicit TLS
  bool starttls = true;   // require STARTTLS (ignored for implicit TLS)
  std::string smtp_user, smtp_pass;
  std::string ca_file;  // extra trust anchor for the server's certificate
  std::chrono::seconds timeout{10};
  std::int64_t retry_base_s = 30;  // first retry; doubles up to an hour
  int max_attempts = 10;
};

// A header value as RFC 2047 encoded words ("=?UTF-8?B?...?=", folded) when it is not plain
// printable ASCII; line breaks become spaces.
std::string encode_header_text(std::string_view text);

// The SMTP_* settings every mailing service declares.
std::vector<OptionSpec> mail_options(std::string default_from);
// Reads them (ConfigError on a bad value); the outbox is DATA_DIR/outbox.
MailSettings read_mail_settings(const Config& config, const std::filesystem::path& data_dir, std::string kind_header);

class Mailer {
 public:
  explicit Mailer(MailSettings settings);
  // The message as sent: headers (no line breaks in values), CRLF line ends.
  std::string format(const Mail& mail, std::int64_t created_at, const std::string& message_id) const;
  // Delivers one message; throws std::runtime_error saying why it failed.
  void deliver(const Mail& mail, std::int64_t created_at, const std::string& message_id) const;
  const MailSettings& settings() const { return settings_; }
  bool uses_smtp() const { return !settings_.smtp_host.empty(); }

 private:
  void deliver_smtp(const Mail& mail, const std::string& message) const;
  MailSettings settings_;
};

class MailQueue {
 public:
  MailQueue(store::Database& db, Mailer mailer);
  // Lets the sender thread finish the mail in hand; the rest stays queued for the next start.
  ~MailQueue();
  MailQueue(const MailQueue&) = delete;
  MailQueue& operator=(const MailQueue&) = delete;

  // Inside the caller's write transaction; returns the queue id.
  static std::int64_t enqueue(store::Connection& c, const Mail& mail);
  // After the commit: delivers those mails now (outbox) or hands them to the sender thread
  // (SMTP), unless someone else is already at them. Failures stay queued for the retry job and
  // are logged; never throws.
  void send_now(const std::vector<std::int64_t>& ids);
  // The retry job: tries every mail that is due; returns how many it tried. Also forgets mails
  // delivered more than a week ago.
  int deliver_due();
  // Deletes the outbox files (.eml) addressed to any of `addresses` (compared without case),
  // for the erasure of an account; returns how many. Nothing to do when mail goes over SMTP.
  std::size_t forget_outbox(const std::vector<std::string>& addresses);
  // How often the retry job should run.
  std::chrono::seconds retry_interval() const { return std::chrono::seconds(mailer_.settings().retry_base_s); }

 private:
  void attempt(std::int64_t id);
  void attempt_all(const std::vector<std::int64_t>& ids);
  void sender_loop();

  store::Database& db_;
  Mailer mailer_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::int64_t> pending_;
  bool stopping_ = false;
  std::thread sender_;
};

}  // namespace common
