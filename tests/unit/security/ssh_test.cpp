// security/ssh.hpp: wire encoding, keys, certificates and KRLs, read back by OpenSSL and by
// OpenSSH's ssh-keygen.
#include "security/ssh.hpp"

#include <openssl/evp.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "security/encoding.hpp"

using namespace security;

namespace {

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    std::string templ = (std::filesystem::temp_directory_path() / "ssh_test_XXXXXX").string();
    path = mkdtemp(templ.data());
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string file(const std::string& name, const std::string& content) const {
    auto p = path / name;
    std::ofstream(p, std::ios::binary) << content;
    return p.string();
  }
};

// stdout of a shell command and its exit status.
std::pair<std::string, int> run(const std::string& command) {
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen((command + " 2>&1").c_str(), "r"), pclose);
  std::string out;
  char buf[4096];
  while (std::size_t n = fread(buf, 1, sizeof buf, pipe.get())) out.append(buf, n);
  int status = pclose(pipe.release());
  return {out, WEXITSTATUS(status)};
}

std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p);
  return {std::istreambuf_iterator<char>(in), {}};
}

ssh::PublicKey keygen_key(const TempDir& dir, const std::string& type, const std::string& bits) {
  auto key = (dir.path / ("user_" + type + bits)).string();
  auto [out, rc] = run("ssh-keygen -q -N '' -t " + type + (bits.empty() ? "" : " -b " + bits) + " -C me@example -f " + key);
  REQUIRE(rc == 0);
  auto parsed = ssh::parse_public_key(read_text(key + ".pub"));
  REQUIRE(parsed);
  return *parsed;
}

ssh::CertificateFields fields_for(ssh::PublicKey key) {
  ssh::CertificateFields f;
  f.key = std::move(key);
  f.serial = 123456;
  f.key_id = "alice@example.com";
  f.principals = {"root", "shardlyn"};
  f.valid_after = 1700000000;
  f.valid_before = 1700028800;
  f.extensions = ssh::default_user_extensions();
  return f;
}

}  // namespace

TEST_CASE("ssh wire types encode big-endian and read back") {
  auto bytes = ssh::Writer().byte(7).u32(0x01020304).u64(0x0102030405060708ULL).string("ab").bytes();
  CHECK(hex_encode(bytes) == "07010203040102030405060708000000026162");
  ssh::Reader r(std::string_view(bytes).substr(1));
  CHECK(r.u32() == 0x01020304u);
  CHECK(r.u64() == 0x0102030405060708ULL);
  CHECK(r.string() == "ab");
  CHECK(r.empty());
  CHECK_FALSE(r.u32());
  ssh::Reader short_string(ssh::Writer().u32(5).raw("abc").bytes());
  CHECK_FALSE(short_string.string());
}

TEST_CASE("public keys of ssh-keygen parse, with their fingerprints") {
  TempDir dir;
  for (auto [type, bits] : {std::pair{"ed25519", ""}, {"ecdsa", "256"}, {"ecdsa", "384"}, {"rsa", "2048"}}) {
    auto key = keygen_key(dir, type, bits);
    CHECK(key.comment == "me@example");
    auto path = (dir.path / (std::string("user_") + type + bits)).string() + ".pub";
    auto [out, rc] = run("ssh-keygen -l -E sha256 -f " + path);
    CHECK(out.find(ssh::fingerprint_sha256(key.blob)) != std::string::npos);
    CHECK(ssh::format_public_key(key.type, key.blob, key.comment) + "\n" == read_text(path));
  }
}

TEST_CASE("malformed public keys are refused") {
  auto ed = ssh::generate_ed25519();
  auto blob = ssh::ed25519_blob(ed.public_key);
  CHECK(ssh::parse_public_key("ssh-ed25519 " + base64_encode(blob)));
  CHECK_FALSE(ssh::parse_public_key("ssh-rsa " + base64_encode(blob)));       // the blob names another type
  CHECK_FALSE(ssh::parse_public_key("ssh-ed25519 " + base64_encode(blob + "x")));  // trailing bytes
  CHECK_FALSE(ssh::parse_public_key("ssh-ed25519 " + base64_encode(blob.substr(0, blob.size() - 1))));
  CHECK_FALSE(ssh::parse_public_key("ssh-ed25519 !!!!"));
  CHECK_FALSE(ssh::parse_public_key("ssh-ed25519"));
  auto dsa = ssh::Writer().string("ssh-dss").string("x").bytes();
  CHECK_FALSE(ssh::parse_public_key("ssh-dss " + base64_encode(dsa)));
  auto small_rsa = ssh::Writer().string("ssh-rsa").string("\x01").string(std::string(128, 'n')).bytes();
  CHECK_FALSE(ssh::parse_public_key("ssh-rsa " + base64_encode(small_rsa)));
}

TEST_CASE("ed25519 signatures verify with OpenSSL") {
  auto ca = ssh::generate_ed25519();
  CHECK(ssh::ed25519_public_key(ca.seed) == ca.public_key);
  auto sig = ssh::ed25519_sign(ca.seed, "message");
  std::unique_ptr<EVP_PKEY, void (*)(EVP_PKEY*)> pub(
      EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr,
                                  reinterpret_cast<const unsigned char*>(ca.public_key.data()), 32),
      EVP_PKEY_free);
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  REQUIRE(EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, pub.get()) == 1);
  CHECK(EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                         reinterpret_cast<const unsigned char*>("message"), 7) == 1);
  CHECK_THROWS_AS(ssh::ed25519_public_key("short"), std::invalid_argument);
}

TEST_CASE("ssh-keygen -L reads a signed user certificate of each key type") {
  TempDir dir;
  auto ca = ssh::generate_ed25519();
  for (auto [type, bits] : {std::pair{"ed25519", ""}, {"ecdsa", "256"}, {"rsa", "2048"}}) {
    auto f = fields_for(keygen_key(dir, type, bits));
    f.critical_options = {{"source-address", "127.0.0.1/32"}};
    auto cert = dir.file("cert.pub", ssh::certificate_line(ssh::sign_certificate(f, ca.seed), "alice") + "\n");
    auto [out, rc] = run("TZ=UTC ssh-keygen -L -f " + cert);
    REQUIRE(rc == 0);
    CHECK(out.find("-cert-v01@openssh.com user certificate") != std::string::npos);
    CHECK(out.find("Signing CA: ED25519 " + ssh::fingerprint_sha256(ssh::ed25519_blob(ca.public_key))) !=
          std::string::npos);
    CHECK(out.find("Key ID: \"alice@example.com\"") != std::string::npos);
    CHECK(out.find("Serial: 123456") != std::string::npos);
    CHECK(out.find("Valid: from 2023-11-14T22:13:20 to 2023-11-15T06:13:20") != std::string::npos);
    CHECK(out.find("                root\n                shardlyn\n") != std::string::npos);
    CHECK(out.find("source-address 127.0.0.1/32") != std::string::npos);
    CHECK(out.find("permit-X11-forwarding\n                permit-agent-forwarding") != std::string::npos);
  }
}

TEST_CASE("certificates with a zero serial or an empty window are refused") {
  auto ca = ssh::generate_ed25519();
  auto f = fields_for(*ssh::parse_public_key("ssh-ed25519 " + base64_encode(ssh::ed25519_blob(ca.public_key))));
  f.serial = 0;
  CHECK_THROWS_AS(ssh::sign_certificate(f, ca.seed), std::invalid_argument);
  f.serial = 1;
  f.valid_before = f.valid_after;
  CHECK_THROWS_AS(ssh::sign_certificate(f, ca.seed), std::invalid_argument);
}

TEST_CASE("ssh-keygen -Q finds revoked serials in the KRL and passes the others") {
  TempDir dir;
  auto ca = ssh::generate_ed25519();
  auto other_ca = ssh::generate_ed25519();
  auto f = fields_for(keygen_key(dir, "ed25519", ""));
  auto revoked = dir.file("revoked.pub", ssh::certificate_line(ssh::sign_certificate(f, ca.seed)) + "\n");
  f.serial = 99;
  auto kept = dir.file("kept.pub", ssh::certificate_line(ssh::sign_certificate(f, ca.seed)) + "\n");
  f.serial = 123456;
  auto other = dir.file("other.pub", ssh::certificate_line(ssh::sign_certificate(f, other_ca.seed)) + "\n");
  auto krl = ssh::key_revocation_list(
      3, 1700000000,
      {{ssh::ed25519_blob(ca.public_key), {123456, 7, 0, 7}}, {ssh::ed25519_blob(other_ca.public_key), {}}},
      "test");
  auto path = dir.file("krl", krl);
  CHECK(run("ssh-keygen -Q -f " + path + " " + revoked).second != 0);
  CHECK(run("ssh-keygen -Q -f " + path + " " + kept).second == 0);
  CHECK(run("ssh-keygen -Q -f " + path + " " + other).second == 0);
  auto [listing, rc] = run("ssh-keygen -Q -l -f " + path);
  CHECK(rc == 0);
  CHECK(listing.find("# KRL version 3") != std::string::npos);
  CHECK(listing.find("serial: 7\nserial: 123456") != std::string::npos);
}
