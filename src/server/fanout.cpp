#include "server/fanout.hpp"

#include <memory>

#include "ws/frame_header.hpp"

namespace relay::server {
namespace {

struct deliver_task final : core::task {
  deliver_task(fanout* f, size_t i, core::buffer_ref b, void (*fn)(fanout*, size_t,
                                                                  core::shared_buffer*))
      : owner(f), index(i), frames(std::move(b)), run_fn(fn) {}
  void run() override { run_fn(owner, index, frames.get()); }
  fanout* owner;
  size_t index;
  core::buffer_ref frames;
  void (*run_fn)(fanout*, size_t, core::shared_buffer*);
};

}  // namespace

fanout::fanout(std::vector<core::event_loop*> loops)
    : loops_(std::move(loops)), parts_(loops_.size()) {}

// The subscriber's slot index is kept in user_data so unsubscribe is O(1) (swap-remove).
void fanout::subscribe(size_t loop_index, ws::websocket& sub) {
  auto& subs = parts_[loop_index].subs;
  sub.user_data = reinterpret_cast<void*>(subs.size());
  subs.push_back(&sub);
}

void fanout::unsubscribe(size_t loop_index, ws::websocket& sub) {
  auto& subs = parts_[loop_index].subs;
  const size_t i = reinterpret_cast<size_t>(sub.user_data);
  if (i >= subs.size() || subs[i] != &sub) return;
  subs[i] = subs.back();
  subs[i]->user_data = reinterpret_cast<void*>(i);
  subs.pop_back();
}

void fanout::publish(size_t loop_index, std::span<const uint8_t> payload, ws::opcode op) {
  auto& pending = parts_[loop_index].pending;
  const size_t header = ws::frame_header_size(payload.size(), false);
  const size_t at = pending.size();
  pending.resize(at + header + payload.size());
  ws::write_frame_header(pending.data() + at, op, payload.size());
  std::copy(payload.begin(), payload.end(), pending.begin() + static_cast<ptrdiff_t>(at + header));
}

void fanout::flush_pass(size_t loop_index) {
  auto& pending = parts_[loop_index].pending;
  if (pending.empty()) return;
  core::buffer_ref frames(core::shared_buffer::copy_of(pending));
  pending.clear();
  if (pending.capacity() > (4u << 20)) std::vector<uint8_t>().swap(pending);
  for (size_t i = 0; i < loops_.size(); ++i) {
    if (i == loop_index) continue;
    loops_[i]->post(std::make_unique<deliver_task>(
        this, i, frames, [](fanout* f, size_t idx, core::shared_buffer* b) { f->deliver(idx, b); }));
  }
  deliver(loop_index, frames.get());
}

void fanout::deliver(size_t loop_index, core::shared_buffer* frames) {
  auto& subs = parts_[loop_index].subs;
  // A send may close a slow subscriber, whose on_close unsubscribes (swap-remove) during the
  // walk: iterate by index from the back so moved elements have already been visited.
  for (size_t i = subs.size(); i-- > 0;) {
    if (i < subs.size()) subs[i]->send_frames(frames, 0, frames->size());
  }
}

}  // namespace relay::server
