#pragma once
// What the JSON-carrying fuzz targets (json_parse, socketio_packet) share: a trap that names the
// broken invariant, and value equality as JavaScript sees it (every number a double; an
// integral double above 2^53 prints as digits that read back as an exact int64).
#include <cstdio>

#include "relay/json.hpp"

namespace relay_fuzz {

inline void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant failed: %s\n", what);
    __builtin_trap();
  }
}

inline bool js_equal(const relay::json::value& a, const relay::json::value& b) {
  using relay::json::value_type;
  if (a.is_number() && b.is_number()) {
    if (a.is_int() && b.is_int()) return a.as_int() == b.as_int();
    return a.as_double() == b.as_double();
  }
  if (a.type() != b.type()) return false;
  switch (a.type()) {
    case value_type::array: {
      if (a.size() != b.size()) return false;
      for (size_t i = 0; i < a.size(); ++i) {
        if (!js_equal(a[i], b[i])) return false;
      }
      return true;
    }
    case value_type::object: {
      if (a.size() != b.size()) return false;
      for (size_t i = 0; i < a.size(); ++i) {
        const auto& ma = a.as_object()[i];
        const auto& mb = b.as_object()[i];
        if (ma.first != mb.first || !js_equal(ma.second, mb.second)) return false;
      }
      return true;
    }
    default:
      return a == b;
  }
}

}  // namespace relay_fuzz
