#include "feed_stream.hpp"

#include <atomic>
#include <mutex>

#include <any>

#include <boost/asio/ip/address.hpp>

#include "api_keys.hpp"
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

FeedSlots::Lease feed_slot(const FeedSource& source, const common::Request& req) {
  const auto* caller = std::any_cast<Caller>(&req.principal);
  if (caller && !caller->anonymous) return source.slots->acquire("key:" + caller->key_id, true);
  boost::system::error_code ec;
  auto address = boost::asio::ip::make_address(req.client_ip, ec);
  if (ec || !address.is_v6() || address.to_v6().is_v4_mapped()) return source.slots->acquire("ip:" + req.client_ip, false);
  // One IPv6 client usually holds a whole /64.
  auto bytes = address.to_v6().to_bytes();
  std::fill(bytes.begin() + 8, bytes.end(), 0);
  return source.slots->acquire("ip:" + boost::asio::ip::address_v6(bytes).to_string() + "/64", false);
}

common::Response streamed(const FeedSource& source, std::string content_type, FillBody fill) {
  common::Response res;
  res.status = 200;
  res.headers.set("Content-Type", std::move(content_type));
  res.stream = stream_body(source, std::move(fill));
  return res;
}

}  // namespace tc
