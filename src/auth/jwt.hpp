#pragma once
// JSON Web Tokens (RFC 7519) in JWS compact form (RFC 7515), verified before a connection is
// accepted. Signatures: HS256/384/512 (HMAC), RS256 (RSA PKCS#1 v1.5), ES256 (ECDSA P-256).
//
// Algorithm confusion is impossible by construction: every key carries the one family it
// verifies (an HMAC secret verifies only HS*, an RSA public key only RS256, a P-256 key only
// ES256), and the token's "alg" must name that family; "none" and anything unknown are refused.
// A token's "kid" picks the key when it has one; without a kid every key of the right family is
// tried.
//
// Threading: a key_set is immutable once built and may be shared by every loop thread;
// verify() is thread-safe and allocates only the decoded parts and the claims.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <tl/expected.hpp>
#include <vector>

#include "relay/json.hpp"

struct evp_pkey_st;  // OpenSSL's EVP_PKEY

namespace relay::auth {

enum class jwt_errc : uint8_t {
  malformed = 1,    // not three base64url parts, or a part that is not JSON as it must be
  unsupported_alg,  // "none", an unknown alg, or none of the keys verifies this alg
  unknown_key,      // the kid names no key
  bad_signature,
  expired,        // now >= exp (+ leeway)
  not_yet_valid,  // now < nbf (- leeway)
  bad_issuer,
  bad_audience,
  missing_exp,  // required by the options and absent
};

// Short static text, e.g. "token expired" (for CONNECT_ERROR reasons and logs).
std::string_view describe(jwt_errc e) noexcept;
// The enumerator's name, e.g. "expired" (a machine-readable code for clients).
std::string_view code_name(jwt_errc e) noexcept;

enum class key_family : uint8_t { hmac, rsa, ec_p256 };

struct verify_options;

class key_set {
 public:
  key_set();
  ~key_set();
  key_set(key_set&&) noexcept;
  key_set& operator=(key_set&&) noexcept;

  // A shared secret for HS256/384/512. Start-up time: throws std::invalid_argument if empty.
  void add_hmac_secret(std::string secret, std::string kid = {});
  // A public key in PEM (SubjectPublicKeyInfo, "BEGIN PUBLIC KEY"): RSA (at least 2048 bits)
  // for RS256 or EC P-256 for ES256. Start-up time: throws std::invalid_argument otherwise.
  void add_public_key_pem(std::string_view pem, std::string kid = {});
  // A JWK Set (RFC 7517) as JSON: {"keys": [...]}, each key with its "kid". RSA ("n", "e") and
  // EC P-256 ("crv", "x", "y") public keys and "oct" secrets ("k") are taken; keys marked for
  // another use than "sig", or with an "alg" this verifier lacks (RS512, PS256, EdDSA, ...), are
  // skipped. Start-up time: throws std::invalid_argument on malformed JSON or keys, or when no
  // key is usable. Returns how many keys were added.
  size_t add_jwks(std::string_view jwks_json);

  size_t size() const noexcept;

 private:
  friend tl::expected<json::value, jwt_errc> verify(std::string_view token, const key_set& keys,
                                                    const verify_options& options, int64_t now_s);
  struct key;
  void add_public_key(::evp_pkey_st* pkey, std::string kid);  // takes ownership
  std::vector<std::unique_ptr<key>> keys_;
};

struct verify_options {
  std::string issuer;                 // required "iss" when not empty
  std::vector<std::string> audience;  // when not empty, "aud" must name one of these
  int64_t leeway_s = 30;              // clock skew allowed for exp and nbf
  bool require_exp = true;            // a token without "exp" never expires: refuse it
};

// The system clock in Unix seconds: what verify() takes as `now_s`.
int64_t unix_now_s() noexcept;

// The token's claims (its payload object) when it verifies at `now_s` (Unix seconds).
tl::expected<json::value, jwt_errc> verify(std::string_view token, const key_set& keys,
                                           const verify_options& options, int64_t now_s);

// A token with these claims signed with an HMAC secret; alg is "HS256", "HS384" or "HS512"
// (anything else throws std::invalid_argument: start-up / tooling use, as `relay token`).
std::string sign_hmac(const json::value& claims, std::string_view secret,
                      std::string_view alg = "HS256", std::string_view kid = {});

// Unpadded base64url (RFC 7515 §2), strict: only the URL-safe alphabet, no '=', zero unused
// bits, so each byte string has one accepted encoding. False (out unspecified) if invalid.
bool base64url_decode(std::string_view in, std::string& out);
void base64url_encode(std::string_view in, std::string& out);

}  // namespace relay::auth
