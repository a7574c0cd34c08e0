#pragma once
// The /pub -> /sub demo channel: every message a publisher sends reaches every subscriber on
// every loop. It is the simplest form of the broker's hot path (DESIGN.md): frames published
// during one loop pass are encoded once into one shared buffer, handed to each local
// subscriber by reference and posted once to every other loop, so a subscriber costs one
// write per pass however many messages arrived.
//
// Threading: one fanout per server; part(i) is touched only by loop i's thread.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "core/event_loop.hpp"
#include "core/shared_buffer.hpp"
#include "ws/opcode.hpp"
#include "ws/websocket.hpp"

namespace relay::server {

class fanout {
 public:
  explicit fanout(std::vector<core::event_loop*> loops);

  // Loop-thread calls; loop_index identifies the caller's loop.
  void subscribe(size_t loop_index, ws::websocket& sub);
  void unsubscribe(size_t loop_index, ws::websocket& sub);
  void publish(size_t loop_index, std::span<const uint8_t> payload, ws::opcode op);
  // End-of-pass hook of loop_index: ships what was published during the pass.
  void flush_pass(size_t loop_index);

  size_t subscribers(size_t loop_index) const { return parts_[loop_index].subs.size(); }

 private:
  struct alignas(64) part {
    std::vector<ws::websocket*> subs;
    std::vector<uint8_t> pending;  // frames published on this loop during the current pass
  };
  void deliver(size_t loop_index, core::shared_buffer* frames);

  std::vector<core::event_loop*> loops_;
  std::vector<part> parts_;
};

}  // namespace relay::server
