#pragma once
// Row ids that append to their unique index: random ids dirty a random page of the index with
// every insert (each written to the WAL and again at the checkpoint); these increase with time.
#include <cstddef>
#include <string>
#include <string_view>

namespace store {

// `prefix` and `hex_digits` (12 or 16) lowercase hex digits, strictly increasing within the
// process. 16 digits: 44 bits of milliseconds since 1970, then 20 bits; 12 digits: 32 bits of
// seconds, then 16 bits. The low bits start at a random offset per process, so two processes
// collide only when they draw overlapping ranges in the same time unit (callers that share a
// table with another writing process must handle a taken id). Not secret: never a credential.
std::string ordered_id(std::string_view prefix, std::size_t hex_digits = 16);

}  // namespace store
