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

std::vector<common::OptionSpec> tls_options() {
  return {
      {"MANAGER_TLS", "self-signed", "self-signed (generated into DATA_DIR/tls), files, or off behind a TLS proxy"},
      {"MANAGER_TLS_CERT", "", "PEM certificate chain when MANAGER_TLS=files"},
      {"MANAGER_TLS_KEY", "", "PEM private key file when MANAGER_TLS=files"},
      {"MANAGER_AUTH_TOKEN", "",
       "fleet bearer token (at least 32 characters); unset in development: generated into DATA_DIR/secrets", true},
  };
}

void configure_tls(common::Service& service) {
  const auto& config = service.config();
  std::string host = config.get("MANAGER_HOST");
  if (!config.is_set("MANAGER_AUTH_TOKEN")) {
    if (!is_loopback(host))
      throw common::ConfigError("MANAGER_AUTH_TOKEN is required to listen on a non-loopback address (" + host + ")");
    if (service.production()) throw common::ConfigError("MANAGER_AUTH_TOKEN is required when APP_ENV=production");
  }
  std::string mode = config.get("MANAGER_TLS");
  if (mode == "off") {
    common::log::warn("TLS is off: run the manager behind a TLS-terminating proxy");
  } else if (mode == "files") {
    if (!config.is_set("MANAGER_TLS_CERT") || !config.is_set("MANAGER_TLS_KEY"))
      throw common::ConfigError("MANAGER_TLS=files needs MANAGER_TLS_CERT and MANAGER_TLS_KEY");
    service.use_tls(common::read_file(config.get("MANAGER_TLS_CERT")),
                    common::read_file(config.get("MANAGER_TLS_KEY")));
  } else if (mode == "self-signed") {
    auto [cert, key] = self_signed(service.data_dir() / "tls", host);
    service.use_tls(std::move(cert), std::move(key));
  } else {
    throw common::ConfigError("MANAGER_TLS must be self-signed, files or off (got '" + mode + "')");
  }
}

}  // namespace manager
