#include "ws/handshake.hpp"

#include <openssl/evp.h>

#include <array>
#include <cstdint>
#include <memory>

#include "http/response_writer.hpp"

namespace relay::ws {
namespace {

using namespace std::string_view_literals;
using http::iequals;

// RFC 6455 §1.3: the GUID appended to the client's key before hashing.
constexpr std::string_view kAcceptGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"sv;
constexpr size_t kSha1Size = 20;

// ---- base64, RFC 4648 §4 (standard alphabet, padded) ----

constexpr char kBase64Alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr uint8_t kNotBase64 = 0xff;

constexpr std::array<uint8_t, 256> make_base64_decode_table() {
  std::array<uint8_t, 256> t{};
  t.fill(kNotBase64);
  for (uint8_t i = 0; i < 64; ++i) t[static_cast<uint8_t>(kBase64Alphabet[i])] = i;
  return t;
}
constexpr std::array<uint8_t, 256> kBase64Decode = make_base64_decode_table();

void base64_append(const uint8_t* data, size_t n, std::string& out) {
  const size_t at = out.size();
  out.resize(at + (n + 2) / 3 * 4);
  char* p = out.data() + at;
  size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    const uint32_t v = uint32_t{data[i]} << 16 | uint32_t{data[i + 1]} << 8 | data[i + 2];
    *p++ = kBase64Alphabet[v >> 18];
    *p++ = kBase64Alphabet[(v >> 12) & 63];
    *p++ = kBase64Alphabet[(v >> 6) & 63];
    *p++ = kBase64Alphabet[v & 63];
  }
  if (n - i == 1) {
    const uint32_t v = uint32_t{data[i]} << 16;
    *p++ = kBase64Alphabet[v >> 18];
    *p++ = kBase64Alphabet[(v >> 12) & 63];
    *p++ = '=';
    *p++ = '=';
  } else if (n - i == 2) {
    const uint32_t v = uint32_t{data[i]} << 16 | uint32_t{data[i + 1]} << 8;
    *p++ = kBase64Alphabet[v >> 18];
    *p++ = kBase64Alphabet[(v >> 12) & 63];
    *p++ = kBase64Alphabet[(v >> 6) & 63];
    *p++ = '=';
  }
}

// The number of octets `s` decodes to, or nullopt unless it is canonical padded base64:
// length a multiple of 4, only alphabet characters, "=" only as the last one or two, and zero
// bits in the unused low bits of the last character (RFC 4648 §3.5 lets decoders reject
// anything else, and a real client's encoder never produces it).
std::optional<size_t> base64_decoded_size(std::string_view s) noexcept {
  if (s.size() % 4 != 0) return std::nullopt;
  if (s.empty()) return 0;
  size_t pad = 0;
  if (s.back() == '=') pad = s[s.size() - 2] == '=' ? 2 : 1;
  for (size_t i = 0; i < s.size() - pad; ++i) {
    if (kBase64Decode[static_cast<uint8_t>(s[i])] == kNotBase64) return std::nullopt;
  }
  const uint8_t last = kBase64Decode[static_cast<uint8_t>(s[s.size() - pad - 1])];
  if ((pad == 1 && (last & 0x03) != 0) || (pad == 2 && (last & 0x0f) != 0)) return std::nullopt;
  return s.size() / 4 * 3 - pad;
}

// ---- header lists ----

constexpr bool is_ows(char c) noexcept { return c == ' ' || c == '\t'; }

std::string_view trim_ows(std::string_view s) noexcept {
  while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
  return s;
}

// True if the comma-separated list has an element exactly equal to `item`. Subprotocol names
// compare case-sensitively: the client checks the answer against what it sent, and browsers
// do so by exact match (RFC 6455 §4.1, client step 5 of the response checks).
bool list_contains_exact(std::string_view list, std::string_view item) noexcept {
  while (true) {
    const size_t comma = list.find(',');
    if (trim_ows(list.substr(0, comma)) == item) return true;
    if (comma == std::string_view::npos) return false;
    list.remove_prefix(comma + 1);
  }
}

// RFC 6455 §4.2.2 /subprotocol/: any one of the client's values may be chosen. The server's
// preference order decides, so an operator can roll out a new protocol version by listing
// it first while older clients keep working.
std::string_view select_subprotocol(const http::request& req,
                                    std::span<const std::string> supported) noexcept {
  for (const std::string& candidate : supported) {
    if (candidate.empty()) continue;
    for (const http::header_field& h : req.headers) {
      if (iequals(h.name, "Sec-WebSocket-Protocol"sv) && list_contains_exact(h.value, candidate)) {
        return candidate;
      }
    }
  }
  return {};
}

std::optional<handshake_result> reject(handshake_error* error, http::status s,
                                       std::string_view reason,
                                       std::string_view extra_headers = {}) {
  if (error) {
    error->status = s;
    error->reason = reason;
    error->response = http::make_error_response(s, extra_headers);
  }
  return std::nullopt;
}

// SHA-1 is looked up in the provider once, not on every handshake (OpenSSL 3 implicit fetches
// cost more than hashing 60 octets).
const EVP_MD* sha1() noexcept {
  static const EVP_MD* const md = [] {
    const EVP_MD* fetched = EVP_MD_fetch(nullptr, "SHA1", nullptr);
    return fetched ? fetched : EVP_sha1();
  }();
  return md;
}

}  // namespace

bool is_websocket_upgrade(const http::request& req) noexcept {
  return req.header_has_token("Upgrade"sv, "websocket"sv);
}

std::string compute_accept_key(std::string_view client_key) {
  // One context per thread, reused: a handshake then allocates nothing in OpenSSL.
  thread_local const std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(
      EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  uint8_t digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (!ctx || EVP_DigestInit_ex(ctx.get(), sha1(), nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), client_key.data(), client_key.size()) != 1 ||
      EVP_DigestUpdate(ctx.get(), kAcceptGuid.data(), kAcceptGuid.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), digest, &size) != 1 || size != kSha1Size) {
    return {};
  }
  std::string out;
  out.reserve((kSha1Size + 2) / 3 * 4);
  base64_append(digest, size, out);
  return out;
}

std::optional<handshake_result> accept_handshake(const http::request& req,
                                                 const handshake_options& options,
                                                 handshake_error* error) {
  // RFC 6455 §4.2.1 item 1: "An HTTP/1.1 or higher GET request". Methods are case-sensitive
  // (RFC 9110 §9.1).
  if (req.method != "GET"sv) {
    return reject(error, http::status::method_not_allowed, "method not allowed"sv,
                  "Allow: GET\r\n"sv);
  }
  if (req.version_minor < 1) {
    return reject(error, http::status::bad_request, "WebSocket requires HTTP/1.1"sv);
  }

  // One pass for the fields that must appear once.
  size_t hosts = 0;
  size_t keys = 0;
  size_t versions = 0;
  size_t extension_lines = 0;
  std::string_view key;
  std::string_view version;
  std::string_view extensions;
  for (const http::header_field& h : req.headers) {
    if (iequals(h.name, "Host"sv)) {
      ++hosts;
    } else if (iequals(h.name, "Sec-WebSocket-Key"sv)) {
      if (keys++ == 0) key = h.value;
    } else if (iequals(h.name, "Sec-WebSocket-Version"sv)) {
      if (versions++ == 0) version = h.value;
    } else if (iequals(h.name, "Sec-WebSocket-Extensions"sv)) {
      if (extension_lines++ == 0) extensions = h.value;
    }
  }

  // §4.2.1 item 2; RFC 9112 §3.2: a request without Host, or with several, gets 400.
  if (hosts != 1) return reject(error, http::status::bad_request, "missing or repeated Host"sv);
  // §4.2.1 items 3 and 4.
  if (!is_websocket_upgrade(req)) {
    return reject(error, http::status::bad_request, "Upgrade does not list websocket"sv);
  }
  if (!req.header_has_token("Connection"sv, "upgrade"sv)) {
    return reject(error, http::status::bad_request, "Connection does not list upgrade"sv);
  }
  // §4.2.1 item 6 and §4.2.2: an unsupported or missing version gets 426 naming the versions
  // we speak. RFC 9110 §15.5.22 and §7.8: a 426 carries Upgrade, announced in Connection.
  if (versions > 1) {
    return reject(error, http::status::bad_request, "repeated Sec-WebSocket-Version"sv);
  }
  if (version != "13"sv) {
    return reject(error, http::status::upgrade_required, "unsupported Sec-WebSocket-Version"sv,
                  "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"sv);
  }
  // §4.2.1 item 5 and §11.3.1: one key, base64 of a 16-octet nonce.
  if (keys != 1 || base64_decoded_size(key) != 16) {
    return reject(error, http::status::bad_request, "invalid Sec-WebSocket-Key"sv);
  }

  handshake_result result;
  const std::string accept = compute_accept_key(key);
  if (accept.empty()) {
    return reject(error, http::status::internal_server_error, "SHA-1 unavailable"sv);
  }
  result.subprotocol = select_subprotocol(req, options.subprotocols);

  std::string extensions_response;
  if (options.deflate.enabled && extension_lines > 0) {
    // RFC 9110 §5.3: repeated field lines are one comma-separated list.
    std::string joined;
    if (extension_lines > 1) {
      for (const http::header_field& h : req.headers) {
        if (!iequals(h.name, "Sec-WebSocket-Extensions"sv)) continue;
        if (!joined.empty()) joined.push_back(',');
        joined.append(h.value);
      }
      extensions = joined;
    }
    result.deflate = negotiate_deflate(extensions, options.deflate, extensions_response);
  }

  // §4.2.2 item 5.
  constexpr std::string_view kHead =
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Accept: "sv;
  constexpr std::string_view kProtocol = "Sec-WebSocket-Protocol: "sv;
  constexpr std::string_view kExtensions = "Sec-WebSocket-Extensions: "sv;
  std::string& r = result.response;
  r.reserve(kHead.size() + accept.size() + kProtocol.size() + result.subprotocol.size() +
            kExtensions.size() + extensions_response.size() + 4 * "\r\n"sv.size());
  r.append(kHead);
  r.append(accept);
  r.append("\r\n"sv);
  if (!result.subprotocol.empty()) {
    r.append(kProtocol);
    r.append(result.subprotocol);
    r.append("\r\n"sv);
  }
  if (result.deflate) {
    r.append(kExtensions);
    r.append(extensions_response);
    r.append("\r\n"sv);
  }
  r.append("\r\n"sv);
  return result;
}

}  // namespace relay::ws
