// Mail headers: non-ASCII subjects as RFC 2047 encoded words.
#include "common/mail.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "security/encoding.hpp"

using common::encode_header_text;

namespace {

// The encoded words of a header value, split at the folds.
std::vector<std::string> words(const std::string& value) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    auto fold = value.find("\r\n ", start);
    out.push_back(value.substr(start, fold - start));
    if (fold == std::string::npos) break;
    start = fold + 3;
  }
  return out;
}

}  // namespace

TEST_CASE("mail: plain ASCII subjects are left alone", "[common][mail]") {
  CHECK(encode_header_text("Reset your Panguard password") == "Reset your Panguard password");
  // Line breaks never reach the header.
  CHECK(encode_header_text("a\r\nBcc: x@example.com") == "a  Bcc: x@example.com");
}

TEST_CASE("mail: non-ASCII subjects become UTF-8 B encoded words (RFC 2047)", "[common][mail]") {
  // "Grüße" is 47 72 C3 BC C3 9F 65 in UTF-8; base64 R3LDvMOfZQ== (RFC 4648 alphabet).
  CHECK(encode_header_text("Grüße") == "=?UTF-8?B?R3LDvMOfZQ==?=");
  // What looks like an encoded word is encoded too, so it reads back literally.
  CHECK(encode_header_text("=?x?=") == "=?UTF-8?B?PT94Pz0=?=");
}

TEST_CASE("mail: long subjects fold into words of at most 75 characters on UTF-8 boundaries", "[common][mail]") {
  std::string subject;
  for (int i = 0; i < 40; ++i) subject += "Größe ✓ ";
  auto encoded = encode_header_text(subject);
  std::string decoded;
  for (const auto& word : words(encoded)) {
    INFO(word);
    CHECK(word.size() <= 75);
    REQUIRE(word.starts_with("=?UTF-8?B?"));
    REQUIRE(word.ends_with("?="));
    auto bytes = security::base64_decode(word.substr(10, word.size() - 12));
    REQUIRE(bytes);
    // Each word holds whole characters: it neither starts nor ends inside a sequence.
    CHECK((static_cast<unsigned char>(bytes->front()) & 0xC0) != 0x80);
    decoded += *bytes;
  }
  CHECK(decoded == subject);
  CHECK(words(encoded).size() > 1);
}

TEST_CASE("mail: the formatted message carries the encoded subject", "[common][mail]") {
  common::MailSettings settings;
  settings.from = "Panguard <noreply@example.com>";
  settings.kind_header = "X-Test-Mail";
  common::Mailer mailer(settings);
  auto message = mailer.format({.to = "a@example.com", .subject = "Grüße", .body = "hi", .kind = "test"}, 0, "id1");
  CHECK(message.find("\r\nSubject: =?UTF-8?B?R3LDvMOfZQ==?=\r\n") != std::string::npos);
}
