#pragma once
// relay::socketio::server's implementation: a relay::server::server whose loops each run an
// Engine.IO engine and a Socket.IO loop_runtime, plus the namespaces' configuration shared by
// all loops (written before start(), read-only afterwards).
#include <atomic>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "proto/engineio/engine.hpp"
#include "relay/socketio.hpp"
#include "server/server.hpp"
#include "server/socketio_recovery.hpp"
#include "server/socketio_runtime.hpp"

namespace relay::socketio::detail {

class server_impl {
 public:
  explicit server_impl(server_options options);
  ~server_impl();

  namespace_config& namespace_named(const std::string& name);
  namespace_config* find_namespace(const std::string& name);
  // For a CONNECT: the static namespace, else the first dynamic parent that accepts the name.
  namespace_config* resolve_namespace(const std::string& name, const json::value& auth);
  namespace_config& add_dynamic(
      std::function<bool(std::string_view name, const json::value& auth)> matches);
  const server_options& options() const noexcept { return options_; }
  const decoder_options& packet_limits() const noexcept { return decoder_options_; }
  recovery_store* recovery() noexcept { return recovery_.get(); }
  // Before start(): an earlier process's sessions, loaded into the store when it is made.
  void load_sessions(std::vector<saved_session> s) {
    for (saved_session& one : s) loaded_sessions_.push_back(std::move(one));
  }
  // Before start(): counters to feed (they must outlive the server); null: none.
  void set_metrics(const runtime_metrics* m) noexcept { metrics_ = m; }
  const runtime_metrics* metrics() const noexcept { return metrics_; }
  void set_limits(const runtime_limits* l) noexcept { limits_ = l; }
  // Drain (any thread): from begin_drain() on, new Engine.IO sessions are refused (503); each
  // close_share() makes every loop close that share of its sessions (rounded up), so a drain
  // can spread the reconnects of its clients over time.
  void begin_drain() noexcept { draining_->store(true); }
  void close_share(double share);
  // Sessions close_share() has asked to close so far (a closing polling session lingers until
  // its client polls again or times out; a drain need not wait for that).
  uint64_t closes_asked() const noexcept { return closes_asked_.load(); }
  const runtime_limits* limits() const noexcept { return limits_; }

  void start();
  // relay serve: the same on a server configured by the caller (its own routes, TLS, limits).
  void start_with(relay::server::server_config base);
  void stop();
  uint16_t port() const noexcept { return server_ ? server_->port() : 0; }
  unsigned threads() const noexcept { return server_ ? server_->threads() : 0; }

  // Runs spec on every loop (or the origin loop only, for local broadcasts): now on the
  // calling loop, posted to the others.
  void dispatch(const std::shared_ptr<const broadcast_spec>& spec,
                std::function<void(loop_runtime&)> action);
  // The runtime of the loop the caller runs on, or null on a non-loop thread.
  loop_runtime* current_runtime() noexcept;
  // Where a callback of an operation started here runs: this loop, or loop 0 from outside.
  unsigned home_index() noexcept {
    loop_runtime* here = current_runtime();
    return here != nullptr ? here->index() : 0;
  }
  // Runs fn on loop `index` later (posted, also from that loop itself).
  void post_to(unsigned index, std::function<void()> fn) { loops_[index]->post(std::move(fn)); }
  size_t loop_count() const noexcept { return runtimes_.size(); }
  // Ack ids, unique per server (Node: one counter per namespace) so that a socket's own acks and
  // a broadcast's never share an id.
  uint64_t next_ack_id() noexcept { return ack_ids_.fetch_add(1, std::memory_order_relaxed); }

  // Runs `collect` on every loop `spec` covers, then `done` with all the results on `home`.
  template <class T>
  void gather(const std::shared_ptr<const broadcast_spec>& spec, unsigned home,
              std::function<T(loop_runtime&)> collect, std::function<void(std::vector<T>)> done) {
    struct state {
      std::vector<T> results;
      size_t remaining;
      std::function<void(std::vector<T>)> done;
    };
    if (!server_) return;
    auto st = std::make_shared<state>();
    st->remaining = spec->local ? 1 : runtimes_.size();
    st->done = std::move(done);
    core::event_loop* home_loop = loops_[home];
    dispatch(spec, [st, home_loop, collect = std::move(collect)](loop_runtime& rt) {
      home_loop->post([st, result = collect(rt)]() mutable {
        st->results.push_back(std::move(result));
        if (--st->remaining == 0) st->done(std::move(st->results));
      });
    });
  }

 private:
  server_options options_;
  engineio::engine_options engine_options_;
  std::deque<namespace_config> namespaces_;  // deque: stable addresses
  std::deque<std::pair<std::string, engine_handlers>> raw_endpoints_;

 public:
  void add_raw_endpoint(std::string path, engine_handlers h) {
    raw_endpoints_.emplace_back(std::move(path), std::move(h));
  }

 private:
  std::atomic<uint64_t> ack_ids_{0};
  const runtime_metrics* metrics_ = nullptr;
  decoder_options decoder_options_;  // every client's decoder points here
  const runtime_limits* limits_ = nullptr;
  std::shared_ptr<std::atomic<bool>> draining_ = std::make_shared<std::atomic<bool>>(false);
  std::atomic<uint64_t> closes_asked_{0};
  std::unique_ptr<recovery_store> recovery_;  // when options_.recovery.enabled
  std::vector<saved_session> loaded_sessions_;
  std::unique_ptr<relay::server::server> server_;
  std::vector<core::event_loop*> loops_;
  std::vector<std::unique_ptr<loop_runtime>> runtimes_;
};

}  // namespace relay::socketio::detail
