#include "security/certificate.hpp"

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <climits>
#include <stdexcept>

#include "openssl_handles.hpp"
#include "security/random.hpp"

namespace security {
namespace {

using ExtensionPtr = detail::OpenSslPtr<X509_EXTENSION, X509_EXTENSION_free>;
using Ia5StringPtr = detail::OpenSslPtr<ASN1_IA5STRING, ASN1_IA5STRING_free>;

constexpr std::size_t kMaxCommonNameLength = 64;  // ub-common-name, RFC 5280
constexpr std::size_t kMaxDnsNameLength = 253;

detail::PkeyPtr generate_p256_key() {
  detail::PkeyPtr key(EVP_EC_gen("P-256"));
  if (!key) detail::throw_openssl_error("EVP_EC_gen(P-256)");
  return key;
}

// Positive random serial of up to 128 bits (top bit cleared so DER needs no sign byte).
void set_random_serial(X509* cert) {
  std::string raw = random_bytes(16);
  raw[0] = static_cast<char>(static_cast<unsigned char>(raw[0]) & 0x7F);
  detail::BignumPtr number(BN_bin2bn(detail::bytes(std::string_view(raw)), static_cast<int>(raw.size()), nullptr));
  if (!number) detail::throw_openssl_error("BN_bin2bn");
  if (BN_is_zero(number.get()) && BN_set_word(number.get(), 1) != 1) {
    detail::throw_openssl_error("BN_set_word");
  }
  detail::Asn1IntegerPtr serial(BN_to_ASN1_INTEGER(number.get(), nullptr));
  if (!serial) detail::throw_openssl_error("BN_to_ASN1_INTEGER");
  if (X509_set_serialNumber(cert, serial.get()) != 1) {
    detail::throw_openssl_error("X509_set_serialNumber");
  }
}

void set_validity(X509* cert, int valid_days) {
  if (X509_gmtime_adj(X509_getm_notBefore(cert), 0) == nullptr ||
      X509_time_adj_ex(X509_getm_notAfter(cert), valid_days, 0, nullptr) == nullptr) {
    detail::throw_openssl_error("X509 validity");
  }
}

// Subject = issuer = CN=<common_name> (self-signed).
void set_names(X509* cert, std::string_view common_name) {
  X509_NAME* name = X509_get_subject_name(cert);
  if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, detail::bytes(common_name),
                                 static_cast<int>(common_name.size()), -1, 0) != 1) {
    detail::throw_openssl_error("X509_NAME_add_entry_by_txt(CN)");
  }
  if (X509_set_issuer_name(cert, name) != 1) detail::throw_openssl_error("X509_set_issuer_name");
}

bool is_dns_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxDnsNameLength) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
           c == '_' || c == '*';
  });
}

detail::GeneralNamePtr dns_general_name(const std::string& name) {
  if (!is_dns_name(name)) throw std::invalid_argument("security: invalid DNS name: " + name);
  Ia5StringPtr text(ASN1_IA5STRING_new());
  if (!text || ASN1_STRING_set(text.get(), name.data(), static_cast<int>(name.size())) != 1) {
    detail::throw_openssl_error("ASN1_STRING_set(DNS)");
  }
  detail::GeneralNamePtr general(GENERAL_NAME_new());
  if (!general) detail::throw_openssl_error("GENERAL_NAME_new");
  GENERAL_NAME_set0_value(general.get(), GEN_DNS, text.release());
  return general;
}

detail::GeneralNamePtr ip_general_name(const std::string& address) {
  // a2i_IPADDRESS parses IPv4 dotted quads and IPv6 text into the 4 or 16 raw bytes.
  detail::Asn1OctetStringPtr raw(a2i_IPADDRESS(address.c_str()));
  if (!raw) {
    detail::clear_openssl_errors();
    throw std::invalid_argument("security: invalid IP address: " + address);
  }
  detail::GeneralNamePtr general(GENERAL_NAME_new());
  if (!general) detail::throw_openssl_error("GENERAL_NAME_new");
  GENERAL_NAME_set0_value(general.get(), GEN_IPADD, raw.release());
  return general;
}

void add_subject_alt_names(X509* cert, const std::vector<std::string>& dns_names,
                           const std::vector<std::string>& ip_addresses) {
  if (dns_names.empty() && ip_addresses.empty()) return;
  detail::GeneralNamesPtr names(GENERAL_NAMES_new());
  if (!names) detail::throw_openssl_error("GENERAL_NAMES_new");
  const auto push = [&](detail::GeneralNamePtr general) {
    if (sk_GENERAL_NAME_push(names.get(), general.get()) == 0) {
      detail::throw_openssl_error("sk_GENERAL_NAME_push");
    }
    (void)general.release();  // now owned by names
  };
  for (const auto& name : dns_names) push(dns_general_name(name));
  for (const auto& address : ip_addresses) push(ip_general_name(address));
  if (X509_add1_ext_i2d(cert, NID_subject_alt_name, names.get(), 0, X509V3_ADD_DEFAULT) != 1) {
    detail::throw_openssl_error("X509_add1_ext_i2d(subjectAltName)");
  }
}

// Adds an extension written in OpenSSL's config syntax; only fixed, trusted values go here.
void add_fixed_extension(X509* cert, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  ExtensionPtr extension(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
  if (!extension) detail::throw_openssl_error("X509V3_EXT_conf_nid");
  if (X509_add_ext(cert, extension.get(), -1) != 1) detail::throw_openssl_error("X509_add_ext");
}

std::string certificate_to_pem(X509* cert) {
  detail::BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) {
    detail::throw_openssl_error("PEM_write_bio_X509");
  }
  return detail::bio_contents(bio.get());
}

std::string private_key_to_pem(EVP_PKEY* key) {
  detail::BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    detail::throw_openssl_error("PEM_write_bio_PrivateKey");
  }
  return detail::bio_contents(bio.get());
}

}  // namespace

CertificatePair self_signed_certificate(std::string_view common_name, const std::vector<std::string>& dns_names,
                                        const std::vector<std::string>& ip_addresses, int valid_days) {
  if (common_name.empty() || common_name.size() > kMaxCommonNameLength) {
    throw std::invalid_argument("security: common name must be 1 to 64 bytes");
  }
  if (valid_days < 1) throw std::invalid_argument("security: valid_days must be positive");

  detail::PkeyPtr key = generate_p256_key();
  detail::X509Ptr cert(X509_new());
  if (!cert) detail::throw_openssl_error("X509_new");
  if (X509_set_version(cert.get(), X509_VERSION_3) != 1) {
    detail::throw_openssl_error("X509_set_version");
  }
  set_random_serial(cert.get());
  set_validity(cert.get(), valid_days);
  set_names(cert.get(), common_name);
  if (X509_set_pubkey(cert.get(), key.get()) != 1) detail::throw_openssl_error("X509_set_pubkey");

  add_fixed_extension(cert.get(), NID_basic_constraints, "critical,CA:FALSE");
  add_fixed_extension(cert.get(), NID_key_usage, "critical,digitalSignature");
  add_fixed_extension(cert.get(), NID_ext_key_usage, "serverAuth");
  add_fixed_extension(cert.get(), NID_subject_key_identifier, "hash");
  add_subject_alt_names(cert.get(), dns_names, ip_addresses);

  if (X509_sign(cert.get(), key.get(), EVP_sha256()) <= 0) detail::throw_openssl_error("X509_sign");
  return CertificatePair{certificate_to_pem(cert.get()), private_key_to_pem(key.get())};
}

std::string certificate_sha256_fingerprint(std::string_view certificate_pem) {
  auto bio = detail::memory_bio(certificate_pem);
  detail::X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) {
    detail::clear_openssl_errors();
    throw std::invalid_argument("security: no PEM certificate found");
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (X509_digest(cert.get(), EVP_sha256(), digest, &size) != 1) {
    detail::throw_openssl_error("X509_digest");
  }
  constexpr std::string_view kUpperHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned int i = 0; i < size; ++i) {
    if (i != 0) out += ':';
    out += kUpperHex[digest[i] >> 4];
    out += kUpperHex[digest[i] & 0x0F];
  }
  return out;
}

}  // namespace security
