#include "feed_stream.hpp"

#include <atomic>
#include <mutex>

#include "common/log.hpp"

namespace tc {

namespace {

constexpr std::size_t kPieceBytes = 64 * 1024;

class WorkerStream : public common::ResponseStream, public std::enable_shared_from_this<WorkerStream> {
 public:
  WorkerStream(std::function<void(std::function<void()>)> post, FillBody fill)
      : post_(std::move(post)), fill_(std::move(fill)) {}

  void next(Deliver deliver) override {
    if (cancelled_ || done_) return deliver({}, true);
    post_([self = shared_from_this(), deliver = std::move(deliver)] { self->produce(deliver); });
  }

  void cancel() override { cancelled_ = true; }

 private:
  // Runs on a worker; next() is only called again after `deliver`, so fill_ is never used
  // by two threads at once.
  void produce(const Deliver& deliver) {
    std::string piece;
    bool more = true;
    try {
      while (more && piece.size() < kPieceBytes && !cancelled_) more = fill_(piece);
    } catch (const std::exception& e) {
      common::log::error("feed stream failed", {{"error", e.what()}});
      more = false;
    }
    if (!more || cancelled_) {
      done_ = true;
      fill_ = nullptr;  // releases the snapshot now, not when the connection closes
    }
    deliver(std::move(piece), done_);
  }

  std::function<void(std::function<void()>)> post_;
  FillBody fill_;
  std::atomic<bool> cancelled_{false};
  std::atomic<bool> done_{false};
};

}  // namespace

std::shared_ptr<common::ResponseStream> stream_body(const FeedSource& source, FillBody fill) {
  return std::make_shared<WorkerStream>(source.post, std::move(fill));
}

common::Response streamed(const FeedSource& source, std::string content_type, FillBody fill) {
  common::Response res;
  res.status = 200;
  res.headers.set("Content-Type", std::move(content_type));
  res.stream = stream_body(source, std::move(fill));
  return res;
}

}  // namespace tc
