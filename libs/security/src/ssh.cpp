#include "security/ssh.hpp"

#include <algorithm>
#include <iterator>
#include <stdexcept>

#include "openssl_handles.hpp"
#include "security/digest.hpp"
#include "security/encoding.hpp"
#include "security/random.hpp"

namespace security::ssh {

Writer& Writer::byte(std::uint8_t v) {
  out_.push_back(static_cast<char>(v));
  return *this;
}

Writer& Writer::u32(std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out_.push_back(static_cast<char>((v >> shift) & 0xff));
  return *this;
}

Writer& Writer::u64(std::uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out_.push_back(static_cast<char>((v >> shift) & 0xff));
  return *this;
}

Writer& Writer::string(std::string_view v) {
  u32(static_cast<std::uint32_t>(v.size()));
  out_.append(v);
  return *this;
}

Writer& Writer::raw(std::string_view v) {
  out_.append(v);
  return *this;
}

std::optional<std::uint32_t> Reader::u32() {
  if (in_.size() < 4) return std::nullopt;
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(in_[i]);
  in_.remove_prefix(4);
  return v;
}

std::optional<std::uint64_t> Reader::u64() {
  if (in_.size() < 8) return std::nullopt;
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(in_[i]);
  in_.remove_prefix(8);
  return v;
}

std::optional<std::string_view> Reader::string() {
  auto n = u32();
  if (!n || in_.size() < *n) return std::nullopt;
  auto out = in_.substr(0, *n);
  in_.remove_prefix(*n);
  return out;
}

namespace {

constexpr std::string_view kCertSuffix = "-cert-v01@openssh.com";

// The blob after its type string holds exactly the fields of `type`.
bool valid_key_fields(std::string_view type, Reader& r) {
  if (type == "ssh-ed25519") {
    auto pk = r.string();
    return pk && pk->size() == 32 && r.empty();
  }
  if (type == "ssh-rsa") {
    auto e = r.string();
    auto n = r.string();
    if (!e || !n || !r.empty() || e->empty()) return false;
    std::size_t bytes = n->size() - (!n->empty() && (*n)[0] == '\0' ? 1 : 0);
    return bytes >= 256;
  }
  static constexpr std::pair<std::string_view, std::size_t> curves[] = {
      {"nistp256", 65}, {"nistp384", 97}, {"nistp521", 133}};
  for (const auto& [curve, point] : curves) {
    if (type != "ecdsa-sha2-" + std::string(curve)) continue;
    auto name = r.string();
    auto q = r.string();
    return name && *name == curve && q && q->size() == point && (*q)[0] == '\x04' && r.empty();
  }
  return false;
}

detail::PkeyPtr ed25519_private(std::string_view seed) {
  if (seed.size() != 32) throw std::invalid_argument("an ed25519 seed has 32 bytes");
  detail::PkeyPtr key(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, detail::bytes(seed), seed.size()));
  if (!key) detail::throw_openssl_error("EVP_PKEY_new_raw_private_key");
  return key;
}

// Packed strings: each item as string(item).
std::string packed(const std::vector<std::string>& items) {
  Writer w;
  for (const auto& item : items) w.string(item);
  return w.bytes();
}

std::string packed_options(std::vector<std::pair<std::string, std::string>> options) {
  std::sort(options.begin(), options.end());
  Writer w;
  for (const auto& [name, value] : options) w.string(name).string(Writer().string(value).bytes());
  return w.bytes();
}

std::string packed_extensions(std::vector<std::string> names) {
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  Writer w;
  for (const auto& name : names) w.string(name).string("");
  return w.bytes();
}

}  // namespace

std::optional<PublicKey> parse_public_key(std::string_view line) {
  auto first = line.find(' ');
  if (first == std::string_view::npos) return std::nullopt;
  std::string_view type = line.substr(0, first);
  std::string_view rest = line.substr(first + 1);
  auto second = rest.find(' ');
  std::string_view encoded = rest.substr(0, second);
  std::string_view comment = second == std::string_view::npos ? std::string_view{} : rest.substr(second + 1);
  auto blob = base64_decode(encoded);
  if (!blob) return std::nullopt;
  Reader r(*blob);
  auto inner = r.string();
  if (!inner || *inner != type || !valid_key_fields(type, r)) return std::nullopt;
  while (!comment.empty() && (comment.back() == '\n' || comment.back() == '\r')) comment.remove_suffix(1);
  return PublicKey{std::string(type), std::move(*blob), std::string(comment)};
}

std::string format_public_key(std::string_view type, std::string_view blob, std::string_view comment) {
  std::string out = std::string(type) + " " + base64_encode(blob);
  if (!comment.empty()) out += " " + std::string(comment);
  return out;
}

std::string fingerprint_sha256(std::string_view blob) {
  std::string b64 = base64_encode(sha256(blob));
  while (!b64.empty() && b64.back() == '=') b64.pop_back();
  return "SHA256:" + b64;
}

Ed25519Key generate_ed25519() {
  std::string seed = random_bytes(32);
  return {seed, ed25519_public_key(seed)};
}

std::string ed25519_public_key(std::string_view seed) {
  auto key = ed25519_private(seed);
  std::string out(32, '\0');
  std::size_t len = out.size();
  if (EVP_PKEY_get_raw_public_key(key.get(), detail::bytes(out), &len) != 1 || len != 32)
    detail::throw_openssl_error("EVP_PKEY_get_raw_public_key");
  return out;
}

std::string ed25519_blob(std::string_view public_key) {
  return Writer().string("ssh-ed25519").string(public_key).bytes();
}

std::string ed25519_sign(std::string_view seed, std::string_view data) {
  auto key = ed25519_private(seed);
  detail::MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) != 1)
    detail::throw_openssl_error("EVP_DigestSignInit");
  std::string sig(64, '\0');
  std::size_t len = sig.size();
  if (EVP_DigestSign(ctx.get(), detail::bytes(sig), &len, detail::bytes(data), data.size()) != 1 || len != 64)
    detail::throw_openssl_error("EVP_DigestSign");
  return sig;
}

std::vector<std::string> default_user_extensions() {
  return {"permit-X11-forwarding", "permit-agent-forwarding", "permit-port-forwarding", "permit-pty",
          "permit-user-rc"};
}

std::string sign_certificate(const CertificateFields& f, std::string_view ca_seed) {
  if (f.serial == 0) throw std::invalid_argument("a certificate serial is not zero");
  if (f.valid_after >= f.valid_before) throw std::invalid_argument("valid_after precedes valid_before");
  // The key's fields (its blob after the type string) follow the nonce in the certificate.
  std::string_view fields = std::string_view(f.key.blob).substr(4 + f.key.type.size());
  Writer w;
  w.string(f.key.type + std::string(kCertSuffix)).string(random_bytes(32)).raw(fields);
  w.u64(f.serial).u32(f.type).string(f.key_id).string(packed(f.principals));
  w.u64(f.valid_after).u64(f.valid_before);
  w.string(packed_options(f.critical_options)).string(packed_extensions(f.extensions)).string("");
  w.string(ed25519_blob(ed25519_public_key(ca_seed)));
  std::string signature = Writer().string("ssh-ed25519").string(ed25519_sign(ca_seed, w.bytes())).bytes();
  w.string(signature);
  return w.bytes();
}

std::string certificate_line(std::string_view certificate_blob, std::string_view comment) {
  Reader r(certificate_blob);
  auto type = r.string();
  if (!type) throw std::invalid_argument("not a certificate blob");
  return format_public_key(*type, certificate_blob, comment);
}

std::string key_revocation_list(std::uint64_t krl_version, std::uint64_t generated_date,
                                const std::vector<RevokedSerials>& revoked, std::string_view comment) {
  constexpr std::uint64_t kMagic = 0x5353484b524c0a00ULL;  // "SSHKRL\n\0"
  constexpr std::uint8_t kSectionCertificates = 1;
  constexpr std::uint8_t kCertSerialList = 0x20;
  Writer w;
  w.u64(kMagic).u32(1).u64(krl_version).u64(generated_date).u64(0).string("").string(comment);
  for (const auto& ca : revoked) {
    std::vector<std::uint64_t> serials;
    std::copy_if(ca.serials.begin(), ca.serials.end(), std::back_inserter(serials), [](auto s) { return s != 0; });
    std::sort(serials.begin(), serials.end());
    serials.erase(std::unique(serials.begin(), serials.end()), serials.end());
    if (serials.empty()) continue;
    Writer list;
    for (auto s : serials) list.u64(s);
    Writer section;
    section.string(ca.ca_blob).string("").byte(kCertSerialList).string(list.bytes());
    w.byte(kSectionCertificates).string(section.bytes());
  }
  return w.bytes();
}

}  // namespace security::ssh
