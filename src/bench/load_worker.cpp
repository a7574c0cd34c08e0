#include "bench/load_worker.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <string_view>

#include "bench/client_frames.hpp"
#include "bench/epoll_client.hpp"
#include "bench/client_handshake.hpp"
#include "bench/out_buffer.hpp"
#include "bench/payload_stamp.hpp"
#include "bench/sio_packets.hpp"
#include "bench/sio_room_packets.hpp"

namespace relay::bench {
namespace {

constexpr size_t kReadBufferSize = 256 * 1024;
constexpr int kMaxEvents = 512;
constexpr uint64_t kMs = 1'000'000;
constexpr uint64_t kScanIntervalNs = 100 * kMs;
// A probe that hears nothing for this long while messages are in flight means the server
// dropped some (e.g. its slow-consumer policy): re-prime the publisher rather than stall.
constexpr uint64_t kPacingStallNs = 2000 * kMs;
constexpr uint64_t kHandshakeRetryNs = 10 * kMs;  // after a failed connect, per slot
constexpr uint64_t kMaxCloseWaitNs = 3000 * kMs;
// A latency above an hour can only come from a corrupted stamp that still decoded.
constexpr uint64_t kMaxSaneLatencyNs = 3600ull * 1000 * kMs;
constexpr uint32_t kJoinAckId = 1;  // publish: the ack id of a subscriber's join

enum class conn_kind : uint8_t { echo, subscriber, probe, publisher, handshake, idle };
// joining: Socket.IO only, the WebSocket is open and the Engine.IO OPEN packet and the
// answer to our CONNECT are awaited (part of set-up, under the same --timeout as the upgrade).
enum class conn_state : uint8_t { unused, connecting, upgrading, joining, open, closing };

uint64_t event_data(uint32_t index, uint32_t generation) noexcept {
  return (uint64_t{generation} << 32) | index;
}

}  // namespace

struct load_worker::connection {
  int fd = -1;
  uint32_t index = 0;
  // Bumped whenever fd is closed: an event queued for the previous socket is then ignored.
  uint32_t generation = 0;
  conn_kind kind = conn_kind::echo;
  conn_state state = conn_state::unused;
  bool counted_open = false;
  bool out_armed = false;  // EPOLLOUT in the interest set (after a partial write)
  bool flush_queued = false;
  bool close_sent = false;
  bool sio_connect_sent = false;  // joining: CONNECT sent, its answer awaited
  bool join_sent = false;         // publish, joining: join sent, its ack awaited
  bool settled = false;           // set-up: opened or failed, counted once
  bool setup_pending = false;     // set-up: counted in in_progress_
  uint32_t in_flight = 0;
  uint64_t started_ns = 0;
  uint64_t deadline_ns = 0;
  const bench_url* url = nullptr;
  char accept[kAcceptSize];
  std::string head;  // an upgrade response split across reads (rare)
  out_buffer out;
  server_frame_reader reader;
  raw_message_reader raw;
};

// Adapts the readers' callbacks to the worker, with the receive time of the bytes fed.
struct load_worker::frame_sink {
  load_worker& w;
  connection& c;
  uint64_t now;
  bool on_message(const message_view& m) { return w.on_message(c, m, now); }
  bool on_control(ws::opcode op, const uint8_t* payload, size_t length) {
    return w.on_control(c, op, payload, length, now);
  }
};

load_worker::load_worker(const run_config& config, run_control& control, worker_share share)
    : config_(config), control_(control), share_(share) {
  message_op_ = config_.binary || config_.raw ? ws::opcode::binary : ws::opcode::text;
  // Printable filler: valid UTF-8 for text frames, recognisable in a packet capture.
  payload_.resize(config_.size);
  for (size_t i = 0; i < payload_.size(); ++i)
    payload_[i] = static_cast<uint8_t>("0123456789abcdefghijklmnopqrstuvwxyz"[i % 36]);
  if (config_.protocol == wire_protocol::socketio) {
    // The payload (stamp + padding) is the string argument of the event, JSON-safe as it is.
    sio_event_template echo = make_sio_event("echo", payload_);
    sio_event_template pub = make_sio_event("pub", payload_);
    message_ = std::move(echo.bytes);
    stamp_at_ = echo.data_at;
    pub_message_ = std::move(pub.bytes);
    pub_stamp_at_ = pub.data_at;
    reader_keep_ = kSioHead;
    if (config_.kind == scenario::publish) {
      room_connect_ = sio_namespace_connect(config_.nsp);
      room_join_ = sio_join_request(config_.nsp, config_.room, kJoinAckId);
      reader_keep_ = kMaxKeptHead;  // the namespace and the keys before "data" come first
      // Subscribers keep listening after the window: publishes sent near its end are still
      // on their way (their deliveries are counted by send time).
      linger_ns_ = static_cast<uint64_t>(config_.drain_s * 1e9);
    }
  } else {
    message_ = payload_;
    pub_message_ = payload_;
    reader_keep_ = kStampSize;
  }
  if (config_.size < kStampSize) stamp_at_ = pub_stamp_at_ = kNoStamp;

  uint32_t total = share_.count + (share_.publisher ? 2 : 0);
  conns_.resize(total);
  conn_kind kind = conn_kind::echo;
  const bench_url* url = &config_.url;
  switch (config_.kind) {
    case scenario::echo:
      kind = conn_kind::echo;
      break;
    case scenario::broadcast:
      kind = conn_kind::subscriber;
      url = &config_.sub_url;
      break;
    case scenario::handshake:
      kind = conn_kind::handshake;
      break;
    case scenario::idle:
      kind = conn_kind::idle;
      break;
    case scenario::publish:
      kind = conn_kind::subscriber;  // the publisher is http_publisher, on its own thread
      break;
  }
  for (uint32_t i = 0; i < total; ++i) {
    connection& c = conns_[i];
    c.index = i;
    c.kind = kind;
    c.url = url;
    c.raw = raw_message_reader(config_.size);
  }
  if (share_.publisher) {
    probe_ = &conns_[total - 2];
    probe_->kind = conn_kind::probe;
    publisher_ = &conns_[total - 1];
    publisher_->kind = conn_kind::publisher;
    publisher_->url = &config_.pub_url;
  }
  if (kind != conn_kind::handshake) {
    for (uint32_t i = 0; i < share_.count; ++i) connect_queue_.push_back(i);
    unsettled_ = total;
    plain_unsettled_ = share_.count;
  }
  const uint32_t threads = std::max<uint32_t>(config_.threads, 1);
  connect_limit_ = std::max<uint32_t>(config_.connect_concurrency / threads, 1);
}

load_worker::~load_worker() {
  for (connection& c : conns_)
    if (c.fd >= 0) ::close(c.fd);
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
}

void load_worker::run() noexcept {
  epoll_fd_ = open_epoll_or_give_up(control_, live_);
  if (epoll_fd_ < 0) return;
  read_buffer_ = std::make_unique_for_overwrite<uint8_t[]>(kReadBufferSize);
  epoll_event events[kMaxEvents];
  while (true) {
    uint64_t now = monotonic_ns();
    step(now);
    if (phase_ == phase::done) break;
    const int n = epoll_wait(epoll_fd_, events, kMaxEvents, wait_timeout_ms(now));
    for (int i = 0; i < n; ++i) handle_event(events[i].data.u64, events[i].events);
    publish_live();
  }
  for (connection& c : conns_) drop(c);
  publish_live();
  live_.ready.store(true);
  live_.done.store(true, std::memory_order_release);
}

void load_worker::publish_live() noexcept {
  live_.messages.store(total_messages_, std::memory_order_relaxed);
  live_.errors.store(stats_.errors(), std::memory_order_relaxed);
  live_.open.store(open_, std::memory_order_relaxed);
}

int load_worker::wait_timeout_ms(uint64_t now) const noexcept {
  switch (phase_) {
    case phase::connecting:
      return 10;
    case phase::ready:
      return 2;  // how fast a worker notices start_ns
    case phase::running: {
      const uint64_t until = std::min(end_ + linger_ns_, next_scan_);
      return until > now ? static_cast<int>((until - now + kMs - 1) / kMs) : 0;
    }
    case phase::closing:
      return 10;
    case phase::done:
      return 0;
  }
  return 10;
}

void load_worker::step(uint64_t now) {
  const bool stop = control_.stop.load(std::memory_order_relaxed);
  if (now >= next_scan_) {
    next_scan_ = now + kScanIntervalNs;
    scan_deadlines(now);
  }
  switch (phase_) {
    case phase::connecting:
      if (stop) {
        begin_closing(now);
        break;
      }
      while (in_progress_ < connect_limit_ && connect_next_ < connect_queue_.size())
        start_connect(conns_[connect_queue_[connect_next_++]], now);
      if (probe_ && !probe_started_ && plain_unsettled_ == 0 &&
          control_.subscribers_settled.load(std::memory_order_acquire) >=
              share_.plain_subscribers_total) {
        probe_started_ = true;
        start_connect(*probe_, now);
      }
      if (unsettled_ == 0) {
        phase_ = phase::ready;
        live_.ready.store(true, std::memory_order_release);
      }
      break;
    case phase::ready: {
      if (stop) {
        begin_closing(now);
        break;
      }
      const uint64_t start = control_.start_ns.load(std::memory_order_acquire);
      if (start == 0) break;
      start_ = start;
      if (config_.kind == scenario::idle) {
        measure_from_ = start;
        end_ = start + static_cast<uint64_t>(config_.hold_s * 1e9);
      } else {
        measure_from_ = start + static_cast<uint64_t>(config_.warmup_s * 1e9);
        end_ = measure_from_ + static_cast<uint64_t>(config_.duration_s * 1e9);
      }
      phase_ = phase::running;
      begin_traffic(now);
      break;
    }
    case phase::running:
      if (stop || now >= end_ + linger_ns_) begin_closing(now);
      break;
    case phase::closing:
      if (active_ == 0 || now >= close_deadline_) phase_ = phase::done;
      break;
    case phase::done:
      break;
  }
}

void load_worker::scan_deadlines(uint64_t now) {
  for (connection& c : conns_) {
    switch (c.state) {
      case conn_state::connecting:
      case conn_state::upgrading:
      case conn_state::joining:
        if (now >= c.deadline_ns) {
          ++stats_.timeouts;
          fail(c, now);
        }
        break;
      case conn_state::closing:
        if (now >= c.deadline_ns) {
          // The server never finished the close handshake. Only an error where the close is
          // part of what is measured.
          if (c.kind == conn_kind::handshake && phase_ == phase::running) ++stats_.timeouts;
          finish(c, now);
        }
        break;
      case conn_state::unused:
        if (c.kind == conn_kind::handshake && sending(now) && now >= c.deadline_ns)
          start_connect(c, now);
        break;
      case conn_state::open:
        break;
    }
  }
  if (publisher_ && sending(now) && publisher_->state == conn_state::open &&
      publisher_->in_flight > 0 && now > last_probe_ns_ + kPacingStallNs) {
    ++stats_.timeouts;
    publisher_->in_flight = 0;
    last_probe_ns_ = now;
    for (uint32_t k = 0; k < config_.pipeline; ++k) send_message(*publisher_, now);
    flush_queued(now);
  }
}

void load_worker::begin_traffic(uint64_t now) {
  switch (config_.kind) {
    case scenario::echo:
      for (connection& c : conns_) {
        if (c.state != conn_state::open) continue;
        for (uint32_t k = 0; k < config_.pipeline; ++k) send_message(c, now);
      }
      flush_queued(now);
      break;
    case scenario::broadcast:
      if (publisher_ && publisher_->state == conn_state::open) {
        last_probe_ns_ = now;
        for (uint32_t k = 0; k < config_.pipeline; ++k) send_message(*publisher_, now);
        flush_queued(now);
      }
      break;
    case scenario::handshake:
      for (connection& c : conns_) start_connect(c, now);
      break;
    case scenario::idle:
    case scenario::publish:  // the subscribers only listen
      break;
  }
}

void load_worker::begin_closing(uint64_t now) {
  phase_ = phase::closing;
  const uint64_t wait =
      std::min<uint64_t>(static_cast<uint64_t>(config_.timeout_s * 1e9), kMaxCloseWaitNs);
  close_deadline_ = now + wait;
  for (connection& c : conns_) {
    switch (c.state) {
      case conn_state::open:
        c.state = conn_state::closing;
        c.deadline_ns = close_deadline_;
        if (config_.raw) {
          // No close frame in raw TCP: half-close, the echo server answers with EOF.
          ::shutdown(c.fd, SHUT_WR);
        } else if (!c.close_sent) {
          const uint8_t code[2] = {0x03, 0xE8};  // 1000 normal closure (RFC 6455 §7.4.1)
          send_frame(c, ws::opcode::close, code, sizeof code);
          c.close_sent = true;
          flush(c, now);
        }
        break;
      case conn_state::connecting:
      case conn_state::upgrading:
      case conn_state::joining:
        drop(c);
        break;
      case conn_state::closing:
      case conn_state::unused:
        break;
    }
  }
}

void load_worker::start_connect(connection& c, uint64_t now) {
  const bool setup = c.kind != conn_kind::handshake;
  const int fd = start_tcp_connect(c.url->address, c.url->address_len);
  if (fd < 0) {
    stats_.last_connect_errno = errno;
    ++stats_.connect_errors;
    c.deadline_ns = now + kHandshakeRetryNs;
    if (setup) settle(c, false);
    return;
  }
  if (setup && !c.setup_pending) {
    c.setup_pending = true;
    ++in_progress_;
  }
  ++active_;
  c.fd = fd;
  ++c.generation;
  c.state = conn_state::connecting;
  c.started_ns = now;
  c.deadline_ns = now + static_cast<uint64_t>(config_.timeout_s * 1e9);
  c.close_sent = false;
  c.sio_connect_sent = false;
  c.join_sent = false;
  c.in_flight = 0;
  c.out.clear();
  c.head.clear();
  c.reader = server_frame_reader{reader_keep_};
  c.raw = raw_message_reader(config_.size);
  c.out_armed = true;
  if (!watch_connecting(epoll_fd_, fd, event_data(c.index, c.generation))) {
    stats_.last_connect_errno = errno;
    ++stats_.connect_errors;
    fail(c, now);
  }
}

void load_worker::handle_event(uint64_t data, uint32_t events) {
  const uint32_t index = static_cast<uint32_t>(data);
  if (index >= conns_.size()) return;
  connection& c = conns_[index];
  if (c.generation != static_cast<uint32_t>(data >> 32) || c.fd < 0) return;  // stale
  const uint32_t generation = c.generation;
  if (c.state == conn_state::connecting) {
    // EPOLLOUT (or an error) is how a non-blocking connect() reports its outcome.
    if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) on_connect_result(c, monotonic_ns());
  } else {
    if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) on_readable(c);
    if ((events & EPOLLOUT) && c.generation == generation && c.fd >= 0) flush(c, monotonic_ns());
  }
  if (!flush_list_.empty()) flush_queued(monotonic_ns());
}

void load_worker::on_connect_result(connection& c, uint64_t now) {
  int err = 0;
  socklen_t len = sizeof err;
  if (::getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) err = errno;
  if (err != 0) {
    stats_.last_connect_errno = err;
    ++stats_.connect_errors;
    fail(c, now);
    return;
  }
  set_writable_interest(c, false);
  if (config_.raw) {
    become_open(c, now);
    return;
  }
  uint8_t random[16];
  masks_.fill(random, sizeof random);
  char key[kKeySize];
  make_client_key(random, key);
  expected_accept(key, c.accept);
  const size_t cap = 512 + c.url->path.size() + c.url->host_header.size();
  char* out = reinterpret_cast<char*>(c.out.reserve(cap));
  c.out.commit(write_upgrade_request(out, cap, c.url->host_header, c.url->path, key));
  c.state = conn_state::upgrading;
  flush(c, now);
}

void load_worker::on_readable(connection& c) {
  uint8_t* buf = read_buffer_.get();
  const ssize_t r = ::recv(c.fd, buf, kReadBufferSize, 0);
  const uint64_t now = monotonic_ns();  // receive time of every message in this read
  if (r > 0) {
    const size_t n = static_cast<size_t>(r);
    if (c.state == conn_state::upgrading)
      on_upgrade_bytes(c, buf, n, now);
    else
      feed(c, buf, n, now);
  } else if (r == 0) {
    on_eof(c, now);
  } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
    on_socket_error(c, errno, now);
  }
}

void load_worker::on_upgrade_bytes(connection& c, const uint8_t* data, size_t len, uint64_t now) {
  std::string_view view;
  if (c.head.empty()) {
    view = std::string_view(reinterpret_cast<const char*>(data), len);
  } else {
    c.head.append(reinterpret_cast<const char*>(data), len);
    view = c.head;
  }
  const upgrade_result u = parse_upgrade_response(view, c.accept);
  if (u.status == upgrade_status::incomplete) {
    if (c.head.empty()) c.head.assign(view);
    return;
  }
  if (u.status != upgrade_status::ok) {
    ++stats_.handshake_errors;
    fail(c, now);
    return;
  }
  const uint32_t generation = c.generation;
  on_ws_open(c, now);
  // Frames the server sent right behind its 101 (e.g. a greeting, the Engine.IO OPEN packet)
  // are already here.
  if (view.size() > u.head_size && c.generation == generation && c.fd >= 0)
    feed(c, reinterpret_cast<const uint8_t*>(view.data()) + u.head_size, view.size() - u.head_size,
         now);
  c.head.clear();
}

void load_worker::on_ws_open(connection& c, uint64_t now) {
  if (config_.protocol != wire_protocol::socketio) {
    become_open(c, now);
    return;
  }
  // Engine.IO v4: the server speaks first, with its OPEN packet; our CONNECT to "/" follows
  // (on_sio_message). The connection is open for the workload once CONNECT is answered.
  c.state = conn_state::joining;
  c.sio_connect_sent = false;
}

// The connection is ready for the workload: a validated 101, or for Socket.IO the answer to
// CONNECT.
void load_worker::become_open(connection& c, uint64_t now) {
  c.state = conn_state::open;
  c.counted_open = true;
  ++open_;
  if (c.kind == conn_kind::handshake) {
    // Handshake latency: connect() to a validated 101 (Socket.IO: to the CONNECT answer).
    if (in_window(now)) {
      ++stats_.messages;
      ++total_messages_;
      stats_.latency.record(now - c.started_ns);
    } else {
      ++total_messages_;
    }
    const uint8_t code[2] = {0x03, 0xE8};
    send_frame(c, ws::opcode::close, code, sizeof code);
    c.close_sent = true;
    c.state = conn_state::closing;
    c.deadline_ns = now + static_cast<uint64_t>(config_.timeout_s * 1e9);
    return;
  }
  settle(c, true);
  if (c.kind == conn_kind::probe) start_connect(*publisher_, now);
}

void load_worker::settle(connection& c, bool opened) noexcept {
  if (c.settled || c.kind == conn_kind::handshake) return;
  c.settled = true;
  --unsettled_;
  if (c.setup_pending) {
    c.setup_pending = false;
    --in_progress_;
  }
  if (!opened) live_.failed.fetch_add(1, std::memory_order_relaxed);
  if (c.kind == conn_kind::subscriber) {
    --plain_unsettled_;
    control_.subscribers_settled.fetch_add(1, std::memory_order_release);
  }
  // Without its probe or its publisher a broadcast run cannot be paced: give up.
  if (!opened && (c.kind == conn_kind::probe || c.kind == conn_kind::publisher)) {
    control_.stop.store(true);
    if (c.kind == conn_kind::probe) settle(*publisher_, false);
  }
}

void load_worker::feed(connection& c, const uint8_t* data, size_t len, uint64_t now) {
  frame_sink sink{*this, c, now};
  if (config_.raw) {
    c.raw.feed(data, len, sink);
    return;
  }
  if (c.reader.feed(data, len, sink) != frame_error::none) {
    ++stats_.protocol_errors;
    // RFC 6455 §7.1.7: fail the connection; a load generator need not send a close first.
    fail(c, now);
  }
}

bool load_worker::on_message(connection& c, const message_view& m, uint64_t now) {
  if (config_.protocol == wire_protocol::socketio) return on_sio_message(c, m, now);
  on_workload_message(c, m.op == message_op_ && m.length == config_.size, m.length, m.stamp(), now);
  return true;
}

bool load_worker::on_sio_message(connection& c, const message_view& m, uint64_t now) {
  // After our close frame no data frame may follow (RFC 6455 §5.5.1), so there is nothing to
  // answer: what still arrives is ignored.
  if (c.state == conn_state::closing) return true;
  const sio_packet p = m.op == ws::opcode::text
                           ? scan_sio_packet({m.head, m.head_size}, m.length, m.tail)
                           : sio_packet{};
  switch (p.kind) {
    case sio_kind::ping: {
      // Engine.IO v4: the server pings every pingInterval and drops a client whose pong does
      // not come within pingTimeout; the pong carries the ping's data (scan_sio_packet made
      // sure all of it is in the head).
      ++stats_.pings;
      uint8_t pong[kSioHead];
      pong[0] = '3';
      std::memcpy(pong + 1, m.head + 1, m.head_size - 1);
      send_frame(c, ws::opcode::text, pong, m.head_size);
      return true;
    }
    case sio_kind::pong:
    case sio_kind::noop:
      return true;
    default:
      break;
  }
  if (config_.kind == scenario::publish) return on_room_message(c, m, p, now);
  if (c.state == conn_state::joining) {
    if (!c.sio_connect_sent && p.kind == sio_kind::open) {
      static constexpr uint8_t kConnect[] = {'4', '0'};  // CONNECT to "/", no auth payload
      send_frame(c, ws::opcode::text, kConnect, sizeof kConnect);
      c.sio_connect_sent = true;
      return true;
    }
    if (c.sio_connect_sent && p.kind == sio_kind::connect) {
      const uint32_t generation = c.generation;
      become_open(c, now);
      return c.generation == generation && c.fd >= 0;
    }
    // CONNECT_ERROR (refused), CLOSE, DISCONNECT or anything out of order: set-up failed.
    ++stats_.handshake_errors;
    fail(c, now);
    return false;
  }
  switch (p.kind) {
    case sio_kind::event:
      on_sio_event(c, m, p, now);
      return true;
    case sio_kind::disconnect:
    case sio_kind::close:
      on_sio_disconnect(c, now);
      return false;
    default:
      // A malformed EVENT (an escape, a second argument...) is still the answer to a message:
      // a protocol error, and the pacing goes on as for a wrong WebSocket echo.
      if (m.head_size >= 2 && m.head[0] == '4' && m.head[1] == '2')
        on_sio_event(c, m, p, now);
      else
        ++stats_.protocol_errors;  // a packet this client never expects
      return true;
  }
}

// The server ended the session (Socket.IO DISCONNECT or Engine.IO CLOSE): count it, then
// close the WebSocket.
void load_worker::on_sio_disconnect(connection& c, uint64_t now) {
  if (c.kind != conn_kind::handshake && phase_ != phase::closing) {
    ++stats_.closed;
    ++stats_.closed_by_disconnect;
  }
  if (!c.close_sent) {
    const uint8_t code[2] = {0x03, 0xE8};
    send_frame(c, ws::opcode::close, code, sizeof code);
    c.close_sent = true;
  }
  c.state = conn_state::closing;
  c.deadline_ns =
      now + std::min<uint64_t>(static_cast<uint64_t>(config_.timeout_s * 1e9), kMaxCloseWaitNs);
}

// publish: a subscriber's packets after the Engine.IO ones (ping, pong, noop) were handled.
// Set-up: OPEN -> CONNECT to the namespace -> its answer -> join (ack id kJoinAckId) -> the
// ack with ok: true opens the connection. Then only "message" events are expected.
bool load_worker::on_room_message(connection& c, const message_view& m, const sio_packet& p,
                                  uint64_t now) {
  const auto send_text = [this, &c](const std::string& text) {
    send_frame(c, ws::opcode::text, reinterpret_cast<const uint8_t*>(text.data()), text.size());
  };
  if (c.state == conn_state::joining && !c.sio_connect_sent) {
    if (p.kind != sio_kind::open) {
      ++stats_.handshake_errors;
      fail(c, now);
      return false;
    }
    send_text(room_connect_);
    c.sio_connect_sent = true;
    return true;
  }
  if (p.kind == sio_kind::close) {
    if (c.state == conn_state::joining) {
      ++stats_.handshake_errors;
      fail(c, now);
    } else {
      on_sio_disconnect(c, now);
    }
    return false;
  }
  const room_packet r =
      m.op == ws::opcode::text
          ? scan_room_packet({m.head, m.head_size}, m.length, m.tail, config_.nsp, kJoinAckId)
          : room_packet{};
  if (c.state == conn_state::joining) {
    if (!c.join_sent && r.kind == room_packet_kind::connected) {
      send_text(room_join_);
      c.join_sent = true;
      return true;
    }
    if (c.join_sent && r.kind == room_packet_kind::join_ok) {
      const uint32_t generation = c.generation;
      become_open(c, now);
      return c.generation == generation && c.fd >= 0;
    }
    // CONNECT_ERROR, a refused join, or anything out of order: set-up failed.
    ++stats_.handshake_errors;
    fail(c, now);
    return false;
  }
  switch (r.kind) {
    case room_packet_kind::message: {
      const bool stamped = config_.size >= kStampSize && r.data_at + kStampSize <= m.head_size;
      if (stamped)
        count_publish_delivery(m.head + r.data_at, now);
      else
        ++stats_.protocol_errors;
      return true;
    }
    case room_packet_kind::disconnect:
      on_sio_disconnect(c, now);
      return false;
    default:
      ++stats_.protocol_errors;  // another event, an ack we never asked for, garbage
      return true;
  }
}

// publish: a delivery counts when its publish was *sent* inside the window (the stamp says
// when), so that deliveries = published x subscribers when nothing is lost.
void load_worker::count_publish_delivery(const uint8_t* stamp, uint64_t now) noexcept {
  ++total_messages_;
  uint64_t sent_at = 0;
  if (!decode_stamp(stamp, &sent_at)) {
    ++stats_.protocol_errors;
    return;
  }
  const uint64_t latency = stamp_elapsed(sent_at, now);
  if (latency > kMaxSaneLatencyNs) {
    ++stats_.protocol_errors;
    return;
  }
  const uint64_t sent = now - latency;
  if (sent < measure_from_ || sent >= end_) return;
  ++stats_.messages;
  stats_.payload_bytes += config_.size;
  stats_.latency.record(latency);
}

void load_worker::on_sio_event(connection& c, const message_view& m, const sio_packet& p,
                               uint64_t now) {
  std::string_view expected;
  switch (c.kind) {
    case conn_kind::echo:
      expected = "echo";
      break;
    case conn_kind::subscriber:
    case conn_kind::probe:
      expected = "m";
      break;
    case conn_kind::publisher:  // joined no room (pub=1)
    case conn_kind::idle:
    case conn_kind::handshake:
      ++stats_.protocol_errors;  // nothing is ever sent to these
      return;
  }
  const bool matches =
      p.kind == sio_kind::event && p.name == expected && p.data_size == config_.size;
  // For the expected names the stamp always lies within the head.
  const uint8_t* stamp =
      matches && config_.size >= kStampSize && p.data_at + kStampSize <= m.head_size
          ? m.head + p.data_at
          : nullptr;
  on_workload_message(c, matches, p.data_size, stamp, now);
}

// An echo or a delivery: counted (or a protocol error if it is not what was sent), and the
// next message goes out.
void load_worker::on_workload_message(connection& c, bool matches, uint64_t length,
                                      const uint8_t* stamp, uint64_t now) {
  switch (c.kind) {
    case conn_kind::echo:
      if (!matches)
        ++stats_.protocol_errors;
      else
        count_delivery(length, stamp, now);
      if (c.in_flight > 0) --c.in_flight;
      if (sending(now) && c.state == conn_state::open) send_message(c, now);
      return;
    case conn_kind::subscriber:
    case conn_kind::probe:
      if (!matches)
        ++stats_.protocol_errors;
      else
        count_delivery(length, stamp, now);
      if (c.kind == conn_kind::probe) {
        last_probe_ns_ = now;
        if (publisher_->in_flight > 0) --publisher_->in_flight;
        if (sending(now) && publisher_->state == conn_state::open) send_message(*publisher_, now);
      }
      return;
    case conn_kind::publisher:
    case conn_kind::handshake:
    case conn_kind::idle:
      return;  // not part of the workload: ignored
  }
}

void load_worker::count_delivery(uint64_t length, const uint8_t* stamp, uint64_t now) noexcept {
  ++total_messages_;
  uint64_t sent_at = 0;
  if (stamp && !decode_stamp(stamp, &sent_at)) {
    ++stats_.protocol_errors;
    return;
  }
  if (!in_window(now)) return;
  ++stats_.messages;
  stats_.payload_bytes += length;
  if (stamp) {
    const uint64_t latency = stamp_elapsed(sent_at, now);
    if (latency > kMaxSaneLatencyNs)
      ++stats_.protocol_errors;
    else
      stats_.latency.record(latency);
  }
}

bool load_worker::on_control(connection& c, ws::opcode op, const uint8_t* payload, size_t length,
                             uint64_t now) {
  switch (op) {
    case ws::opcode::ping:
      // RFC 6455 §5.5.3: a pong carries the ping's application data.
      ++stats_.pings;
      send_frame(c, ws::opcode::pong, payload, length);
      return true;
    case ws::opcode::close:
      if (c.state == conn_state::joining) {  // Socket.IO set-up cut short
        ++stats_.handshake_errors;
        fail(c, now);
        return false;
      }
      if (!c.close_sent) {
        // The server started the close: answer with its status code (§5.5.1), and count it
        // unless we are winding down anyway.
        send_frame(c, ws::opcode::close, payload, length >= 2 ? 2 : 0);
        c.close_sent = true;
        if (c.kind != conn_kind::handshake && phase_ != phase::closing) {
          ++stats_.closed;
          ++stats_.closed_by_frame;
          stats_.last_close_code =
              length >= 2 ? static_cast<uint16_t>(payload[0] << 8 | payload[1]) : 1005;
        }
      }
      c.state = conn_state::closing;
      c.deadline_ns =
          now + std::min<uint64_t>(static_cast<uint64_t>(config_.timeout_s * 1e9), kMaxCloseWaitNs);
      return false;  // nothing may follow a close frame (§5.5.1)
    default:
      return true;  // pong (unsolicited ones too, §5.5.3)
  }
}

void load_worker::send_message(connection& c, uint64_t now) {
  const bool pub = c.kind == conn_kind::publisher;
  const std::vector<uint8_t>& message = pub ? pub_message_ : message_;
  uint8_t* p = c.out.reserve(ws::kMaxFrameHeader + message.size());
  size_t n;
  if (config_.raw) {
    std::memcpy(p, payload_.data(), config_.size);
    if (config_.size >= kStampSize) encode_stamp(now, p);
    n = config_.size;
  } else {
    uint8_t mask[4];
    masks_.next_mask(mask);
    n = write_stamped_frame(p, message_op_, message, now, mask, pub ? pub_stamp_at_ : stamp_at_);
  }
  c.out.commit(n);
  ++c.in_flight;
  if (in_window(now)) ++stats_.sent;
  queue_flush(c);
}

void load_worker::send_frame(connection& c, ws::opcode op, const uint8_t* payload, size_t length) {
  uint8_t mask[4];
  masks_.next_mask(mask);
  uint8_t* p = c.out.reserve(ws::kMaxFrameHeader + length);
  c.out.commit(write_client_frame(p, op, {payload, length}, mask));
  queue_flush(c);
}

void load_worker::queue_flush(connection& c) {
  if (c.flush_queued) return;
  c.flush_queued = true;
  flush_list_.push_back(c.index);
}

void load_worker::flush_queued(uint64_t now) {
  // flush() may fail a connection, which never queues more: the list cannot grow under us.
  for (size_t i = 0; i < flush_list_.size(); ++i) {
    connection& c = conns_[flush_list_[i]];
    c.flush_queued = false;
    flush(c, now);
  }
  flush_list_.clear();
}

void load_worker::flush(connection& c, uint64_t now) {
  if (c.fd < 0 || c.state == conn_state::connecting) return;
  const std::optional<bool> want_writable = send_pending(c.fd, c.out);
  if (!want_writable) return on_socket_error(c, errno, now);
  if (*want_writable != c.out_armed) set_writable_interest(c, *want_writable);
}

void load_worker::set_writable_interest(connection& c, bool on) noexcept {
  epoll_event ev{};
  ev.events = EPOLLIN | (on ? EPOLLOUT : 0u);
  ev.data.u64 = event_data(c.index, c.generation);
  epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c.fd, &ev);
  c.out_armed = on;
}

void load_worker::on_eof(connection& c, uint64_t now) {
  switch (c.state) {
    case conn_state::closing:
      finish(c, now);
      return;  // the close handshake completed
    case conn_state::connecting:
    case conn_state::upgrading:
    case conn_state::joining:
      ++stats_.handshake_errors;
      fail(c, now);
      return;
    case conn_state::open:
      if (phase_ != phase::closing) {
        ++stats_.closed;
        ++stats_.closed_by_eof;
      }
      finish(c, now);
      return;
    case conn_state::unused:
      return;
  }
}

void load_worker::on_socket_error(connection& c, int err, uint64_t now) {
  switch (c.state) {
    case conn_state::connecting:
      stats_.last_connect_errno = err;
      ++stats_.connect_errors;
      fail(c, now);
      return;
    case conn_state::upgrading:
    case conn_state::joining:
      ++stats_.handshake_errors;
      fail(c, now);
      return;
    case conn_state::closing:
      finish(c, now);
      return;  // a reset after close is fine
    case conn_state::open:
      if (phase_ != phase::closing) {
        ++stats_.closed;
        ++stats_.closed_by_reset;
      }
      finish(c, now);
      return;
    case conn_state::unused:
      return;
  }
}

// A connection that never opened: set-up counts it failed, a handshake slot retries shortly.
void load_worker::fail(connection& c, uint64_t now) {
  drop(c);
  c.deadline_ns = now + kHandshakeRetryNs;
  settle(c, false);
}

// A connection that is over: a handshake slot starts its next cycle at once.
void load_worker::finish(connection& c, uint64_t now) {
  drop(c);
  if (c.kind == conn_kind::handshake && sending(now)) start_connect(c, now);
}

void load_worker::drop(connection& c) noexcept {
  if (c.fd >= 0) {
    ::close(c.fd);  // also removes it from the epoll set
    --active_;
  }
  c.fd = -1;
  ++c.generation;
  if (c.counted_open) {
    c.counted_open = false;
    --open_;
  }
  c.state = conn_state::unused;
  c.out_armed = false;
  c.in_flight = 0;
  c.out.clear();
}

}  // namespace relay::bench
