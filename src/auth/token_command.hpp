#pragma once
// `relay token`: prints a development JWT signed with an HMAC secret; `relay token verify`
// checks one (signature, expiry, issuer, audience) and prints its claims.
namespace relay::auth {

int token_main(int argc, char** argv);

}  // namespace relay::auth
