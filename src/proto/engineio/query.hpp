#pragma once
// The query of an Engine.IO request, e.g. "EIO=4&transport=polling&sid=lv_VI97HAXpY6yYWAAAC&
// t=OyK3b2c" (v4-current.md, "Query parameters"). Sans-IO and allocation-free: the result holds
// the decoded sid inline. Whether the sid names a live session, and whether the method and
// Upgrade header fit, is for the server to check.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "proto/engineio/handshake_error.hpp"

namespace relay::engineio {

enum class transport_kind : uint8_t { polling, websocket };

// Longer sids are no session's (ours have 20 characters), so they are not kept.
inline constexpr size_t kMaxQuerySidSize = 64;

struct handshake_query {
  bool valid = false;
  // When !valid: what Node would answer, and a short static text for logs.
  handshake_error error = handshake_error::bad_request;
  std::string_view reason;

  uint32_t eio = 0;  // the EIO value, 0 if absent or not a number; 4 whenever valid
  transport_kind transport = transport_kind::polling;
  bool has_sid = false;  // false: a handshake, which starts a session
  bool b64 = false;  // b64 present and non-empty: binary as base64 (engine.io-client forceBase64)

  std::string_view sid() const noexcept { return {sid_, sid_size_}; }

  // The percent-decoded sid; use sid().
  char sid_[kMaxQuerySidSize] = {};
  uint8_t sid_size_ = 0;
};

// Parses the query component (a leading '?' is skipped) as application/x-www-form-urlencoded,
// as the WHATWG URLSearchParams that Node uses does: pairs split on '&', name and value on the
// first '=', '+' is a space, "%XX" is a byte and a '%' not followed by two hex digits stays a
// '%'. Names are case-sensitive; unknown names (t, and whatever the client added) are ignored.
// Invalid, checked in this order:
//   EIO, transport, sid or b64 given twice                   bad_request (Node keeps the last)
//   transport absent or not "polling" / "websocket"          unknown_transport
//   EIO absent or not "4"                                    unsupported_protocol_version
//   sid given but empty                                      bad_request (Node would start a
//                                                            new session)
//   sid longer than kMaxQuerySidSize bytes                   unknown_sid
handshake_query parse_query(std::string_view query) noexcept;

}  // namespace relay::engineio
