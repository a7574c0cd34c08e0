#include "auth/jwt.hpp"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <memory>
#include <string>

namespace relay::auth {
namespace {

// RFC 7515 Appendix A.1: the HS256 example, verified with its published key.
constexpr std::string_view kRfcToken =
    "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9."
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
    "."
    "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
constexpr std::string_view kRfcKey =
    "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow";
constexpr int64_t kRfcExp = 1300819380;

key_set rfc_keys() {
  std::string secret;
  EXPECT_TRUE(base64url_decode(kRfcKey, secret));
  key_set keys;
  keys.add_hmac_secret(secret);
  return keys;
}

TEST(Jwt, Rfc7515ExampleVerifies) {
  const auto claims = verify(kRfcToken, rfc_keys(), {}, kRfcExp - 100);
  ASSERT_TRUE(claims.has_value()) << describe(claims.error());
  EXPECT_EQ(claims->find("iss")->as_string(), "joe");
  EXPECT_TRUE(claims->find("http://example.com/is_root")->as_bool());
}

TEST(Jwt, TimeIssuerAndAudience) {
  const key_set keys = rfc_keys();
  EXPECT_EQ(verify(kRfcToken, keys, {}, kRfcExp + 30).error(), jwt_errc::expired);  // leeway 30
  EXPECT_TRUE(verify(kRfcToken, keys, {}, kRfcExp + 29).has_value());
  verify_options strict;
  strict.leeway_s = 0;
  EXPECT_EQ(verify(kRfcToken, keys, strict, kRfcExp).error(), jwt_errc::expired);
  verify_options iss;
  iss.issuer = "joe";
  EXPECT_TRUE(verify(kRfcToken, keys, iss, kRfcExp - 1).has_value());
  iss.issuer = "jane";
  EXPECT_EQ(verify(kRfcToken, keys, iss, kRfcExp - 1).error(), jwt_errc::bad_issuer);
  verify_options aud;
  aud.audience = {"relay"};
  EXPECT_EQ(verify(kRfcToken, keys, aud, kRfcExp - 1).error(), jwt_errc::bad_audience);
}

TEST(Jwt, TamperingAndMalformedTokens) {
  const key_set keys = rfc_keys();
  std::string t(kRfcToken);
  t[t.size() - 1] = t[t.size() - 1] == 'k' ? 'l' : 'k';
  EXPECT_EQ(verify(t, keys, {}, kRfcExp - 1).error(), jwt_errc::malformed);  // bits left over
  t = std::string(kRfcToken);
  t[t.size() - 5] = t[t.size() - 5] == 'A' ? 'B' : 'A';
  EXPECT_EQ(verify(t, keys, {}, kRfcExp - 1).error(), jwt_errc::bad_signature);
  t = std::string(kRfcToken);
  t[50] = t[50] == 'A' ? 'B' : 'A';  // in the payload
  EXPECT_FALSE(verify(t, keys, {}, kRfcExp - 1).has_value());
  for (std::string_view bad : {"", ".", "..", "a.b", "a.b.c.d", "e30.e30.", "!!.e30.AA"}) {
    EXPECT_EQ(verify(bad, keys, {}, 0).error(), jwt_errc::malformed) << bad;
  }
}

std::string b64(std::string_view s) {
  std::string out;
  base64url_encode(s, out);
  return out;
}

TEST(Jwt, NoneAndUnknownAlgorithmsAreRefused) {
  const key_set keys = rfc_keys();
  const std::string payload = b64(R"({"sub":"u","exp":99999999999})");
  for (std::string_view alg : {"none", "None", "HS1", "PS256", "RS512"}) {
    const std::string t =
        b64(std::string(R"({"alg":")") + std::string(alg) + "\"}") + "." + payload + ".";
    EXPECT_EQ(verify(t, keys, {}, 0).error(), jwt_errc::unsupported_alg) << alg;
  }
  const std::string crit = b64(R"({"alg":"HS256","crit":["exp"]})") + "." + payload + ".AA";
  EXPECT_EQ(verify(crit, keys, {}, 0).error(), jwt_errc::malformed);
}

TEST(Jwt, Base64urlIsStrict) {
  std::string out;
  EXPECT_TRUE(base64url_decode("", out));
  EXPECT_TRUE(base64url_decode("YQ", out));  // "a"
  EXPECT_EQ(out, "a");
  out.clear();
  EXPECT_FALSE(base64url_decode("YR", out));    // unused bits set
  EXPECT_FALSE(base64url_decode("YQ==", out));  // padding
  EXPECT_FALSE(base64url_decode("Y+/A", out));  // standard alphabet
  EXPECT_FALSE(base64url_decode("Y", out));     // impossible length
  for (size_t n = 0; n < 40; ++n) {
    std::string bytes;
    for (size_t i = 0; i < n; ++i) bytes.push_back(static_cast<char>(i * 37 + n));
    std::string enc, dec;
    base64url_encode(bytes, enc);
    ASSERT_TRUE(base64url_decode(enc, dec)) << n;
    EXPECT_EQ(dec, bytes);
  }
}

// Keys made here and tokens signed with OpenSSL directly: the verifier checks what another
// implementation signed, including ES256's r||s form.
struct pkey_deleter {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using pkey_ptr = std::unique_ptr<EVP_PKEY, pkey_deleter>;

std::string public_pem(EVP_PKEY* k) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, k);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(n));
  BIO_free(bio);
  return pem;
}

// An EC key's DER signature is given in JWS's r||s form; an RSA one as it is.
std::string sign(EVP_PKEY* k, std::string_view data) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  size_t len = 0;
  EXPECT_EQ(EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, k), 1);
  EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(data.data()),
                 data.size());
  std::string sig(len, '\0');
  EXPECT_EQ(EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                           reinterpret_cast<const unsigned char*>(data.data()), data.size()),
            1);
  sig.resize(len);
  EVP_MD_CTX_free(ctx);
  if (EVP_PKEY_get_base_id(k) != EVP_PKEY_EC) return sig;
  const unsigned char* p = reinterpret_cast<const unsigned char*>(sig.data());
  ECDSA_SIG* s = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size()));
  std::string raw(64, '\0');
  BN_bn2binpad(ECDSA_SIG_get0_r(s), reinterpret_cast<unsigned char*>(raw.data()), 32);
  BN_bn2binpad(ECDSA_SIG_get0_s(s), reinterpret_cast<unsigned char*>(raw.data()) + 32, 32);
  ECDSA_SIG_free(s);
  return raw;
}

std::string token(EVP_PKEY* k, std::string_view alg, std::string_view claims,
                  std::string_view kid = {}) {
  std::string header = std::string(R"({"alg":")") + std::string(alg) + "\"";
  if (!kid.empty()) header += std::string(R"(,"kid":")") + std::string(kid) + "\"";
  header += "}";
  const std::string signed_part = b64(header) + "." + b64(claims);
  return signed_part + "." + b64(sign(k, signed_part));
}

TEST(Jwt, Rs256AndEs256AndNoAlgorithmConfusion) {
  pkey_ptr rsa(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048}));
  pkey_ptr ec(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  ASSERT_TRUE(rsa && ec);
  key_set keys;
  keys.add_public_key_pem(public_pem(rsa.get()), "r1");
  keys.add_public_key_pem(public_pem(ec.get()), "e1");
  const std::string claims = R"({"sub":"alice","exp":2000000000})";

  auto rs = verify(token(rsa.get(), "RS256", claims), keys, {}, 1'900'000'000);
  ASSERT_TRUE(rs.has_value()) << describe(rs.error());
  EXPECT_EQ(rs->find("sub")->as_string(), "alice");
  auto es = verify(token(ec.get(), "ES256", claims, "e1"), keys, {}, 1'900'000'000);
  ASSERT_TRUE(es.has_value()) << describe(es.error());

  // An RSA signature presented as ES256, and the other way: the family decides.
  EXPECT_FALSE(verify(token(rsa.get(), "ES256", claims), keys, {}, 0).has_value());
  // kid naming a key of another family, or no key at all.
  EXPECT_EQ(verify(token(ec.get(), "ES256", claims, "r1"), keys, {}, 0).error(),
            jwt_errc::unsupported_alg);
  EXPECT_EQ(verify(token(ec.get(), "ES256", claims, "zz"), keys, {}, 0).error(),
            jwt_errc::unknown_key);
  // The classic confusion: HS256 "signed" with the RSA public key's PEM as the secret.
  const std::string pem = public_pem(rsa.get());
  const std::string signed_part = b64(R"({"alg":"HS256"})") + "." + b64(claims);
  unsigned char mac[64];
  size_t mac_len = 0;
  EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, pem.data(), pem.size(),
            reinterpret_cast<const unsigned char*>(signed_part.data()), signed_part.size(), mac,
            sizeof mac, &mac_len);
  const std::string forged =
      signed_part + "." + b64(std::string_view(reinterpret_cast<char*>(mac), mac_len));
  EXPECT_EQ(verify(forged, keys, {}, 0).error(), jwt_errc::unsupported_alg);

  // A token without exp, refused unless allowed.
  const std::string forever = token(rsa.get(), "RS256", R"({"sub":"x"})");
  EXPECT_EQ(verify(forever, keys, {}, 0).error(), jwt_errc::missing_exp);
  verify_options lax;
  lax.require_exp = false;
  EXPECT_TRUE(verify(forever, keys, lax, 0).has_value());
  EXPECT_EQ(verify(token(rsa.get(), "RS256", R"({"exp":"soon"})"), keys, {}, 0).error(),
            jwt_errc::malformed);
  EXPECT_EQ(verify(token(rsa.get(), "RS256", R"({"exp":2000000000,"nbf":1950000000})"), keys, {},
                   1'900'000'000)
                .error(),
            jwt_errc::not_yet_valid);
}

TEST(Jwt, KeysAreCheckedWhenAdded) {
  key_set keys;
  EXPECT_THROW(keys.add_hmac_secret(""), std::invalid_argument);
  EXPECT_THROW(keys.add_public_key_pem("not a pem"), std::invalid_argument);
  pkey_ptr small(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{1024}));
  EXPECT_THROW(keys.add_public_key_pem(public_pem(small.get())), std::invalid_argument);
  pkey_ptr p384(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384"));
  EXPECT_THROW(keys.add_public_key_pem(public_pem(p384.get())), std::invalid_argument);
  EXPECT_EQ(keys.size(), 0u);
}

}  // namespace
}  // namespace relay::auth
