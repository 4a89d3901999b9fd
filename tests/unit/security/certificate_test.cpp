// security/certificate.hpp: generated certificates parsed back with OpenSSL (library and CLI).
#include "security/certificate.hpp"

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <optional>
#include <regex>
#include <stdexcept>
#include <string>
#include <vector>

using namespace security;

namespace {

struct X509Free {
  void operator()(X509* p) const { X509_free(p); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct BioFree {
  void operator()(BIO* p) const { BIO_free_all(p); }
};
struct NamesFree {
  void operator()(GENERAL_NAMES* p) const { GENERAL_NAMES_free(p); }
};
struct BnFree {
  void operator()(BIGNUM* p) const { BN_free(p); }
};

using X509Ptr = std::unique_ptr<X509, X509Free>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

std::unique_ptr<BIO, BioFree> bio_over(const std::string& text) {
  return std::unique_ptr<BIO, BioFree>(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

X509Ptr parse_certificate(const std::string& pem) {
  auto bio = bio_over(pem);
  return X509Ptr(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

PkeyPtr parse_private_key(const std::string& pem) {
  auto bio = bio_over(pem);
  return PkeyPtr(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
}

struct SubjectAltNames {
  std::vector<std::string> dns;
  std::vector<std::string> ip_bytes;
};

SubjectAltNames subject_alt_names(X509* cert) {
  SubjectAltNames out;
  std::unique_ptr<GENERAL_NAMES, NamesFree> names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  if (!names) return out;
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
    const auto* data = reinterpret_cast<const char*>(
        ASN1_STRING_get0_data(name->type == GEN_DNS ? name->d.dNSName : name->d.iPAddress));
    const int size = ASN1_STRING_length(name->type == GEN_DNS ? name->d.dNSName : name->d.iPAddress);
    (name->type == GEN_DNS ? out.dns : out.ip_bytes).emplace_back(data, static_cast<std::size_t>(size));
  }
  return out;
}

std::string group_name(EVP_PKEY* key) {
  char name[64] = {};
  std::size_t length = 0;
  EVP_PKEY_get_group_name(key, name, sizeof name, &length);
  return std::string(name, length);
}

// Writes text to a fresh temporary file and removes it on destruction.
class TempFile {
 public:
  explicit TempFile(const std::string& text) {
    char pattern[] = "/tmp/security-cert-XXXXXX";
    const int fd = mkstemp(pattern);
    if (fd < 0) throw std::runtime_error("mkstemp failed");
    close(fd);
    path_ = pattern;
    std::ofstream(path_) << text;
  }
  ~TempFile() { std::remove(path_.c_str()); }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// stdout of a shell command, or nullopt if it exits non-zero.
std::optional<std::string> run(const std::string& command) {
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return std::nullopt;
  std::string output;
  char buffer[4096];
  while (const std::size_t n = fread(buffer, 1, sizeof buffer, pipe)) output.append(buffer, n);
  if (pclose(pipe) != 0) return std::nullopt;
  return output;
}

bool have_openssl_cli() { return std::system("command -v openssl >/dev/null 2>&1") == 0; }

const CertificatePair& sample_pair() {
  static const CertificatePair pair =
      self_signed_certificate("manager.local", {"manager.local", "localhost"}, {"127.0.0.1", "::1"}, 825);
  return pair;
}

}  // namespace

TEST_CASE("self_signed_certificate returns PEM certificate and PKCS#8 key", "[certificate]") {
  const auto& pair = sample_pair();
  CHECK(pair.certificate_pem.rfind("-----BEGIN CERTIFICATE-----", 0) == 0);
  CHECK(pair.private_key_pem.rfind("-----BEGIN PRIVATE KEY-----", 0) == 0);
}

TEST_CASE("the certificate parses back with the expected fields", "[certificate]") {
  const auto& pair = sample_pair();
  const X509Ptr cert = parse_certificate(pair.certificate_pem);
  REQUIRE(cert);

  CHECK(X509_get_version(cert.get()) == X509_VERSION_3);
  CHECK(X509_get_signature_nid(cert.get()) == NID_ecdsa_with_SHA256);

  char common_name[128] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert.get()), NID_commonName, common_name, sizeof common_name);
  CHECK(std::string(common_name) == "manager.local");
  CHECK(X509_NAME_cmp(X509_get_subject_name(cert.get()), X509_get_issuer_name(cert.get())) == 0);

  EVP_PKEY* public_key = X509_get0_pubkey(cert.get());
  REQUIRE(public_key != nullptr);
  CHECK(EVP_PKEY_is_a(public_key, "EC"));
  CHECK(group_name(public_key) == "prime256v1");
  CHECK(X509_verify(cert.get(), public_key) == 1);  // self-signature holds

  SECTION("subjectAltName lists every DNS name and IP address") {
    const auto names = subject_alt_names(cert.get());
    CHECK(names.dns == std::vector<std::string>{"manager.local", "localhost"});
    REQUIRE(names.ip_bytes.size() == 2);
    CHECK(names.ip_bytes[0] == std::string("\x7f\x00\x00\x01", 4));
    CHECK(names.ip_bytes[1] == std::string(15, '\0') + '\x01');
    CHECK(X509_check_host(cert.get(), "localhost", 0, 0, nullptr) == 1);
    CHECK(X509_check_ip_asc(cert.get(), "127.0.0.1", 0) == 1);
    CHECK(X509_check_ip_asc(cert.get(), "::1", 0) == 1);
    CHECK(X509_check_host(cert.get(), "evil.example", 0, 0, nullptr) == 0);
    CHECK(X509_check_ip_asc(cert.get(), "10.0.0.1", 0) == 0);
  }
  SECTION("leaf server certificate extensions") {
    CHECK(X509_check_ca(cert.get()) == 0);  // basicConstraints CA:FALSE
    CHECK((X509_get_extension_flags(cert.get()) & EXFLAG_BCONS) != 0);
    CHECK((X509_get_key_usage(cert.get()) & KU_DIGITAL_SIGNATURE) != 0);
    CHECK((X509_get_key_usage(cert.get()) & KU_KEY_CERT_SIGN) == 0);
    CHECK(X509_get_extended_key_usage(cert.get()) == XKU_SSL_SERVER);
    CHECK(X509_check_purpose(cert.get(), X509_PURPOSE_SSL_SERVER, 0) == 1);
  }
  SECTION("serial is positive and at most 128 bits") {
    std::unique_ptr<BIGNUM, BnFree> serial(ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert.get()), nullptr));
    REQUIRE(serial);
    CHECK_FALSE(BN_is_negative(serial.get()));
    CHECK_FALSE(BN_is_zero(serial.get()));
    CHECK(BN_num_bits(serial.get()) <= 128);
    CHECK(BN_num_bits(serial.get()) > 64);  // fails with probability 2^-63
  }
  SECTION("validity is valid_days long and current") {
    int days = 0;
    int seconds = 0;
    REQUIRE(ASN1_TIME_diff(&days, &seconds, X509_get0_notBefore(cert.get()), X509_get0_notAfter(cert.get())) == 1);
    CHECK(days == 825);
    CHECK(seconds == 0);
    CHECK(X509_cmp_current_time(X509_get0_notBefore(cert.get())) <= 0);
    CHECK(X509_cmp_current_time(X509_get0_notAfter(cert.get())) > 0);
  }
}

TEST_CASE("the private key matches the certificate", "[certificate]") {
  const auto& pair = sample_pair();
  const X509Ptr cert = parse_certificate(pair.certificate_pem);
  const PkeyPtr key = parse_private_key(pair.private_key_pem);
  REQUIRE(cert);
  REQUIRE(key);
  CHECK(X509_check_private_key(cert.get(), key.get()) == 1);

  const auto other = self_signed_certificate("other", {"other"}, {});
  const PkeyPtr other_key = parse_private_key(other.private_key_pem);
  REQUIRE(other_key);
  CHECK(X509_check_private_key(cert.get(), other_key.get()) != 1);
}

TEST_CASE("each certificate has its own key and serial", "[certificate]") {
  const auto a = self_signed_certificate("svc", {"svc"}, {});
  const auto b = self_signed_certificate("svc", {"svc"}, {});
  CHECK(a.private_key_pem != b.private_key_pem);
  const X509Ptr ca = parse_certificate(a.certificate_pem);
  const X509Ptr cb = parse_certificate(b.certificate_pem);
  REQUIRE(ca);
  REQUIRE(cb);
  CHECK(ASN1_INTEGER_cmp(X509_get0_serialNumber(ca.get()), X509_get0_serialNumber(cb.get())) != 0);
  CHECK(certificate_sha256_fingerprint(a.certificate_pem) != certificate_sha256_fingerprint(b.certificate_pem));
}

TEST_CASE("subjectAltName is omitted when there are no names", "[certificate]") {
  const auto pair = self_signed_certificate("bare", {}, {});
  const X509Ptr cert = parse_certificate(pair.certificate_pem);
  REQUIRE(cert);
  CHECK(X509_get_ext_by_NID(cert.get(), NID_subject_alt_name, -1) < 0);
}

TEST_CASE("certificate_sha256_fingerprint is the colon-separated SHA-256 of the DER", "[certificate]") {
  const auto& pair = sample_pair();
  const std::string fingerprint = certificate_sha256_fingerprint(pair.certificate_pem);
  CHECK(std::regex_match(fingerprint, std::regex("([0-9A-F]{2}:){31}[0-9A-F]{2}")));

  const X509Ptr cert = parse_certificate(pair.certificate_pem);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  REQUIRE(X509_digest(cert.get(), EVP_sha256(), digest, &size) == 1);
  char first[3];
  std::snprintf(first, sizeof first, "%02X", digest[0]);
  CHECK(fingerprint.substr(0, 2) == first);
}

TEST_CASE("the openssl CLI parses the certificate and agrees on the fingerprint", "[certificate][cli]") {
  if (!have_openssl_cli()) {
    WARN("openssl CLI not installed; skipped");
    return;
  }
  const auto& pair = sample_pair();
  const TempFile file(pair.certificate_pem);

  const auto text = run("openssl x509 -noout -text -in " + file.path());
  REQUIRE(text);
  CHECK_THAT(*text,
             Catch::Contains("DNS:manager.local, DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1"));
  CHECK_THAT(*text, Catch::Contains("CA:FALSE"));
  CHECK_THAT(*text, Catch::Contains("Digital Signature"));
  CHECK_THAT(*text, Catch::Contains("TLS Web Server Authentication"));
  CHECK_THAT(*text, Catch::Contains("ecdsa-with-SHA256"));
  CHECK_THAT(*text, Catch::Contains("NIST CURVE: P-256"));

  const auto line = run("openssl x509 -noout -fingerprint -sha256 -in " + file.path());
  REQUIRE(line);
  const std::string printed = line->substr(line->find('=') + 1, 95);
  CHECK(printed == certificate_sha256_fingerprint(pair.certificate_pem));
}

TEST_CASE("self_signed_certificate rejects bad arguments", "[certificate]") {
  CHECK_THROWS_AS(self_signed_certificate("x", {}, {"999.1.1.1"}), std::invalid_argument);
  CHECK_THROWS_AS(self_signed_certificate("x", {}, {"localhost"}), std::invalid_argument);
  CHECK_THROWS_AS(self_signed_certificate("x", {"bad name"}, {}), std::invalid_argument);
  CHECK_THROWS_AS(self_signed_certificate("x", {""}, {}), std::invalid_argument);
  CHECK_THROWS_AS(self_signed_certificate("x", {"a,DNS:evil"}, {}), std::invalid_argument);
  CHECK_THROWS_AS(self_signed_certificate("", {}, {}), std::invalid_argument);
  CHECK_THROWS_AS(self_signed_certificate(std::string(65, 'c'), {}, {}), std::invalid_argument);
  CHECK_THROWS_AS(self_signed_certificate("x", {}, {}, 0), std::invalid_argument);
  CHECK_THROWS_AS(certificate_sha256_fingerprint("not a certificate"), std::invalid_argument);
}
