#include "openssl_handles.hpp"

#include <openssl/err.h>

#include <climits>
#include <stdexcept>

namespace security::detail {

void throw_openssl_error(std::string_view what) {
  std::string message(what);
  if (const unsigned long code = ERR_get_error(); code != 0) {
    char text[256];
    ERR_error_string_n(code, text, sizeof text);
    message += ": ";
    message += text;
  }
  ERR_clear_error();
  throw std::runtime_error(message);
}

void clear_openssl_errors() noexcept { ERR_clear_error(); }

BioPtr memory_bio(std::string_view text) {
  if (text.size() > static_cast<std::size_t>(INT_MAX)) {
    throw std::invalid_argument("security: input too large for a memory BIO");
  }
  BioPtr bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
  if (!bio) throw_openssl_error("BIO_new_mem_buf");
  return bio;
}

std::string bio_contents(BIO* bio) {
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  if (size <= 0 || data == nullptr) return {};
  return std::string(data, static_cast<std::size_t>(size));
}

}  // namespace security::detail
