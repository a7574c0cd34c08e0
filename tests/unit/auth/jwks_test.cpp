#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "auth/jwt.hpp"

namespace relay::auth {
namespace {

std::string b64(std::string_view bytes) {
  std::string out;
  base64url_encode(bytes, out);
  return out;
}

void expect_refused(const std::string& jwks, const std::string& why) {
  key_set keys;
  try {
    keys.add_jwks(jwks);
    FAIL() << "accepted: " << jwks;
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find(why), std::string::npos) << e.what();
  }
}

TEST(Jwks, OctKeysVerifyHmacTokensByKid) {
  key_set keys;
  const std::string jwks = R"({"keys":[{"kty":"oct","kid":"a","k":")" + b64("secret a") +
                           R"("},{"kty":"oct","kid":"b","k":")" + b64("secret b") + R"("}]})";
  EXPECT_EQ(keys.add_jwks(jwks), 2u);
  const int64_t now = unix_now_s();
  const json::value claims(json::object{{"sub", "u"}, {"exp", now + 60}});
  // sign_hmac writes no kid: every HMAC key is tried, and "secret b" verifies.
  EXPECT_TRUE(verify(sign_hmac(claims, "secret b", "HS256"), keys, {}, now));
  EXPECT_EQ(verify(sign_hmac(claims, "secret c", "HS256"), keys, {}, now).error(),
            jwt_errc::bad_signature);
}

TEST(Jwks, MalformedSetsAndKeysAreRefusedWithAReason) {
  expect_refused("not json", "{\"keys\"");
  expect_refused(R"({"keys":{}})", "{\"keys\"");
  expect_refused(R"({"keys":[]})", "no key usable");
  expect_refused(R"({"keys":[{"kty":"OKP","crv":"Ed25519","x":"AAAA"}]})", "no key usable");
  expect_refused(R"({"keys":[{"kty":"RSA","kid":"r","alg":"RS512","n":"AQAB","e":"AQAB"}]})",
                 "no key usable");
  expect_refused(R"({"keys":[{"kty":"RSA","kid":"r","e":"AQAB"}]})", "JWK 'r': no \"n\"");
  expect_refused(R"({"keys":[{"kty":"EC","kid":"e","crv":"P-384","x":"AA","y":"AA"}]})",
                 "curve other than P-256");
  expect_refused(R"({"keys":[{"kty":"EC","kid":"e","crv":"P-256","x":"AA","y":"AA"}]})",
                 "32 bytes");
  // 32-byte coordinates that are not a point on P-256.
  const std::string one(32, '\x01');
  expect_refused(R"({"keys":[{"kty":"EC","kid":"e","crv":"P-256","x":")" + b64(one) + R"(","y":")" +
                     b64(one) + R"("}]})",
                 "not a valid EC key");
  // A 512-bit modulus that is no RSA key (refused by the public check, or for its size).
  expect_refused(R"({"keys":[{"kty":"RSA","kid":"r","n":")" + b64(std::string(64, '\xc3')) +
                     R"(","e":"AQAB"}]})",
                 "RSA key");
}

}  // namespace
}  // namespace relay::auth
