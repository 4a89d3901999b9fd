#include "security/password.hpp"

#include <argon2.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <optional>
#include <semaphore>
#include <stdexcept>
#include <thread>

#include "security/digest.hpp"
#include "security/encoding.hpp"
#include "security/random.hpp"

namespace security {
namespace {

constexpr std::string_view kPrefix = "$argon2id$v=19$";

// Bounds on stored parameters: a hash outside them is treated as malformed rather than run,
// so a corrupted or hostile row cannot make verification allocate gigabytes or spin.
constexpr std::uint32_t kMaxMemoryKib = 1u << 20;  // 1 GiB
constexpr std::uint32_t kMaxIterations = 64;
constexpr std::uint32_t kMaxParallelism = 64;
constexpr std::size_t kMinSaltBytes = 8;
constexpr std::size_t kMaxSaltBytes = 64;
constexpr std::size_t kMinTagBytes = 16;
constexpr std::size_t kMaxTagBytes = 64;

struct ParsedHash {
  std::uint32_t memory_kib = 0;
  std::uint32_t iterations = 0;
  std::uint32_t parallelism = 0;
  std::string salt;
  std::string tag;
};

// Consumes "<name>=<decimal>" followed by `terminator` from the front of text.
std::optional<std::uint32_t> take_parameter(std::string_view& text, char name, char terminator) {
  if (text.size() < 2 || text[0] != name || text[1] != '=') return std::nullopt;
  text.remove_prefix(2);
  const auto end = text.find(terminator);
  if (end == std::string_view::npos || end == 0) return std::nullopt;
  const std::string_view digits = text.substr(0, end);
  if (digits.size() > 1 && digits[0] == '0') return std::nullopt;  // one spelling per value
  std::uint32_t value = 0;
  const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc{} || ptr != digits.data() + digits.size()) return std::nullopt;
  text.remove_prefix(end + 1);
  return value;
}

// "$argon2id$v=19$m=<m>,t=<t>,p=<p>$<salt b64>$<tag b64>", within the bounds above.
std::optional<ParsedHash> parse_phc(std::string_view phc) {
  if (phc.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  std::string_view rest = phc.substr(kPrefix.size());

  ParsedHash parsed;
  const auto m = take_parameter(rest, 'm', ',');
  const auto t = m ? take_parameter(rest, 't', ',') : std::nullopt;
  const auto p = t ? take_parameter(rest, 'p', '$') : std::nullopt;
  if (!p) return std::nullopt;
  parsed.memory_kib = *m;
  parsed.iterations = *t;
  parsed.parallelism = *p;

  const auto separator = rest.find('$');
  if (separator == std::string_view::npos) return std::nullopt;
  const std::string_view salt_text = rest.substr(0, separator);
  const std::string_view tag_text = rest.substr(separator + 1);
  if (salt_text.find('=') != std::string_view::npos || tag_text.find('=') != std::string_view::npos) {
    return std::nullopt;  // PHC strings carry no base64 padding
  }
  auto salt = base64_decode(salt_text);
  auto tag = base64_decode(tag_text);
  if (!salt || !tag) return std::nullopt;
  parsed.salt = std::move(*salt);
  parsed.tag = std::move(*tag);

  const bool in_bounds = parsed.parallelism >= 1 && parsed.parallelism <= kMaxParallelism && parsed.iterations >= 1 &&
                         parsed.iterations <= kMaxIterations && parsed.memory_kib >= 8 * parsed.parallelism &&
                         parsed.memory_kib <= kMaxMemoryKib && parsed.salt.size() >= kMinSaltBytes &&
                         parsed.salt.size() <= kMaxSaltBytes && parsed.tag.size() >= kMinTagBytes &&
                         parsed.tag.size() <= kMaxTagBytes;
  if (!in_bounds) return std::nullopt;
  return parsed;
}

// Argon2 takes 32-bit lengths.
bool fits_argon2_length(std::string_view password) { return password.size() <= ARGON2_MAX_PWD_LENGTH; }

// At most one Argon2 computation per core at a time: more would not finish sooner, but each
// holds ~19 MiB, so a burst of logins on many worker threads would multiply the memory.
std::atomic<int> g_running{0};
std::atomic<int> g_peak{0};

class HashGate {
 public:
  HashGate() {
    slots().acquire();
    int now = ++g_running;
    int peak = g_peak.load();
    while (now > peak && !g_peak.compare_exchange_weak(peak, now)) {
    }
  }
  ~HashGate() {
    --g_running;
    slots().release();
  }
  HashGate(const HashGate&) = delete;
  HashGate& operator=(const HashGate&) = delete;

 private:
  static std::counting_semaphore<1024>& slots() {
    static std::counting_semaphore<1024> gate(
        static_cast<std::ptrdiff_t>(std::clamp(std::thread::hardware_concurrency(), 1u, 1024u)));
    return gate;
  }
};

}  // namespace

const PasswordParameters& password_current_parameters() {
  static const PasswordParameters parameters{};
  return parameters;
}

std::string password_hash(std::string_view password) {
  if (!fits_argon2_length(password)) throw std::invalid_argument("security: password too long");
  const PasswordParameters& params = password_current_parameters();
  const std::string salt = random_bytes(params.salt_bytes);
  std::string encoded(argon2_encodedlen(params.iterations, params.memory_kib, params.parallelism, params.salt_bytes,
                                        params.tag_bytes, Argon2_id),
                      '\0');
  HashGate gate;
  const int rc =
      argon2id_hash_encoded(params.iterations, params.memory_kib, params.parallelism, password.data(), password.size(),
                            salt.data(), salt.size(), params.tag_bytes, encoded.data(), encoded.size());
  if (rc != ARGON2_OK) {
    throw std::runtime_error(std::string("security: argon2id failed: ") + argon2_error_message(rc));
  }
  encoded.resize(encoded.find('\0'));
  return encoded;
}

bool password_verify(std::string_view password, std::string_view phc) {
  if (!fits_argon2_length(password)) return false;
  const auto parsed = parse_phc(phc);
  if (!parsed) return false;
  std::string tag(parsed->tag.size(), '\0');
  HashGate gate;
  const int rc = argon2id_hash_raw(parsed->iterations, parsed->memory_kib, parsed->parallelism, password.data(),
                                   password.size(), parsed->salt.data(), parsed->salt.size(), tag.data(), tag.size());
  if (rc != ARGON2_OK) return false;
  return constant_time_equal(tag, parsed->tag);
}

int password_peak_concurrency() { return g_peak.load(); }

bool password_needs_rehash(std::string_view phc) {
  const auto parsed = parse_phc(phc);
  if (!parsed) return true;
  const PasswordParameters& current = password_current_parameters();
  return parsed->memory_kib < current.memory_kib || parsed->iterations < current.iterations ||
         parsed->salt.size() < current.salt_bytes || parsed->tag.size() < current.tag_bytes;
}

const std::string& password_dummy_hash() {
  static const std::string hash = password_hash(random_token(24));
  return hash;
}

}  // namespace security
