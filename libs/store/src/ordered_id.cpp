#include "store/ordered_id.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <random>
#include <stdexcept>

namespace store {
namespace {

// The next value of one increasing sequence: `fresh` when time moved on, else the last + 1.
std::uint64_t next_after(std::atomic<std::uint64_t>& last, std::uint64_t fresh) {
  std::uint64_t prev = last.load(std::memory_order_relaxed);
  std::uint64_t next = 0;
  do {
    next = std::max(fresh, prev + 1);
  } while (!last.compare_exchange_weak(prev, next, std::memory_order_relaxed));
  return next;
}

std::uint64_t random_offset(unsigned bits) {
  std::random_device device;
  return (static_cast<std::uint64_t>(device()) << 32 | device()) & ((std::uint64_t{1} << bits) - 1);
}

}  // namespace

std::string ordered_id(std::string_view prefix, std::size_t hex_digits) {
  using namespace std::chrono;
  const auto since_epoch = system_clock::now().time_since_epoch();
  std::uint64_t value = 0;
  if (hex_digits == 16) {
    static const std::uint64_t offset = random_offset(20);
    static std::atomic<std::uint64_t> last{0};
    const auto ms = static_cast<std::uint64_t>(duration_cast<milliseconds>(since_epoch).count());
    value = next_after(last, ms << 20 | offset);
  } else if (hex_digits == 12) {
    static const std::uint64_t offset = random_offset(16);
    static std::atomic<std::uint64_t> last{0};
    const auto s = static_cast<std::uint64_t>(duration_cast<seconds>(since_epoch).count()) & 0xFFFFFFFF;
    value = next_after(last, s << 16 | offset) & 0xFFFFFFFFFFFF;
  } else {
    throw std::invalid_argument("ordered_id: hex_digits must be 12 or 16");
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(prefix);
  id.append(hex_digits, '0');
  for (std::size_t k = 0; k < hex_digits; ++k) id[id.size() - 1 - k] = kHex[(value >> (4 * k)) & 0xF];
  return id;
}

}  // namespace store
