#include "manager_tls.hpp"

#include <unistd.h>

#include <filesystem>

#include <boost/asio/ip/address.hpp>

#include "common/error.hpp"
#include "common/files.hpp"
#include "common/log.hpp"
#include "security/certificate.hpp"

namespace manager {

namespace {

bool is_loopback(const std::string& host) {
  boost::system::error_code ec;
  auto address = boost::asio::ip::make_address(host, ec);
  return !ec && address.is_loopback();
}

// The certificate generated on first start, reused afterwards.
std::pair<std::string, std::string> self_signed(const std::filesystem::path& dir, const std::string& host) {
  auto cert = dir / "cert.pem";
  auto key = dir / "key.pem";
  if (std::filesystem::exists(cert) && std::filesystem::exists(key))
    return {common::read_file(cert), common::read_file(key)};
  std::filesystem::create_directories(dir);
  char hostname[256] = {};
  ::gethostname(hostname, sizeof hostname - 1);
  std::vector<std::string> dns{"localhost"};
  if (hostname[0] && std::string(hostname) != "localhost") dns.emplace_back(hostname);
  std::vector<std::string> ips{"127.0.0.1", "::1"};
  boost::system::error_code ec;
  auto address = boost::asio::ip::make_address(host, ec);
  if (!ec && !address.is_unspecified() && !address.is_loopback()) ips.push_back(address.to_string());
  auto pair = security::self_signed_certificate("panguard-manager", dns, ips);
  common::write_file_atomic(key, pair.private_key_pem, 0600);
  common::write_file_atomic(cert, pair.certificate_pem, 0644);
  common::log::info(
      "generated a self-signed TLS certificate",
      {{"certificate", cert.string()}, {"sha256", security::certificate_sha256_fingerprint(pair.certificate_pem)}});
  return {pair.certificate_pem, pair.private_key_pem};
}

}  // namespace

void configure_tls(common::Service& service, const Settings& settings) {
  if (!settings.fleet_token_configured) {
    if (!is_loopback(settings.host))
      throw common::ConfigError("MANAGER_AUTH_TOKEN is required to listen on a non-loopback address (" + settings.host +
                                ")");
    if (service.production()) throw common::ConfigError("MANAGER_AUTH_TOKEN is required when APP_ENV=production");
  }
  switch (settings.tls) {
    case TlsMode::Off: common::log::warn("TLS is off: run the manager behind a TLS-terminating proxy"); break;
    case TlsMode::Files:
      service.use_tls(common::read_file(settings.tls_cert_file), common::read_file(settings.tls_key_file));
      break;
    case TlsMode::SelfSigned: {
      auto [cert, key] = self_signed(service.data_dir() / "tls", settings.host);
      service.use_tls(std::move(cert), std::move(key));
      break;
    }
  }
}

}  // namespace manager
