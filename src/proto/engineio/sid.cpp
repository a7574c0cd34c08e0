#include "proto/engineio/sid.hpp"

#include <array>
#include <cstdint>
#include <string_view>

#include "proto/engineio/base64.hpp"
#include "proto/engineio/random_pool.hpp"

namespace relay::engineio {

static_assert(base64_encoded_size(kSidRawBytes) == kSidSize, "15 bytes need no padding");

std::string generate_sid() {
  std::array<uint8_t, kSidRawBytes> raw;
  secure_random(raw);
  std::string sid(kSidSize, '\0');
  base64_encode(std::string_view(reinterpret_cast<const char*>(raw.data()), raw.size()), sid.data(),
                base64_alphabet::url);
  return sid;
}

}  // namespace relay::engineio
