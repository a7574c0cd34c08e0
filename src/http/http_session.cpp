#include "http/http_session.hpp"

#include <cstring>

namespace relay::http {

http_session::http_session(core::event_loop& loop, int fd, std::unique_ptr<net::stream> tls,
                           const session_options& options, const router& routes,
                           session_stats* stats)
    : net::connection(loop, fd, std::move(tls), options.socket),
      options_(&options),
      routes_(&routes),
      stats_(stats),
      parser_(options.limits) {
  // One allocation up front instead of four as a typical request's ~10 headers arrive.
  req_.headers.reserve(16);
}

void http_session::begin() {
  in_request_ = false;
  // A new connection gets the request timeout straight away: a client that connects and
  // sends nothing is as much a slowloris as one that sends a byte a minute.
  loop().timers().schedule(timer(), loop().now_ms() + options_->request_timeout_ms);
}

void http_session::on_timer() {
  if (closed() || closing()) return;
  if (in_request_ || !served_any_) {
    // A request started and never completed, or nothing came since the connection was
    // accepted: slowloris. 408, then close.
    if (stats_) ++stats_->errors;
    respond_error(status::request_timeout);
    return;
  }
  close_now(net::close_reason::timeout);  // idle keep-alive connection
}

void http_session::answered_hold() {
  if (held_by_ == nullptr) return;
  held_by_ = nullptr;
  // Not synchronously: respond() may run inside another connection's event, and the next
  // request's handler must not run in the middle of it. flush() comes at the end of the
  // iteration (the response just queued requested it).
  resume_pending_ = true;
}

http_session::migration http_session::migrate_current_request() {
  migration m;
  if (current_raw_.empty() || req_.chunked || held_by_ != nullptr) return m;
  std::string bytes(current_raw_.data(), current_raw_.size());
  m.socket = detach();
  if (m.socket.fd < 0) return m;
  // Bytes already received behind the ones being processed wait in pending_ only when this
  // call came from on_data's slow path; both are covered by current_raw_ (which spans to the
  // end of the data being parsed).
  m.bytes = std::move(bytes);
  pending_.clear();
  return m;
}

void http_session::hold(held_request_owner& owner) {
  held_by_ = &owner;
  loop().timers().cancel(timer());
}

void http_session::on_closed(net::close_reason) {
  if (held_request_owner* owner = held_by_) {
    held_by_ = nullptr;
    owner->on_held_request_aborted(*this);
  }
}

void http_session::flush() {
  net::connection::flush();
  if (resume_pending_ && !closed() && !closing()) {
    resume_pending_ = false;
    resume_after_hold();
  }
}

void http_session::resume_after_hold() {
  resume_reading();  // paused if requests piled up behind the held one
  if (!current_keep_alive_) {
    close_after_flush();
    return;
  }
  if (pending_.empty()) {
    in_request_ = false;
    loop().timers().schedule(timer(), loop().now_ms() + options_->keep_alive_timeout_ms);
    return;
  }
  // Requests that arrived while the held one was open: process them now.
  std::vector<char> waiting;
  waiting.swap(pending_);
  on_data(std::span<uint8_t>(reinterpret_cast<uint8_t*>(waiting.data()), waiting.size()));
}

void http_session::on_data(std::span<uint8_t> bytes) {
  if (closing()) return;
  if (held_by_ != nullptr) {
    // HTTP/1.1 answers in order: keep what comes behind a held request for later, within the
    // limit of one request's head; past it, stop reading until the held one is answered.
    pending_.insert(pending_.end(), bytes.begin(), bytes.end());
    if (pending_.size() > options_->limits.max_header_bytes) pause_reading();
    return;
  }
  const uint64_t served_before = served_;
  if (pending_.empty()) {
    std::span<char> data(reinterpret_cast<char*>(bytes.data()), bytes.size());
    size_t used = process(data);
    if (closed() || closing()) return;
    if (used < data.size()) pending_.assign(data.begin() + used, data.end());
  } else {
    pending_.insert(pending_.end(), bytes.begin(), bytes.end());
    size_t used = process(std::span<char>(pending_.data(), pending_.size()));
    if (closed() || closing()) return;
    pending_.erase(pending_.begin(), pending_.begin() + static_cast<ptrdiff_t>(used));
    if (pending_.empty()) std::vector<char>().swap(pending_);
  }
  // A held request has no timeout of ours (hold() cancelled it); resume_after_hold re-arms.
  if (held_by_ != nullptr) return;
  const bool started_new = !in_request_ || served_ != served_before;
  in_request_ = !pending_.empty();
  if (!in_request_) {
    loop().timers().schedule(timer(), loop().now_ms() + options_->keep_alive_timeout_ms);
  } else if (started_new) {
    // The deadline runs from the first byte of a request, not from the latest byte.
    loop().timers().schedule(timer(), loop().now_ms() + options_->request_timeout_ms);
  }
}

size_t http_session::process(std::span<char> data) {
  size_t offset = 0;
  while (offset < data.size() && !closed() && !closing()) {
    req_.clear();
    parse_result r = parser_.parse(data.subspan(offset), req_);
    if (r.state == parse_status::incomplete) break;
    if (r.state == parse_status::error) {
      if (stats_) ++stats_->errors;
      respond_error(r.error);
      return data.size();
    }
    if (stats_) ++stats_->requests;
    ++served_;
    served_any_ = true;
    parser_.reset();
    const size_t end = offset + r.consumed;
    current_keep_alive_ = req_.keep_alive;
    std::span<uint8_t> rest(reinterpret_cast<uint8_t*>(data.data()) + end, data.size() - end);
    if (const handler* h = routes_->find(req_.path)) {
      current_raw_ = data.subspan(offset);
      (*h)(*this, req_, rest);
      current_raw_ = {};
    } else {
      respond(status::not_found, "text/plain", "not found\n");
    }
    offset = end;
    if (closed()) return data.size();  // the socket was handed over (upgrade) or closed
    if (held_by_ != nullptr) break;    // answered later; what follows waits (on_data)
    if (!current_keep_alive_) {
      close_after_flush();
      return data.size();
    }
  }
  return offset;
}

void http_session::respond(status s, std::string_view content_type, std::string_view body,
                           std::string_view extra_headers, keep_alive ka) {
  answered_hold();
  if (ka == keep_alive::no) current_keep_alive_ = false;
  write(make_response(s, content_type, body, current_keep_alive_ ? keep_alive::yes : keep_alive::no,
                      extra_headers));
}

void http_session::respond_raw(std::string_view bytes, keep_alive ka) {
  answered_hold();
  if (ka == keep_alive::no) current_keep_alive_ = false;
  write(bytes);
}

void http_session::respond_error(status s, std::string_view extra_headers) {
  held_by_ = nullptr;
  current_keep_alive_ = false;
  write(make_error_response(s, extra_headers));
  close_after_flush();
}

}  // namespace relay::http
