// JWK Sets (RFC 7517, RFC 7518 section 6) into a key_set: the key material is rebuilt with
// OpenSSL's EVP_PKEY_fromdata, then held to the same family rules as a PEM key.
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <memory>
#include <stdexcept>
#include <string>

#include "auth/jwt.hpp"

namespace relay::auth {
namespace {

struct param_build_deleter {
  void operator()(OSSL_PARAM_BLD* b) const { OSSL_PARAM_BLD_free(b); }
};
struct params_deleter {
  void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
};
struct bignum_deleter {
  void operator()(BIGNUM* n) const { BN_free(n); }
};
struct pkey_ctx_deleter {
  void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};
using bignum_ptr = std::unique_ptr<BIGNUM, bignum_deleter>;

std::string member(const json::value& jwk, std::string_view name, std::string_view kid) {
  const json::value* v = jwk.find(name);
  if (v == nullptr || !v->is_string()) {
    throw std::invalid_argument("JWK '" + std::string(kid) + "': no \"" + std::string(name) + "\"");
  }
  return v->as_string();
}

std::string decoded_member(const json::value& jwk, std::string_view name, std::string_view kid) {
  std::string bytes;
  if (!base64url_decode(member(jwk, name, kid), bytes) || bytes.empty()) {
    throw std::invalid_argument("JWK '" + std::string(kid) + "': \"" + std::string(name) +
                                "\" is not base64url");
  }
  return bytes;
}

bignum_ptr to_bignum(const std::string& big_endian) {
  return bignum_ptr(BN_bin2bn(reinterpret_cast<const unsigned char*>(big_endian.data()),
                              static_cast<int>(big_endian.size()), nullptr));
}

// Builds a public EVP_PKEY of `type` ("RSA", "EC") from what `fill` pushes.
template <class Fill>
EVP_PKEY* public_key_from(const char* type, std::string_view kid, Fill fill) {
  std::unique_ptr<OSSL_PARAM_BLD, param_build_deleter> build(OSSL_PARAM_BLD_new());
  if (!build || !fill(build.get())) throw std::bad_alloc();
  std::unique_ptr<OSSL_PARAM, params_deleter> params(OSSL_PARAM_BLD_to_param(build.get()));
  std::unique_ptr<EVP_PKEY_CTX, pkey_ctx_deleter> ctx(
      EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* pkey = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &pkey, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    throw std::invalid_argument("JWK '" + std::string(kid) + "': not a valid " + type + " key");
  }
  // An EC point off the curve would make every signature check fail obscurely: refuse it here.
  std::unique_ptr<EVP_PKEY_CTX, pkey_ctx_deleter> check(EVP_PKEY_CTX_new(pkey, nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1) {
    EVP_PKEY_free(pkey);
    throw std::invalid_argument("JWK '" + std::string(kid) + "': not a valid " + type + " key");
  }
  return pkey;
}

EVP_PKEY* rsa_key(const json::value& jwk, std::string_view kid) {
  const bignum_ptr n = to_bignum(decoded_member(jwk, "n", kid));
  const bignum_ptr e = to_bignum(decoded_member(jwk, "e", kid));
  return public_key_from("RSA", kid, [&](OSSL_PARAM_BLD* b) {
    return n && e && OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_N, n.get()) == 1 &&
           OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_E, e.get()) == 1;
  });
}

EVP_PKEY* ec_p256_key(const json::value& jwk, std::string_view kid) {
  if (member(jwk, "crv", kid) != "P-256") {
    throw std::invalid_argument("JWK '" + std::string(kid) + "': curve other than P-256");
  }
  const std::string x = decoded_member(jwk, "x", kid);
  const std::string y = decoded_member(jwk, "y", kid);
  if (x.size() != 32 || y.size() != 32) {
    throw std::invalid_argument("JWK '" + std::string(kid) + "': P-256 coordinates are 32 bytes");
  }
  const std::string point = "\x04" + x + y;  // uncompressed SEC1 point
  return public_key_from("EC", kid, [&](OSSL_PARAM_BLD* b) {
    return OSSL_PARAM_BLD_push_utf8_string(b, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) == 1 &&
           OSSL_PARAM_BLD_push_octet_string(b, OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                            point.size()) == 1;
  });
}

// The algorithms this verifier has for a key type; a JWK's "alg" outside them is skipped.
bool alg_supported(std::string_view kty, std::string_view alg) {
  if (kty == "RSA") return alg == "RS256";
  if (kty == "EC") return alg == "ES256";
  return alg == "HS256" || alg == "HS384" || alg == "HS512";
}

}  // namespace

size_t key_set::add_jwks(std::string_view jwks_json) {
  const auto doc = json::parse(jwks_json);
  const json::value* keys = doc ? doc->find("keys") : nullptr;
  if (keys == nullptr || !keys->is_array()) {
    throw std::invalid_argument("JWKS: not JSON of the form {\"keys\": [...]}");
  }
  size_t added = 0;
  for (const json::value& jwk : keys->as_array()) {
    if (!jwk.is_object()) throw std::invalid_argument("JWKS: a key that is not an object");
    const json::value* kid_value = jwk.find("kid");
    const std::string kid =
        kid_value != nullptr && kid_value->is_string() ? kid_value->as_string() : std::string();
    const std::string kty = member(jwk, "kty", kid);
    if (kty != "RSA" && kty != "EC" && kty != "oct") continue;  // OKP (EdDSA), ...
    if (const json::value* use = jwk.find("use"); use != nullptr && *use != json::value("sig")) {
      continue;  // an encryption key
    }
    if (const json::value* alg = jwk.find("alg");
        alg != nullptr && (!alg->is_string() || !alg_supported(kty, alg->as_string()))) {
      continue;
    }
    if (kty == "oct") {
      add_hmac_secret(decoded_member(jwk, "k", kid), kid);
    } else {
      add_public_key(kty == "RSA" ? rsa_key(jwk, kid) : ec_p256_key(jwk, kid), kid);
    }
    ++added;
  }
  if (added == 0) throw std::invalid_argument("JWKS: no key usable for RS256, ES256 or HS*");
  return added;
}

}  // namespace relay::auth
