#pragma once
// Response bodies produced piece by piece on the worker pool, so a feed of a million entries
// is sent without a million-entry buffer and without blocking an I/O thread.
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "common/http.hpp"
#include "feeds.hpp"

namespace tc {

// Where streamed feeds run: the worker pool that produces their bodies, and the database their
// snapshots open.
struct FeedSource {
  std::function<void(std::function<void()>)> post;
  store::Database* db = nullptr;  // snapshots, and the audit entry of each download
  FeedSlots* slots = nullptr;     // how many feeds may stream at once, and per client
};

// A feed slot for the caller: per API key, or per address (IPv6: per /64) when anonymous.
FeedSlots::Lease feed_slot(const FeedSource& source, const common::Request& req);

// Appends the next part of a body to `out` and returns false once the body is complete.
using FillBody = std::function<bool(std::string& out)>;

// A ResponseStream that calls `fill` on the worker pool until a piece of about 64 KiB is
// ready; `fill` (and what it holds, such as a snapshot) is released when the body ends.
std::shared_ptr<common::ResponseStream> stream_body(const FeedSource& source, FillBody fill);

// A streamed response with this status, content type and body.
common::Response streamed(const FeedSource& source, std::string content_type, FillBody fill);

}  // namespace tc
