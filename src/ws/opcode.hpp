#pragma once
#include <cstdint>

namespace relay::ws {

// RFC 6455 §5.2.
enum class opcode : uint8_t {
  continuation = 0x0,
  text = 0x1,
  binary = 0x2,
  close = 0x8,
  ping = 0x9,
  pong = 0xA,
};

inline constexpr bool is_control(opcode op) noexcept { return (static_cast<uint8_t>(op) & 0x8) != 0; }

enum class final_frame : uint8_t { no, yes };
enum class compressed : uint8_t { no, yes };  // RSV1 with permessage-deflate (RFC 7692 §6)

}  // namespace relay::ws
