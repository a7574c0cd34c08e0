// Throughput of the RFC 6455 frame parser on the server's receive path: a read buffer full of
// masked client frames, parsed in place. Reports bytes/s of wire data (headers included) and
// frames/s.
//
// The same buffer is parsed every iteration: unmasking is an XOR, so each pass toggles the
// payload between masked and clear, which costs the same; binary frames are not validated, and
// text frames use the all-zero mask so their payload stays valid UTF-8.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <span>
#include <vector>

#include "ws/frame_header.hpp"
#include "ws/frame_parser.hpp"
#include "ws/utf8.hpp"

namespace {

using relay::ws::compressed;
using relay::ws::frame_handler;
using relay::ws::frame_parser;
using relay::ws::opcode;

class counting_handler final : public frame_handler {
 public:
  bool on_message(opcode, std::span<uint8_t> payload, compressed) override {
    benchmark::DoNotOptimize(payload.data());
    ++messages;
    return true;
  }
  bool on_control(opcode, std::span<uint8_t>) override { return true; }
  uint64_t messages = 0;
};

// About 1 MiB of frames with `payload` bytes each, like one large socket read.
std::vector<uint8_t> make_stream(opcode op, size_t payload, const uint8_t mask[4], size_t* frames) {
  std::mt19937 rng(42);
  std::vector<uint8_t> out;
  const size_t per_frame = relay::ws::frame_header_size(payload, true) + payload;
  *frames = std::max<size_t>(1, (1u << 20) / per_frame);
  out.reserve(*frames * per_frame);
  for (size_t f = 0; f < *frames; ++f) {
    uint8_t header[relay::ws::kMaxFrameHeader];
    const size_t n = relay::ws::write_frame_header(header, op, payload, relay::ws::final_frame::yes,
                                                   compressed::no, mask);
    out.insert(out.end(), header, header + n);
    for (size_t i = 0; i < payload; ++i) {
      out.push_back(op == opcode::text ? static_cast<uint8_t>('a' + rng() % 26)
                                       : static_cast<uint8_t>(rng()));
    }
  }
  return out;
}

void run(benchmark::State& st, opcode op, const uint8_t mask[4], size_t read_size) {
  size_t frames = 0;
  std::vector<uint8_t> stream = make_stream(op, static_cast<size_t>(st.range(0)), mask, &frames);
  frame_parser parser;
  counting_handler handler;
  for (auto _ : st) {
    for (size_t at = 0; at < stream.size(); at += read_size) {
      const size_t n = std::min(read_size, stream.size() - at);
      if (parser.feed({stream.data() + at, n}, handler) != nullptr) {
        st.SkipWithError("parse error");
        return;
      }
    }
  }
  st.SetBytesProcessed(static_cast<int64_t>(st.iterations() * stream.size()));
  st.counters["frames/s"] = benchmark::Counter(static_cast<double>(st.iterations() * frames),
                                               benchmark::Counter::kIsRate);
  if (handler.messages != st.iterations() * frames) st.SkipWithError("lost messages");
}

constexpr uint8_t kMask[4] = {0x37, 0xFA, 0x21, 0x3D};
constexpr uint8_t kZeroMask[4] = {0, 0, 0, 0};

// Frames wholly inside the buffer: the zero-copy path.
void BM_masked_binary(benchmark::State& st) { run(st, opcode::binary, kMask, SIZE_MAX); }
// 64 KiB reads: frames straddling reads go through the gathering path.
void BM_masked_binary_64k_reads(benchmark::State& st) { run(st, opcode::binary, kMask, 64 * 1024); }
// ASCII text: adds UTF-8 validation.
void BM_text(benchmark::State& st) { run(st, opcode::text, kZeroMask, SIZE_MAX); }

BENCHMARK(BM_masked_binary)->Arg(32)->Arg(16 * 1024);
BENCHMARK(BM_masked_binary_64k_reads)->Arg(32)->Arg(16 * 1024);
BENCHMARK(BM_text)->Arg(32)->Arg(16 * 1024);

void BM_utf8(benchmark::State& st) {
  // 16 KiB of ASCII (range 0) or of 2/3-byte characters mixed with ASCII (range 1).
  std::vector<uint8_t> text;
  const char* sample = st.range(0) == 0 ? "The quick brown fox jumps over the lazy dog. "
                                        : "Gr\xc3\xbc\xc3\x9f\x65 \xe2\x82\xac \xce\xba\xe1\xbd"
                                          "\xb9\xcf\x83\xce\xbc\xce\xb5 ";
  while (text.size() < 16 * 1024) {
    for (const char* p = sample; *p; ++p) text.push_back(static_cast<uint8_t>(*p));
  }
  for (auto _ : st) {
    benchmark::DoNotOptimize(relay::ws::is_valid_utf8(text.data(), text.size()));
  }
  st.SetBytesProcessed(static_cast<int64_t>(st.iterations() * text.size()));
}
BENCHMARK(BM_utf8)->Arg(0)->Arg(1);

}  // namespace
