#include "auth/jwt.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <array>
#include <chrono>
#include <cmath>
#include <optional>
#include <stdexcept>
#include <string>

namespace relay::auth {

// --- base64url ------------------------------------------------------------------------------

namespace {

constexpr std::string_view kUrlAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

constexpr std::array<int8_t, 256> kUrlValues = [] {
  std::array<int8_t, 256> t{};
  for (auto& v : t) v = -1;
  for (size_t i = 0; i < kUrlAlphabet.size(); ++i) {
    t[static_cast<uint8_t>(kUrlAlphabet[i])] = static_cast<int8_t>(i);
  }
  return t;
}();

}  // namespace

bool base64url_decode(std::string_view in, std::string& out) {
  if (in.size() % 4 == 1) return false;  // no byte count encodes to this length
  out.reserve(out.size() + in.size() / 4 * 3 + 2);
  uint32_t acc = 0;
  int bits = 0;
  for (const char c : in) {
    const int8_t v = kUrlValues[static_cast<uint8_t>(c)];
    if (v < 0) return false;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  // The bits left over must be zero: otherwise two encodings would decode alike.
  return (acc & ((1u << bits) - 1)) == 0;
}

void base64url_encode(std::string_view in, std::string& out) {
  out.reserve(out.size() + (in.size() * 4 + 2) / 3);
  uint32_t acc = 0;
  int bits = 0;
  for (const char c : in) {
    acc = (acc << 8) | static_cast<uint8_t>(c);
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kUrlAlphabet[(acc >> bits) & 0x3f]);
    }
  }
  if (bits > 0) out.push_back(kUrlAlphabet[(acc << (6 - bits)) & 0x3f]);
}

// --- keys -----------------------------------------------------------------------------------

struct key_set::key {
  key_family family;
  std::string kid;
  std::string secret;        // hmac
  EVP_PKEY* pkey = nullptr;  // rsa, ec_p256
  ~key() { EVP_PKEY_free(pkey); }
};

key_set::key_set() = default;
key_set::~key_set() = default;
key_set::key_set(key_set&&) noexcept = default;
key_set& key_set::operator=(key_set&&) noexcept = default;
size_t key_set::size() const noexcept { return keys_.size(); }

void key_set::add_hmac_secret(std::string secret, std::string kid) {
  if (secret.empty()) throw std::invalid_argument("JWT secret is empty");
  auto k = std::make_unique<key>();
  k->family = key_family::hmac;
  k->kid = std::move(kid);
  k->secret = std::move(secret);
  keys_.push_back(std::move(k));
}

void key_set::add_public_key_pem(std::string_view pem, std::string kid) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (bio == nullptr) throw std::bad_alloc();
  EVP_PKEY* pkey = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (pkey == nullptr) throw std::invalid_argument("not a PEM public key (BEGIN PUBLIC KEY)");
  add_public_key(pkey, std::move(kid));
}

void key_set::add_public_key(EVP_PKEY* pkey, std::string kid) {
  auto k = std::make_unique<key>();
  k->pkey = pkey;
  k->kid = std::move(kid);
  if (EVP_PKEY_get_base_id(pkey) == EVP_PKEY_RSA) {
    if (EVP_PKEY_get_bits(pkey) < 2048) throw std::invalid_argument("RSA key under 2048 bits");
    k->family = key_family::rsa;
  } else if (EVP_PKEY_get_base_id(pkey) == EVP_PKEY_EC) {
    char group[64] = {};
    size_t len = 0;
    if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                       &len) != 1 ||
        std::string_view(group, len) != "prime256v1") {
      throw std::invalid_argument("EC key not on P-256 (ES256 only)");
    }
    k->family = key_family::ec_p256;
  } else {
    throw std::invalid_argument("public key neither RSA nor EC");
  }
  keys_.push_back(std::move(k));
}

// --- verification ---------------------------------------------------------------------------

std::string_view describe(jwt_errc e) noexcept {
  switch (e) {
    case jwt_errc::malformed:
      return "malformed token";
    case jwt_errc::unsupported_alg:
      return "token algorithm not accepted";
    case jwt_errc::unknown_key:
      return "token key unknown";
    case jwt_errc::bad_signature:
      return "invalid token signature";
    case jwt_errc::expired:
      return "token expired";
    case jwt_errc::not_yet_valid:
      return "token not yet valid";
    case jwt_errc::bad_issuer:
      return "token issuer not accepted";
    case jwt_errc::bad_audience:
      return "token audience not accepted";
    case jwt_errc::missing_exp:
      return "token without expiry";
  }
  return "invalid token";
}

std::string_view code_name(jwt_errc e) noexcept {
  switch (e) {
    case jwt_errc::malformed:
      return "malformed";
    case jwt_errc::unsupported_alg:
      return "unsupported_alg";
    case jwt_errc::unknown_key:
      return "unknown_key";
    case jwt_errc::bad_signature:
      return "bad_signature";
    case jwt_errc::expired:
      return "expired";
    case jwt_errc::not_yet_valid:
      return "not_yet_valid";
    case jwt_errc::bad_issuer:
      return "bad_issuer";
    case jwt_errc::bad_audience:
      return "bad_audience";
    case jwt_errc::missing_exp:
      return "missing_exp";
  }
  return "invalid";
}

namespace {

// A token larger than this is refused before any decoding (they are a few hundred bytes).
constexpr size_t kMaxTokenSize = 16 * 1024;

struct alg_info {
  key_family family;
  const EVP_MD* (*digest)();
};

std::optional<alg_info> alg_from(std::string_view alg) {
  if (alg == "HS256") return alg_info{key_family::hmac, EVP_sha256};
  if (alg == "HS384") return alg_info{key_family::hmac, EVP_sha384};
  if (alg == "HS512") return alg_info{key_family::hmac, EVP_sha512};
  if (alg == "RS256") return alg_info{key_family::rsa, EVP_sha256};
  if (alg == "ES256") return alg_info{key_family::ec_p256, EVP_sha256};
  return std::nullopt;  // "none" included
}

bool hmac_matches(const std::string& secret, const EVP_MD* md, std::string_view signed_part,
                  std::string_view signature) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  size_t mac_len = 0;
  if (EVP_Q_mac(nullptr, "HMAC", nullptr, EVP_MD_get0_name(md), nullptr, secret.data(),
                secret.size(), reinterpret_cast<const unsigned char*>(signed_part.data()),
                signed_part.size(), mac, sizeof mac, &mac_len) == nullptr) {
    return false;
  }
  return mac_len == signature.size() && CRYPTO_memcmp(mac, signature.data(), mac_len) == 0;
}

// JWS ES256 signatures are r || s, 32 bytes each; OpenSSL verifies DER.
bool es256_to_der(std::string_view raw, std::string& der) {
  if (raw.size() != 64) return false;
  ECDSA_SIG* sig = ECDSA_SIG_new();
  if (sig == nullptr) return false;
  BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()), 32, nullptr);
  BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()) + 32, 32, nullptr);
  if (r == nullptr || s == nullptr || ECDSA_SIG_set0(sig, r, s) != 1) {
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(sig);
    return false;
  }
  unsigned char* out = nullptr;
  const int len = i2d_ECDSA_SIG(sig, &out);
  ECDSA_SIG_free(sig);
  if (len <= 0) return false;
  der.assign(reinterpret_cast<const char*>(out), static_cast<size_t>(len));
  OPENSSL_free(out);
  return true;
}

bool public_key_verifies(EVP_PKEY* pkey, const EVP_MD* md, std::string_view signed_part,
                         std::string_view signature) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (ctx == nullptr) return false;
  const bool ok =
      EVP_DigestVerifyInit(ctx, nullptr, md, nullptr, pkey) == 1 &&
      EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(signature.data()),
                       signature.size(), reinterpret_cast<const unsigned char*>(signed_part.data()),
                       signed_part.size()) == 1;
  EVP_MD_CTX_free(ctx);
  return ok;
}

// A NumericDate claim (RFC 7519 §2: seconds, possibly fractional); nullopt if absent, and
// malformed (set) if present but not a finite number.
std::optional<double> numeric_date(const json::value& claims, std::string_view name,
                                   bool& malformed) {
  const json::value* v = claims.find(name);
  if (v == nullptr) return std::nullopt;
  if (!v->is_number() || !std::isfinite(v->as_double())) {
    malformed = true;
    return std::nullopt;
  }
  return v->as_double();
}

bool audience_ok(const json::value& claims, const std::vector<std::string>& accepted) {
  if (accepted.empty()) return true;
  const json::value* aud = claims.find("aud");
  if (aud == nullptr) return false;
  auto one = [&](const json::value& v) {
    if (!v.is_string()) return false;
    for (const std::string& a : accepted) {
      if (v.as_string() == a) return true;
    }
    return false;
  };
  if (aud->is_string()) return one(*aud);
  if (!aud->is_array()) return false;
  for (const json::value& v : aud->as_array()) {
    if (one(v)) return true;
  }
  return false;
}

}  // namespace

tl::expected<json::value, jwt_errc> verify(std::string_view token, const key_set& keys,
                                           const verify_options& options, int64_t now_s) {
  using tl::unexpected;
  if (token.size() > kMaxTokenSize) return unexpected(jwt_errc::malformed);
  const size_t dot1 = token.find('.');
  const size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return unexpected(jwt_errc::malformed);
  }
  std::string header_text, payload_text, signature;
  if (!base64url_decode(token.substr(0, dot1), header_text) ||
      !base64url_decode(token.substr(dot1 + 1, dot2 - dot1 - 1), payload_text) ||
      !base64url_decode(token.substr(dot2 + 1), signature)) {
    return unexpected(jwt_errc::malformed);
  }
  json::parse_options limits;
  limits.max_depth = 16;
  auto header = json::parse(header_text, limits);
  if (!header || !header->is_object()) return unexpected(jwt_errc::malformed);
  // Extensions that must be understood: this verifier understands none.
  if (header->find("crit") != nullptr) return unexpected(jwt_errc::malformed);
  const json::value* alg_name = header->find("alg");
  if (alg_name == nullptr || !alg_name->is_string()) return unexpected(jwt_errc::malformed);
  const std::optional<alg_info> alg = alg_from(alg_name->as_string());
  if (!alg) return unexpected(jwt_errc::unsupported_alg);
  const json::value* kid = header->find("kid");
  if (kid != nullptr && !kid->is_string()) return unexpected(jwt_errc::malformed);

  // The signature is checked before the payload is even parsed: nothing an unauthenticated
  // party wrote gets further than the header.
  const std::string_view signed_part = token.substr(0, dot2);
  std::string der;
  if (alg->family == key_family::ec_p256 && !es256_to_der(signature, der)) {
    return unexpected(jwt_errc::bad_signature);
  }
  bool family_seen = false, kid_seen = false, verified = false;
  for (const auto& k : keys.keys_) {
    if (kid != nullptr && !k->kid.empty() && k->kid != kid->as_string()) continue;
    if (kid != nullptr && k->kid == kid->as_string()) kid_seen = true;
    if (k->family != alg->family) continue;
    family_seen = true;
    const EVP_MD* md = alg->digest();
    verified = k->family == key_family::hmac
                   ? hmac_matches(k->secret, md, signed_part, signature)
                   : public_key_verifies(k->pkey, md, signed_part,
                                         k->family == key_family::ec_p256 ? der : signature);
    if (verified) break;
  }
  if (!verified) {
    if (!family_seen) {
      return unexpected(kid != nullptr && !kid_seen ? jwt_errc::unknown_key
                                                    : jwt_errc::unsupported_alg);
    }
    return unexpected(jwt_errc::bad_signature);
  }

  auto claims = json::parse(payload_text, limits);
  if (!claims || !claims->is_object()) return unexpected(jwt_errc::malformed);
  bool malformed = false;
  const std::optional<double> exp = numeric_date(*claims, "exp", malformed);
  const std::optional<double> nbf = numeric_date(*claims, "nbf", malformed);
  if (malformed) return unexpected(jwt_errc::malformed);
  const auto now = static_cast<double>(now_s);
  const auto leeway = static_cast<double>(options.leeway_s);
  if (!exp && options.require_exp) return unexpected(jwt_errc::missing_exp);
  if (exp && now >= *exp + leeway) return unexpected(jwt_errc::expired);
  if (nbf && now < *nbf - leeway) return unexpected(jwt_errc::not_yet_valid);
  if (!options.issuer.empty()) {
    const json::value* iss = claims->find("iss");
    if (iss == nullptr || !iss->is_string() || iss->as_string() != options.issuer) {
      return unexpected(jwt_errc::bad_issuer);
    }
  }
  if (!audience_ok(*claims, options.audience)) return unexpected(jwt_errc::bad_audience);
  return std::move(*claims);
}

int64_t unix_now_s() noexcept {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string sign_hmac(const json::value& claims, std::string_view secret, std::string_view alg,
                      std::string_view kid) {
  const std::optional<alg_info> a = alg_from(alg);
  if (!a || a->family != key_family::hmac) throw std::invalid_argument("not an HMAC algorithm");
  if (secret.empty()) throw std::invalid_argument("JWT secret is empty");
  json::object header{{"alg", std::string(alg)}, {"typ", "JWT"}};
  if (!kid.empty()) header.emplace_back("kid", std::string(kid));
  std::string token;
  base64url_encode(json::to_string(json::value(std::move(header))), token);
  token += '.';
  base64url_encode(json::to_string(claims), token);
  unsigned char mac[EVP_MAX_MD_SIZE];
  size_t mac_len = 0;
  if (EVP_Q_mac(nullptr, "HMAC", nullptr, EVP_MD_get0_name(a->digest()), nullptr, secret.data(),
                secret.size(), reinterpret_cast<const unsigned char*>(token.data()), token.size(),
                mac, sizeof mac, &mac_len) == nullptr) {
    throw std::runtime_error("HMAC failed");
  }
  token += '.';
  base64url_encode(std::string_view(reinterpret_cast<const char*>(mac), mac_len), token);
  return token;
}

}  // namespace relay::auth
