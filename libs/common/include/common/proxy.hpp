#pragma once
// Which X-Forwarded-For entry is the client (TRUST_PROXY). Proxies append the address they
// saw, so only the right end of the list is trustworthy: the list is walked from the right,
// past the proxies trusted by count or by address, and the first address not passed over is
// the client (the nginx real_ip_recursive / Express "trust proxy" model).
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/ip/address.hpp>

#include "common/http.hpp"

namespace common {

class TrustedProxies {
 public:
  // "false"/"0"/"" (ignore the header), "true" (= 1 hop), a hop count "N", or a comma
  // separated list of proxy addresses and CIDRs ("10.0.0.0/8, ::1"). Throws ConfigError.
  static TrustedProxies parse(std::string_view setting);

  bool enabled() const { return hops_ > 0 || !networks_.empty(); }
  // The client address for a request from `peer` carrying these headers (all X-Forwarded-For
  // lines, in order, as one list).
  std::string client_ip(const std::string& peer, const Headers& headers) const;
  // The effective setting in words, for the start-up log.
  std::string describe() const;

 private:
  struct Network {
    boost::asio::ip::address base;
    unsigned prefix = 0;
  };
  bool trusted(const boost::asio::ip::address& address, std::size_t hop) const;
  std::size_t hops_ = 0;           // trust this many proxies in front of the service
  std::vector<Network> networks_;  // or trust the proxies at these addresses
};

}  // namespace common
