// Self-signed TLS server certificates (ECDSA P-256) and certificate fingerprints.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace security {

struct CertificatePair {
  std::string certificate_pem;
  std::string private_key_pem;  // PKCS#8, unencrypted
};

// An X.509 v3 certificate for common_name, self-signed with a fresh P-256 key and SHA-256,
// with a random positive 128-bit serial, validity from now to now + valid_days, subjectAltName
// listing every DNS name and IP address (omitted if both lists are empty), basicConstraints
// CA:FALSE, keyUsage digitalSignature and extendedKeyUsage serverAuth (critical where RFC 5280
// says so). Throws std::invalid_argument for an unparsable IP address, an empty or non-ASCII
// DNS name, or valid_days < 1; std::runtime_error if OpenSSL fails.
CertificatePair self_signed_certificate(std::string_view common_name, const std::vector<std::string>& dns_names,
                                        const std::vector<std::string>& ip_addresses, int valid_days = 825);

// SHA-256 of the DER certificate as uppercase hex pairs joined by ':', exactly like
// `openssl x509 -noout -fingerprint -sha256`; throws std::invalid_argument if the text holds
// no PEM certificate.
std::string certificate_sha256_fingerprint(std::string_view certificate_pem);

}  // namespace security
