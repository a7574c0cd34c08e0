#include "ws/permessage_deflate.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdint>
#include <cstring>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace relay::ws {
namespace {

using bytes = std::vector<uint8_t>;
using namespace std::string_view_literals;

bytes b(std::initializer_list<int> v) {
  bytes out;
  for (int x : v) out.push_back(static_cast<uint8_t>(x));
  return out;
}

bytes s(std::string_view v) { return bytes(v.begin(), v.end()); }

const bytes kTail = b({0x00, 0x00, 0xff, 0xff});

bool ends_with_tail(const bytes& v) {
  return v.size() >= 4 && std::equal(kTail.begin(), kTail.end(), v.end() - 4);
}

// ---- negotiation ----

struct accepted_case {
  std::string_view offer;
  std::string_view response;
  deflate_params params;
};

deflate_params params(bool snct, bool cnct, int smwb, int cmwb) {
  deflate_params p;
  p.server_no_context_takeover = snct;
  p.client_no_context_takeover = cnct;
  p.server_max_window_bits = smwb;
  p.client_max_window_bits = cmwb;
  return p;
}

void expect_params(const deflate_params& got, const deflate_params& want, std::string_view what) {
  EXPECT_EQ(got.server_no_context_takeover, want.server_no_context_takeover) << what;
  EXPECT_EQ(got.client_no_context_takeover, want.client_no_context_takeover) << what;
  EXPECT_EQ(got.server_max_window_bits, want.server_max_window_bits) << what;
  EXPECT_EQ(got.client_max_window_bits, want.client_max_window_bits) << what;
}

void expect_accepted(const deflate_config& config, const accepted_case& c) {
  std::string response = "stale";
  const std::optional<deflate_params> got = negotiate_deflate(c.offer, config, response);
  ASSERT_TRUE(got.has_value()) << "offer: " << c.offer;
  EXPECT_EQ(response, c.response) << "offer: " << c.offer;
  expect_params(*got, c.params, c.offer);
}

void expect_declined(const deflate_config& config, std::string_view offer) {
  std::string response = "stale";
  EXPECT_FALSE(negotiate_deflate(offer, config, response).has_value()) << "offer: " << offer;
  EXPECT_EQ(response, "") << "offer: " << offer;
}

TEST(DeflateNegotiation, AcceptsOffers) {
  const accepted_case cases[] = {
      // Firefox and Chrome send exactly these two.
      {"permessage-deflate", "permessage-deflate", params(false, false, 15, 15)},
      {"permessage-deflate; client_max_window_bits",
       "permessage-deflate; client_max_window_bits=15", params(false, false, 15, 15)},
      {"permessage-deflate; client_max_window_bits=10",
       "permessage-deflate; client_max_window_bits=10", params(false, false, 15, 10)},
      {"permessage-deflate; client_max_window_bits=8",
       "permessage-deflate; client_max_window_bits=8", params(false, false, 15, 8)},
      {"permessage-deflate; server_max_window_bits=10",
       "permessage-deflate; server_max_window_bits=10", params(false, false, 10, 15)},
      {"permessage-deflate; server_max_window_bits=8",
       "permessage-deflate; server_max_window_bits=8", params(false, false, 8, 15)},
      {"permessage-deflate; server_max_window_bits=15",
       "permessage-deflate; server_max_window_bits=15", params(false, false, 15, 15)},
      {"permessage-deflate; server_no_context_takeover",
       "permessage-deflate; server_no_context_takeover", params(true, false, 15, 15)},
      {"permessage-deflate; client_no_context_takeover",
       "permessage-deflate; client_no_context_takeover", params(false, true, 15, 15)},
      {"permessage-deflate; client_no_context_takeover; server_no_context_takeover; "
       "client_max_window_bits=9; server_max_window_bits=12",
       "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
       "server_max_window_bits=12; client_max_window_bits=9",
       params(true, true, 12, 9)},
      // Quoted-string values are unescaped before the check (RFC 7692 §7.1).
      {"permessage-deflate; server_max_window_bits=\"10\"",
       "permessage-deflate; server_max_window_bits=10", params(false, false, 10, 15)},
      {"permessage-deflate; server_max_window_bits=\"1\\0\"",
       "permessage-deflate; server_max_window_bits=10", params(false, false, 10, 15)},
      {"permessage-deflate; client_max_window_bits=\"12\"",
       "permessage-deflate; client_max_window_bits=12", params(false, false, 15, 12)},
      // Optional whitespace everywhere it may appear.
      {" \t permessage-deflate \t;\t server_max_window_bits \t= \t11 \t;client_max_window_bits ",
       "permessage-deflate; server_max_window_bits=11; client_max_window_bits=15",
       params(false, false, 11, 15)},
      // Names compare case-insensitively.
      {"PerMessage-Deflate; SERVER_NO_CONTEXT_TAKEOVER; Client_Max_Window_Bits=9",
       "permessage-deflate; server_no_context_takeover; client_max_window_bits=9",
       params(true, false, 15, 9)},
      // Declined offers fall back to the next one, in order (RFC 7692 §5).
      {"permessage-deflate; server_max_window_bits=7, permessage-deflate; server_max_window_bits=9",
       "permessage-deflate; server_max_window_bits=9", params(false, false, 9, 15)},
      {"permessage-deflate; foo, permessage-deflate", "permessage-deflate",
       params(false, false, 15, 15)},
      {"permessage-deflate; server_no_context_takeover=1, permessage-deflate; "
       "client_no_context_takeover",
       "permessage-deflate; client_no_context_takeover", params(false, true, 15, 15)},
      // The first acceptable one wins even if a later one is acceptable too.
      {"permessage-deflate; server_max_window_bits=10, permessage-deflate",
       "permessage-deflate; server_max_window_bits=10", params(false, false, 10, 15)},
      // Other extensions are skipped, whatever their parameters.
      {"x-webkit-deflate-frame, permessage-deflate; client_max_window_bits",
       "permessage-deflate; client_max_window_bits=15", params(false, false, 15, 15)},
      {"foo; bar=\"a, b; permessage-deflate\", permessage-deflate", "permessage-deflate",
       params(false, false, 15, 15)},
      {"x-foo; server_max_window_bits=99; a; b=c, permessage-deflate; server_no_context_takeover",
       "permessage-deflate; server_no_context_takeover", params(true, false, 15, 15)},
      // Empty list elements are legal (RFC 9110 §5.6.1).
      {" , ,permessage-deflate,, ", "permessage-deflate", params(false, false, 15, 15)},
  };
  const deflate_config config;
  for (const accepted_case& c : cases) expect_accepted(config, c);
}

TEST(DeflateNegotiation, DeclinesInvalidOffers) {
  const std::string_view offers[] = {
      "",
      "   ",
      ",",
      "x-webkit-deflate-frame",
      "permessage-deflate-x",
      "deflate-frame; permessage-deflate",
      // server_max_window_bits needs a value in 8..15 without leading zeros (§7.1.2.1).
      "permessage-deflate; server_max_window_bits",
      "permessage-deflate; server_max_window_bits=7",
      "permessage-deflate; server_max_window_bits=16",
      "permessage-deflate; server_max_window_bits=08",
      "permessage-deflate; server_max_window_bits=0",
      "permessage-deflate; server_max_window_bits=1a",
      "permessage-deflate; server_max_window_bits=+9",
      "permessage-deflate; server_max_window_bits=-9",
      "permessage-deflate; server_max_window_bits=9.0",
      "permessage-deflate; server_max_window_bits=100",
      "permessage-deflate; server_max_window_bits=\"\"",
      "permessage-deflate; server_max_window_bits=\"1 0\"",
      "permessage-deflate; server_max_window_bits=\" 10\"",
      // client_max_window_bits may omit the value, but a value must be valid.
      "permessage-deflate; client_max_window_bits=7",
      "permessage-deflate; client_max_window_bits=16",
      "permessage-deflate; client_max_window_bits=010",
      "permessage-deflate; client_max_window_bits=\"\"",
      // The no_context_takeover parameters take no value.
      "permessage-deflate; server_no_context_takeover=1",
      "permessage-deflate; server_no_context_takeover=\"\"",
      "permessage-deflate; client_no_context_takeover=true",
      // Duplicates (§7).
      "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
      "permessage-deflate; client_no_context_takeover; client_no_context_takeover",
      "permessage-deflate; server_max_window_bits=10; server_max_window_bits=10",
      "permessage-deflate; client_max_window_bits; client_max_window_bits=10",
      "permessage-deflate; client_max_window_bits=10; CLIENT_MAX_WINDOW_BITS=10",
      // Unknown parameters (§7).
      "permessage-deflate; foo",
      "permessage-deflate; max_window_bits=10",
      "permessage-deflate; client_max_window_bits=10; x=y",
      // Every offer declined.
      "permessage-deflate; a, permessage-deflate; b, x-foo",
  };
  const deflate_config config;
  for (const std::string_view offer : offers) expect_declined(config, offer);
}

TEST(DeflateNegotiation, MalformedHeaderDeclinesEverything) {
  // A header that does not parse as a whole is not answered, even if an acceptable offer
  // came before the error.
  const std::string_view offers[] = {
      "permessage-deflate;",
      "permessage-deflate; ;server_no_context_takeover",
      "permessage-deflate; =10",
      "permessage-deflate; server_max_window_bits=",
      "permessage-deflate; server_max_window_bits=\"10",
      "permessage-deflate; server_max_window_bits=\"10\\",
      "permessage-deflate server_no_context_takeover",
      "permessage-deflate; server_max_window_bits=10 11",
      "permessage-deflate; a=b=c",
      "permessage-deflate; a=\"\x01\"",
      "permessage-deflate; a=\"\\\x01\"",
      "permessage-deflate, @",
      "permessage-deflate, x;",
      "permessage-deflate; server_no_context_takeover; ",
      "(permessage-deflate)",
      "\"permessage-deflate\"",
      "permessage-deflate\r\n",
      std::string_view("permessage-deflate\0", 19),
  };
  const deflate_config config;
  for (const std::string_view offer : offers) expect_declined(config, offer);
}

TEST(DeflateNegotiation, DisabledDeclines) {
  deflate_config config;
  config.enabled = false;
  expect_declined(config, "permessage-deflate");
  expect_declined(config, "permessage-deflate; client_max_window_bits");
}

TEST(DeflateNegotiation, ServerForcesNoContextTakeover) {
  deflate_config config;
  config.server_no_context_takeover = true;
  // §7.1.1.1: the server may include it even if the offer did not.
  expect_accepted(config, {"permessage-deflate", "permessage-deflate; server_no_context_takeover",
                           params(true, false, 15, 15)});
  expect_accepted(config,
                  {"permessage-deflate; server_no_context_takeover",
                   "permessage-deflate; server_no_context_takeover", params(true, false, 15, 15)});
  config = {};
  config.client_no_context_takeover = true;
  // §7.1.1.2: likewise for the client's side.
  expect_accepted(config, {"permessage-deflate", "permessage-deflate; client_no_context_takeover",
                           params(false, true, 15, 15)});
  expect_accepted(config, {"permessage-deflate; client_max_window_bits",
                           "permessage-deflate; client_no_context_takeover; "
                           "client_max_window_bits=15",
                           params(false, true, 15, 15)});
}

TEST(DeflateNegotiation, ServerWindowLimit) {
  deflate_config config;
  config.server_max_window_bits = 10;
  // §7.1.2.1: announced even unasked, and never above what the client offered.
  expect_accepted(config, {"permessage-deflate", "permessage-deflate; server_max_window_bits=10",
                           params(false, false, 10, 15)});
  expect_accepted(config,
                  {"permessage-deflate; server_max_window_bits=12",
                   "permessage-deflate; server_max_window_bits=10", params(false, false, 10, 15)});
  expect_accepted(config,
                  {"permessage-deflate; server_max_window_bits=9",
                   "permessage-deflate; server_max_window_bits=9", params(false, false, 9, 15)});
  config.server_max_window_bits = 8;
  expect_accepted(config, {"permessage-deflate", "permessage-deflate; server_max_window_bits=8",
                           params(false, false, 8, 15)});
  // Out-of-range configuration is clamped to 8..15.
  config.server_max_window_bits = 20;
  expect_accepted(config,
                  {"permessage-deflate", "permessage-deflate", params(false, false, 15, 15)});
  config.server_max_window_bits = 3;
  expect_accepted(config, {"permessage-deflate", "permessage-deflate; server_max_window_bits=8",
                           params(false, false, 8, 15)});
}

TEST(DeflateNegotiation, ClientWindowLimit) {
  deflate_config config;
  config.max_client_window_bits = 12;
  expect_accepted(config,
                  {"permessage-deflate; client_max_window_bits",
                   "permessage-deflate; client_max_window_bits=12", params(false, false, 15, 12)});
  expect_accepted(config,
                  {"permessage-deflate; client_max_window_bits=10",
                   "permessage-deflate; client_max_window_bits=10", params(false, false, 15, 10)});
  expect_accepted(config,
                  {"permessage-deflate; client_max_window_bits=14",
                   "permessage-deflate; client_max_window_bits=12", params(false, false, 15, 12)});
  // §7.1.2.2: not offered, so it must not be answered; the client may use 15.
  expect_accepted(config,
                  {"permessage-deflate", "permessage-deflate", params(false, false, 15, 15)});
  config.max_client_window_bits = 0;
  expect_accepted(config,
                  {"permessage-deflate; client_max_window_bits",
                   "permessage-deflate; client_max_window_bits=8", params(false, false, 15, 8)});
}

TEST(DeflateNegotiation, ResponseIsAValidOfferWithTheSameOutcome) {
  // What we answer parses under our own rules to the same agreement: the response grammar and
  // the offer grammar stay in step.
  deflate_config config;
  config.server_max_window_bits = 11;
  config.max_client_window_bits = 13;
  config.client_no_context_takeover = true;
  std::string first;
  const auto a = negotiate_deflate(
      "permessage-deflate; server_no_context_takeover; client_max_window_bits", config, first);
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(first,
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
            "server_max_window_bits=11; client_max_window_bits=13");
  std::string second;
  const auto again = negotiate_deflate(first, config, second);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(second, first);
  expect_params(*again, *a, first);
}

// ---- reference zlib helpers (independent of the code under test) ----

// Compresses messages as one raw stream, each ended with `flush`; strips the sync-flush tail
// as RFC 7692 §7.2.1 says.
class zlib_sender {
 public:
  zlib_sender(int level, int window_bits, int flush = Z_SYNC_FLUSH) : flush_(flush) {
    EXPECT_EQ(deflateInit2(&z_, level, Z_DEFLATED, -window_bits, 8, Z_DEFAULT_STRATEGY), Z_OK);
  }
  ~zlib_sender() { deflateEnd(&z_); }

  bytes send(const bytes& message) {
    bytes out(deflateBound(&z_, message.size()) + 64);
    z_.next_in = const_cast<Bytef*>(message.data());
    z_.avail_in = static_cast<uInt>(message.size());
    z_.next_out = out.data();
    z_.avail_out = static_cast<uInt>(out.size());
    const int rc = ::deflate(&z_, flush_);
    EXPECT_TRUE(rc == Z_OK || rc == Z_STREAM_END);
    EXPECT_EQ(z_.avail_in, 0u);
    out.resize(out.size() - z_.avail_out);
    if (flush_ != Z_FINISH && ends_with_tail(out)) out.resize(out.size() - 4);
    return out;
  }

 private:
  z_stream z_{};
  int flush_;
};

// Inflates our deflater's output as a continuous raw stream, the tail appended per message.
// out_step > 0 limits every zlib call to that much output, which forces every back-reference
// to be resolved from zlib's window, so the window size is enforced exactly.
class zlib_receiver {
 public:
  explicit zlib_receiver(int window_bits, size_t out_step = 0) : out_step_(out_step) {
    EXPECT_EQ(inflateInit2(&z_, -window_bits), Z_OK);
  }
  ~zlib_receiver() { inflateEnd(&z_); }

  std::optional<bytes> receive(const bytes& payload) {
    bytes in = payload;
    in.insert(in.end(), kTail.begin(), kTail.end());
    bytes out;
    z_.next_in = in.data();
    z_.avail_in = static_cast<uInt>(in.size());
    uint8_t buf[65536];
    while (true) {
      const size_t room = out_step_ ? out_step_ : sizeof(buf);
      z_.next_out = buf;
      z_.avail_out = static_cast<uInt>(room);
      const int rc = ::inflate(&z_, Z_SYNC_FLUSH);
      out.insert(out.end(), buf, buf + (room - z_.avail_out));
      if (rc != Z_OK && rc != Z_BUF_ERROR) return std::nullopt;
      if (z_.avail_in == 0 && z_.avail_out != 0) return out;
    }
  }

 private:
  z_stream z_{};
  size_t out_step_;
};

// ---- data generators ----

bytes random_bytes(std::mt19937& rng, size_t n) {
  bytes out(n);
  for (size_t i = 0; i < n; i += 4) {
    const uint32_t r = static_cast<uint32_t>(rng());
    std::memcpy(out.data() + i, &r, std::min<size_t>(4, n - i));
  }
  return out;
}

// Chat-like text: a small vocabulary with JSON punctuation, highly compressible.
bytes text_like(std::mt19937& rng, size_t n) {
  static constexpr std::string_view kWords[] = {
      "{\"event\":", "\"message\"", ",\"room\":", "\"lobby\"", "hello ", "world ",
      "relay ",      "socket ",     "12345",      "}",         "\n",     "\"user\":"};
  bytes out;
  out.reserve(n);
  while (out.size() < n) {
    const std::string_view w = kWords[rng() % std::size(kWords)];
    for (char c : w) {
      if (out.size() == n) break;
      out.push_back(static_cast<uint8_t>(c));
    }
  }
  return out;
}

// Random blocks repeated at long distances: only a big window finds the matches.
bytes far_repeats(std::mt19937& rng, size_t n) {
  const bytes block = random_bytes(rng, 1000 + rng() % 20000);
  bytes out;
  out.reserve(n);
  while (out.size() < n) {
    const size_t take = std::min(block.size(), n - out.size());
    out.insert(out.end(), block.begin(), block.begin() + static_cast<std::ptrdiff_t>(take));
    const bytes noise = random_bytes(rng, rng() % 64);
    for (uint8_t x : noise) {
      if (out.size() < n) out.push_back(x);
    }
  }
  return out;
}

bytes inflate_ok(inflater& in, const bytes& payload, size_t max = SIZE_MAX) {
  bytes out;
  EXPECT_EQ(in.inflate(payload, out, max), inflate_status::ok);
  return out;
}

bytes deflate_one(deflater& d, const bytes& message) {
  bytes out;
  d.deflate(message, out);
  return out;
}

// ---- RFC 7692 §7.2.3 examples ----

const bytes kHelloCompressed = b({0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00});
const bytes kHelloAgainWithContext = b({0xf2, 0x00, 0x11, 0x00, 0x00});

TEST(Deflate, Rfc7692HelloOneBlock) {
  // §7.2.3.1 (the fragmented variant is the same payload split across frames, which the frame
  // parser joins before inflating).
  for (const bool nct : {false, true}) {
    inflater in(15, nct);
    EXPECT_EQ(inflate_ok(in, kHelloCompressed), s("Hello"));
  }
  for (const int level : {1, 6, 9}) {
    deflater d(15, false, level);
    EXPECT_EQ(deflate_one(d, s("Hello")), kHelloCompressed) << "level " << level;
  }
}

TEST(Deflate, Rfc7692SharingTheWindow) {
  // §7.2.3.2: with context takeover the second "Hello" is a back-reference into the first.
  deflater with_context(15, false);
  EXPECT_EQ(deflate_one(with_context, s("Hello")), kHelloCompressed);
  EXPECT_EQ(deflate_one(with_context, s("Hello")), kHelloAgainWithContext);

  deflater without_context(15, true);
  EXPECT_EQ(deflate_one(without_context, s("Hello")), kHelloCompressed);
  EXPECT_EQ(deflate_one(without_context, s("Hello")), kHelloCompressed);

  inflater in(15, false);
  EXPECT_EQ(inflate_ok(in, kHelloCompressed), s("Hello"));
  EXPECT_EQ(inflate_ok(in, kHelloAgainWithContext), s("Hello"));
  EXPECT_EQ(inflate_ok(in, kHelloAgainWithContext), s("Hello"));

  // Without context takeover the window is empty at each message, so the reference is
  // invalid: this proves the per-message reset happens.
  inflater fresh(15, true);
  EXPECT_EQ(inflate_ok(fresh, kHelloCompressed), s("Hello"));
  bytes out;
  EXPECT_EQ(fresh.inflate(kHelloAgainWithContext, out, 1000), inflate_status::corrupt);
  EXPECT_TRUE(out.empty());
}

TEST(Deflate, Rfc7692StoredBlock) {
  // §7.2.3.3: a DEFLATE block with no compression.
  inflater in(15, false);
  EXPECT_EQ(inflate_ok(in, b({0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00})),
            s("Hello"));
  // A stored block whose NLEN is not the complement of LEN.
  inflater bad(15, false);
  bytes out;
  EXPECT_EQ(
      bad.inflate(b({0x00, 0x05, 0x00, 0x00, 0x00, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00}), out, 1000),
      inflate_status::corrupt);
}

TEST(Deflate, Rfc7692BfinalBlock) {
  // §7.2.3.4: "Hello" in a block with BFINAL set, then 0x00 starting an empty stored block.
  const bytes bfinal = b({0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00});
  inflater in(15, false);
  EXPECT_EQ(inflate_ok(in, bfinal), s("Hello"));
  // The window survives the end of the DEFLATE stream: the next message may reference it.
  EXPECT_EQ(inflate_ok(in, kHelloAgainWithContext), s("Hello"));
  EXPECT_EQ(inflate_ok(in, bfinal), s("Hello"));
  EXPECT_EQ(inflate_ok(in, kHelloAgainWithContext), s("Hello"));

  // A sender that finishes each message with Z_FINISH omits the extra 0x00.
  const bytes finished = b({0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00});
  inflater in2(15, false);
  EXPECT_EQ(inflate_ok(in2, finished), s("Hello"));
  EXPECT_EQ(inflate_ok(in2, kHelloAgainWithContext), s("Hello"));
  EXPECT_EQ(inflate_ok(in2, finished), s("Hello"));

  inflater nct(15, true);
  EXPECT_EQ(inflate_ok(nct, bfinal), s("Hello"));
  EXPECT_EQ(inflate_ok(nct, finished), s("Hello"));
  EXPECT_EQ(inflate_ok(nct, kHelloCompressed), s("Hello"));

  // Within one message, back-references across the BFINAL boundary still resolve: "Hello"
  // (BFINAL) followed by the "Hello" back-reference block as a second stream.
  bytes joined = finished;
  joined.insert(joined.end(), kHelloAgainWithContext.begin(), kHelloAgainWithContext.end());
  inflater in3(15, true);
  EXPECT_EQ(inflate_ok(in3, joined), s("HelloHello"));

  // A second BFINAL inside the same message is refused: it would only make us copy windows.
  bytes twice = finished;
  twice.insert(twice.end(), {0x03, 0x00, 0x00});  // empty fixed block with BFINAL, then 0x00
  inflater in4(15, true);
  bytes out;
  EXPECT_EQ(in4.inflate(twice, out, 1000), inflate_status::corrupt);
}

TEST(Deflate, Rfc7692TwoBlocksInOneMessage) {
  // §7.2.3.5: "He" flushed, then "llo".
  inflater in(15, false);
  EXPECT_EQ(inflate_ok(in, b({0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9,
                              0x07, 0x00})),
            s("Hello"));
}

TEST(Deflate, Rfc7692EmptyMessage) {
  // §7.2.3.6: an empty message is the single octet 0x00.
  for (const bool nct : {false, true}) {
    deflater d(15, nct);
    EXPECT_EQ(deflate_one(d, {}), b({0x00}));
    EXPECT_EQ(deflate_one(d, s("Hello")), kHelloCompressed);
    // A second sync flush with no new input gives zlib nothing to write; we must still
    // produce a valid empty message and keep the stream usable.
    EXPECT_EQ(deflate_one(d, {}), b({0x00}));
    EXPECT_EQ(deflate_one(d, {}), b({0x00}));
    EXPECT_EQ(deflate_one(d, s("Hello")), nct ? kHelloCompressed : kHelloAgainWithContext);

    inflater in(15, nct);
    EXPECT_EQ(inflate_ok(in, b({0x00})), bytes{});
    EXPECT_EQ(inflate_ok(in, kHelloCompressed), s("Hello"));
    EXPECT_EQ(inflate_ok(in, b({0x00})), bytes{});
    // A zero-length payload is an empty message too, and leaves the window alone.
    EXPECT_EQ(inflate_ok(in, {}), bytes{});
    EXPECT_EQ(inflate_ok(in, nct ? kHelloCompressed : kHelloAgainWithContext), s("Hello"));
  }
}

// ---- round trips ----

constexpr size_t kSizes[] = {0,    1,    2,     3,     7,     64,    255,   256,   257,    1000,
                             4095, 4096, 32767, 32768, 32769, 65535, 65536, 65537, 100000, 300001};

void round_trip(int bits, bool nct, int level, int mem_level, bytes (*gen)(std::mt19937&, size_t),
                uint32_t seed) {
  std::mt19937 rng(seed);
  deflater d(bits, nct, level, mem_level);
  inflater in(bits, nct);
  bytes wire;
  bytes back;
  for (const size_t n : kSizes) {
    const bytes message = gen(rng, n);
    wire.clear();
    d.deflate(message, wire);
    ASSERT_EQ(in.inflate(wire, back, n), inflate_status::ok)
        << "bits " << bits << " nct " << nct << " level " << level << " size " << n;
    ASSERT_EQ(back, message) << "bits " << bits << " nct " << nct << " size " << n;
  }
}

TEST(Deflate, RoundTripAllWindowsBothModes) {
  for (int bits = 8; bits <= 15; ++bits) {
    for (const bool nct : {false, true}) {
      round_trip(bits, nct, 1, 8, text_like, 1);
      round_trip(bits, nct, 1, 8, random_bytes, 2);
      round_trip(bits, nct, 1, 8, far_repeats, 3);
    }
  }
}

TEST(Deflate, RoundTripLevelsAndMemLevels) {
  for (int level = 0; level <= 9; ++level) round_trip(15, false, level, 8, text_like, 4);
  for (int mem = 1; mem <= 9; ++mem) round_trip(12, true, 6, mem, far_repeats, 5);
  // Out-of-range settings are clamped, not passed to zlib.
  round_trip(3, false, 42, 99, text_like, 6);
  round_trip(99, true, -5, -1, text_like, 7);
}

TEST(Deflate, ContextTakeoverIsUsedOnlyWhenAgreed) {
  std::mt19937 rng(8);
  const bytes message = random_bytes(rng, 2000);  // nothing to find but the earlier copy
  deflater keep(15, false);
  const bytes first = deflate_one(keep, message);
  const bytes second = deflate_one(keep, message);
  EXPECT_GT(first.size(), 2000u);
  EXPECT_LT(second.size(), 50u);  // the repeat is a few back-references

  deflater reset(15, true);
  EXPECT_EQ(deflate_one(reset, message), first);
  EXPECT_EQ(deflate_one(reset, message), first);
}

TEST(Deflate, DeflateAppendsAndStripsTheTail) {
  deflater d(15, false);
  bytes out = s("prefix");
  d.deflate(s("Hello"), out);
  bytes want = s("prefix");
  want.insert(want.end(), kHelloCompressed.begin(), kHelloCompressed.end());
  EXPECT_EQ(out, want);

  std::mt19937 rng(9);
  for (const size_t n : kSizes) {
    const bytes wire = deflate_one(d, random_bytes(rng, n));
    EXPECT_FALSE(ends_with_tail(wire)) << n;
  }
}

// ---- interop with plain zlib ----

TEST(Deflate, InflatesZlibDefaultStreams) {
  std::mt19937 rng(10);
  for (const int flush : {Z_SYNC_FLUSH, Z_FULL_FLUSH}) {
    zlib_sender z(Z_DEFAULT_COMPRESSION, 15, flush);
    inflater in(15, false);
    for (const size_t n : kSizes) {
      const bytes message = n % 2 ? text_like(rng, n) : far_repeats(rng, n);
      EXPECT_EQ(inflate_ok(in, z.send(message)), message) << n;
    }
  }
  // One Z_FINISH stream per message (BFINAL, no 0x00 after it).
  inflater in(15, false);
  for (const size_t n : kSizes) {
    zlib_sender z(9, 15, Z_FINISH);
    const bytes message = text_like(rng, n);
    EXPECT_EQ(inflate_ok(in, z.send(message)), message) << n;
  }
}

TEST(Deflate, ZlibInflatesOurStreams) {
  std::mt19937 rng(11);
  for (int bits = 8; bits <= 15; ++bits) {
    deflater d(bits, false);
    // A receiver limited to exactly the agreed window.
    zlib_receiver z(bits, 1);
    for (const size_t n : {size_t{0}, size_t{1}, size_t{1000}, size_t{40000}, size_t{70000}}) {
      const bytes message = far_repeats(rng, n);
      const std::optional<bytes> got = z.receive(deflate_one(d, message));
      ASSERT_TRUE(got.has_value()) << "bits " << bits << " size " << n;
      EXPECT_EQ(*got, message) << "bits " << bits << " size " << n;
    }
  }
}

TEST(Deflate, WindowEightStaysWithin256Octets) {
  // A peer that agreed on server_max_window_bits=8 keeps a 256-octet window. zlib compresses
  // that as 9 bits; this checks, with a receiver that resolves every distance from its
  // window, that no distance goes beyond 256.
  std::mt19937 rng(12);
  bytes message;
  for (int i = 0; i < 400; ++i) {
    const bytes chunk = random_bytes(rng, 300);  // repeats at distance 300 and 600...
    message.insert(message.end(), chunk.begin(), chunk.end());
    message.insert(message.end(), chunk.begin(), chunk.end());
    const bytes small = random_bytes(rng, 40);  // ...and at 40
    message.insert(message.end(), small.begin(), small.end());
    message.insert(message.end(), small.begin(), small.end());
  }
  deflater d(8, false, 9);
  zlib_receiver strict(8, 1);
  const bytes wire = deflate_one(d, message);
  EXPECT_LT(wire.size(), message.size());  // the short repeats were found
  const std::optional<bytes> got = strict.receive(wire);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got, message);

  // The checker is real: a 15-bit stream of the same data does not fit that window.
  zlib_sender wide(9, 15);
  zlib_receiver strict2(8, 1);
  EXPECT_FALSE(strict2.receive(wide.send(message)).has_value());
}

// ---- limits and corrupt input ----

TEST(Deflate, SizeLimitIsExact) {
  std::mt19937 rng(13);
  for (const size_t n : {size_t{1}, size_t{5}, size_t{255}, size_t{256}, size_t{257}, size_t{4096},
                         size_t{100000}}) {
    for (auto gen : {text_like, random_bytes}) {
      const bytes message = gen(rng, n);
      deflater d(15, true);
      const bytes wire = deflate_one(d, message);
      inflater in(15, true);
      bytes out;
      EXPECT_EQ(in.inflate(wire, out, n), inflate_status::ok) << n;
      EXPECT_EQ(out, message);
      EXPECT_EQ(in.inflate(wire, out, n - 1), inflate_status::too_big) << n;
      EXPECT_TRUE(out.empty());
      EXPECT_EQ(in.inflate(wire, out, n + 1), inflate_status::ok) << n;
      EXPECT_EQ(in.inflate(wire, out, SIZE_MAX), inflate_status::ok) << n;
      EXPECT_EQ(out, message);
    }
  }
  inflater in(15, true);
  bytes out;
  EXPECT_EQ(in.inflate(b({0x00}), out, 0), inflate_status::ok);
  EXPECT_EQ(in.inflate(kHelloCompressed, out, 0), inflate_status::too_big);
  EXPECT_EQ(in.inflate(kHelloCompressed, out, 4), inflate_status::too_big);
  EXPECT_EQ(in.inflate(kHelloCompressed, out, 5), inflate_status::ok);
}

// `mebibytes` MiB of zeros as one message, built in no time: one MiB compressed with a full
// flush (which forgets the window, so the piece stands alone), repeated.
bytes zero_bomb(size_t mebibytes) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, 9, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY), Z_OK);
  const bytes zeros(1 << 20);
  bytes piece(deflateBound(&z, zeros.size()) + 64);
  z.next_in = const_cast<Bytef*>(zeros.data());
  z.avail_in = static_cast<uInt>(zeros.size());
  z.next_out = piece.data();
  z.avail_out = static_cast<uInt>(piece.size());
  EXPECT_EQ(::deflate(&z, Z_FULL_FLUSH), Z_OK);
  EXPECT_EQ(z.avail_in, 0u);
  piece.resize(piece.size() - z.avail_out);
  deflateEnd(&z);
  EXPECT_TRUE(ends_with_tail(piece));
  bytes out;
  out.reserve(piece.size() * mebibytes);
  for (size_t i = 0; i < mebibytes; ++i) out.insert(out.end(), piece.begin(), piece.end());
  out.resize(out.size() - 4);
  return out;
}

TEST(Deflate, CompressionBombStopsAtTheLimit) {
  constexpr size_t kLimit = 16 << 20;
  const bytes bomb = zero_bomb(1024);  // 1 GiB of zeros
  EXPECT_LT(bomb.size(), 2u << 20);
  for (const bool nct : {false, true}) {
    inflater in(15, nct);
    bytes out;
    EXPECT_EQ(in.inflate(bomb, out, kLimit), inflate_status::too_big);
    EXPECT_TRUE(out.empty());
    // Memory stayed bounded by the limit, not by what the bomb expands to.
    EXPECT_LE(out.capacity(), kLimit + 1);
  }

  // It also stops early, not after reading everything: a bomb of 20 MiB followed by garbage
  // (a block with the reserved type 11) is too_big under the limit, corrupt above it.
  bytes bad = zero_bomb(20);
  EXPECT_LT(bad.size(), 64u << 10);
  bad.push_back(0x06);
  inflater in(15, true);
  bytes out;
  EXPECT_EQ(in.inflate(bad, out, kLimit), inflate_status::too_big);
  EXPECT_EQ(in.inflate(bad, out, 64 << 20), inflate_status::corrupt);
}

TEST(Deflate, CorruptInput) {
  const bytes cases[] = {
      b({0x06}),              // reserved block type 11
      b({0x07}),              // reserved block type with BFINAL
      b({0x04, 0xff, 0xff}),  // dynamic block declaring 32 distance codes (at most 30)
      b({0xf2, 0x48, 0xcd}),  // "Hello" truncated mid-block: the tail is read as codes
      b({0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07}),  // end-of-block missing
      b({0x00, 0x10, 0x00, 0xef, 0xff, 0x48}),  // stored block shorter than LEN
      b({0x02}),  // empty fixed block; the tail then starts a stored block it cannot finish
      kHelloAgainWithContext,  // refers to a window that is empty
  };
  for (const bool nct : {false, true}) {
    for (const bytes& c : cases) {
      inflater in(15, nct);
      bytes out = s("junk");
      EXPECT_EQ(in.inflate(c, out, 1000), inflate_status::corrupt)
          << "case of " << c.size() << " bytes starting " << int(c[0]);
      EXPECT_TRUE(out.empty());
    }
  }
}

TEST(Deflate, FailureEndsAContextTakeoverStream) {
  // With context takeover a failed message loses the shared window: the rest is corrupt.
  inflater keep(15, false);
  bytes out;
  EXPECT_EQ(keep.inflate(b({0x06}), out, 1000), inflate_status::corrupt);
  EXPECT_EQ(keep.inflate(kHelloCompressed, out, 1000), inflate_status::corrupt);
  inflater keep2(15, false);
  EXPECT_EQ(keep2.inflate(kHelloCompressed, out, 2), inflate_status::too_big);
  EXPECT_EQ(keep2.inflate(kHelloCompressed, out, 1000), inflate_status::corrupt);

  // Without it every message stands alone, so the next one is fine.
  inflater reset(15, true);
  EXPECT_EQ(reset.inflate(b({0x06}), out, 1000), inflate_status::corrupt);
  EXPECT_EQ(inflate_ok(reset, kHelloCompressed), s("Hello"));
  EXPECT_EQ(reset.inflate(kHelloCompressed, out, 2), inflate_status::too_big);
  EXPECT_EQ(inflate_ok(reset, kHelloCompressed), s("Hello"));
}

TEST(Deflate, RandomGarbageNeverOverflowsTheLimit) {
  std::mt19937 rng(14);
  for (int i = 0; i < 3000; ++i) {
    const bool nct = i % 2;
    inflater in(8 + i % 8, nct);
    const size_t max = rng() % 300;
    for (int m = 0; m < 3; ++m) {
      const bytes junk = random_bytes(rng, rng() % 200);
      bytes out;
      const inflate_status st = in.inflate(junk, out, max);
      EXPECT_LE(out.size(), max);
      if (st != inflate_status::ok) {
        EXPECT_TRUE(out.empty());
      }
    }
  }
}

TEST(Deflate, OutputBufferIsReused) {
  std::mt19937 rng(15);
  const bytes big = text_like(rng, 200000);
  const bytes small = text_like(rng, 100);
  deflater d(15, false);
  inflater in(15, false);
  bytes out;
  ASSERT_EQ(in.inflate(deflate_one(d, big), out, SIZE_MAX), inflate_status::ok);
  const uint8_t* data = out.data();
  const size_t capacity = out.capacity();
  for (int i = 0; i < 100; ++i) {
    ASSERT_EQ(in.inflate(deflate_one(d, small), out, SIZE_MAX), inflate_status::ok);
    EXPECT_EQ(out, small);
    EXPECT_EQ(out.data(), data);
    EXPECT_EQ(out.capacity(), capacity);
  }
}

}  // namespace
}  // namespace relay::ws
