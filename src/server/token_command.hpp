#pragma once
// `relay token`: prints a development JWT signed with an HMAC secret; `relay token verify`
// checks one (signature, expiry, issuer, audience) and prints its claims. With --config (or
// $RELAY_CONFIG and RELAY_ variables) the secret, keys, issuer and audience are the server's.
namespace relay::server {

int token_main(int argc, char** argv);

}  // namespace relay::server
