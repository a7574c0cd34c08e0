#include "ws/frame_header.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

namespace relay::ws {
namespace {

using bytes = std::vector<uint8_t>;

bytes header(opcode op, uint64_t len, final_frame fin = final_frame::yes,
             compressed c = compressed::no, const uint8_t* mask = nullptr) {
  bytes out(kMaxFrameHeader + 1, 0xEE);
  const size_t n = write_frame_header(out.data(), op, len, fin, c, mask);
  EXPECT_EQ(n, frame_header_size(len, mask != nullptr));
  EXPECT_EQ(out[n], 0xEE) << "wrote past the header";
  out.resize(n);
  return out;
}

TEST(FrameHeader, LengthEncodingsAreMinimal) {
  // RFC 6455 §5.2: 7-bit up to 125, 16-bit up to 65535, 64-bit beyond, big-endian.
  EXPECT_EQ(header(opcode::binary, 0), (bytes{0x82, 0x00}));
  EXPECT_EQ(header(opcode::binary, 1), (bytes{0x82, 0x01}));
  EXPECT_EQ(header(opcode::binary, 125), (bytes{0x82, 0x7D}));
  EXPECT_EQ(header(opcode::binary, 126), (bytes{0x82, 0x7E, 0x00, 0x7E}));
  EXPECT_EQ(header(opcode::binary, 127), (bytes{0x82, 0x7E, 0x00, 0x7F}));
  EXPECT_EQ(header(opcode::binary, 0xFFFF), (bytes{0x82, 0x7E, 0xFF, 0xFF}));
  EXPECT_EQ(header(opcode::binary, 0x10000),
            (bytes{0x82, 0x7F, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00}));
  EXPECT_EQ(header(opcode::binary, 0x0102030405060708ull),
            (bytes{0x82, 0x7F, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08}));
  EXPECT_EQ(header(opcode::binary, 0x7FFFFFFFFFFFFFFFull),
            (bytes{0x82, 0x7F, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}));
}

TEST(FrameHeader, FirstByteBits) {
  EXPECT_EQ(header(opcode::text, 0)[0], 0x81);
  EXPECT_EQ(header(opcode::text, 0, final_frame::no)[0], 0x01);
  EXPECT_EQ(header(opcode::continuation, 0, final_frame::no)[0], 0x00);
  EXPECT_EQ(header(opcode::continuation, 0)[0], 0x80);
  EXPECT_EQ(header(opcode::text, 0, final_frame::yes, compressed::yes)[0], 0xC1);
  EXPECT_EQ(header(opcode::binary, 0, final_frame::no, compressed::yes)[0], 0x42);
  EXPECT_EQ(header(opcode::close, 0)[0], 0x88);
  EXPECT_EQ(header(opcode::ping, 0)[0], 0x89);
  EXPECT_EQ(header(opcode::pong, 0)[0], 0x8A);
}

TEST(FrameHeader, MaskedHeadersCarryTheKeyAfterTheLength) {
  const uint8_t mask[4] = {0x37, 0xFA, 0x21, 0x3D};
  EXPECT_EQ(header(opcode::text, 5, final_frame::yes, compressed::no, mask),
            (bytes{0x81, 0x85, 0x37, 0xFA, 0x21, 0x3D}));
  EXPECT_EQ(header(opcode::binary, 256, final_frame::yes, compressed::no, mask),
            (bytes{0x82, 0xFE, 0x01, 0x00, 0x37, 0xFA, 0x21, 0x3D}));
  EXPECT_EQ(header(opcode::binary, 65536, final_frame::yes, compressed::no, mask),
            (bytes{0x82, 0xFF, 0, 0, 0, 0, 0, 1, 0, 0, 0x37, 0xFA, 0x21, 0x3D}));
  EXPECT_EQ(frame_header_size(65536, true), kMaxFrameHeader);
}

TEST(FrameHeader, HeaderSizes) {
  EXPECT_EQ(frame_header_size(0, false), 2u);
  EXPECT_EQ(frame_header_size(125, false), 2u);
  EXPECT_EQ(frame_header_size(126, false), 4u);
  EXPECT_EQ(frame_header_size(0xFFFF, false), 4u);
  EXPECT_EQ(frame_header_size(0x10000, false), 10u);
  EXPECT_EQ(frame_header_size(125, true), 6u);
  EXPECT_EQ(frame_header_size(126, true), 8u);
}

TEST(ApplyMask, RfcExample) {
  // RFC 6455 §5.7: "Hello" masked with 37 fa 21 3d.
  const uint8_t mask[4] = {0x37, 0xFA, 0x21, 0x3D};
  bytes data = {0x7F, 0x9F, 0x4D, 0x51, 0x58};
  EXPECT_EQ(apply_mask(data.data(), data.size(), mask), 1u);
  EXPECT_EQ(data, (bytes{'H', 'e', 'l', 'l', 'o'}));
}

TEST(ApplyMask, MatchesBytewiseForEveryLengthPhaseAndAlignment) {
  std::mt19937 rng(5);
  for (int round = 0; round < 4; ++round) {
    uint8_t mask[4];
    for (auto& m : mask) m = static_cast<uint8_t>(rng());
    for (size_t align = 0; align < 8; ++align) {
      for (size_t len = 0; len <= 80; ++len) {
        for (size_t phase = 0; phase < 4; ++phase) {
          alignas(16) uint8_t storage[128];
          for (auto& x : storage) x = static_cast<uint8_t>(rng());
          bytes expect(storage + align, storage + align + len);
          for (size_t i = 0; i < len; ++i) expect[i] ^= mask[(phase + i) & 3];
          const uint8_t before = storage[align + len];
          const size_t out = apply_mask(storage + align, len, mask, phase);
          ASSERT_EQ(out, (phase + len) & 3);
          ASSERT_EQ(bytes(storage + align, storage + align + len), expect)
              << "align " << align << " len " << len << " phase " << phase;
          if (align + len < sizeof storage) {
            ASSERT_EQ(storage[align + len], before);
          }
        }
      }
    }
  }
}

TEST(ApplyMask, PhaseCarriesAcrossSplits) {
  std::mt19937 rng(7);
  const uint8_t mask[4] = {0x01, 0x80, 0xFF, 0x5A};
  bytes plain(1000);
  for (auto& x : plain) x = static_cast<uint8_t>(rng());
  bytes whole = plain;
  apply_mask(whole.data(), whole.size(), mask);
  for (int iter = 0; iter < 200; ++iter) {
    bytes pieces = plain;
    size_t at = 0;
    size_t phase = 0;
    while (at < pieces.size()) {
      const size_t n = std::min<size_t>(rng() % 40, pieces.size() - at);
      phase = apply_mask(pieces.data() + at, n, mask, phase);
      at += n;
    }
    ASSERT_EQ(pieces, whole);
    ASSERT_EQ(phase, pieces.size() & 3);
  }
  // Masking twice restores the input (XOR is an involution, §5.3).
  apply_mask(whole.data(), whole.size(), mask);
  EXPECT_EQ(whole, plain);
}

}  // namespace
}  // namespace relay::ws
