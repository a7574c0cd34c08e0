#include "http/content_coding.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

#include <string>

namespace relay::http {
namespace {

TEST(ContentCoding, ChoosesByWeightGzipOnATie) {
  EXPECT_EQ(choose_coding(""), content_coding::identity);
  EXPECT_EQ(choose_coding("identity"), content_coding::identity);
  EXPECT_EQ(choose_coding("br"), content_coding::identity);
  EXPECT_EQ(choose_coding("gzip"), content_coding::gzip);
  EXPECT_EQ(choose_coding("GZip"), content_coding::gzip);
  EXPECT_EQ(choose_coding("x-gzip"), content_coding::gzip);
  EXPECT_EQ(choose_coding("deflate"), content_coding::deflate);
  EXPECT_EQ(choose_coding("deflate, gzip"), content_coding::gzip);            // equal q: gzip
  EXPECT_EQ(choose_coding("gzip, deflate, br, zstd"), content_coding::gzip);  // browsers
  EXPECT_EQ(choose_coding("gzip;q=0.5, deflate"), content_coding::deflate);
  EXPECT_EQ(choose_coding("gzip ; q=0.8 , deflate;q=0.9"), content_coding::deflate);
  EXPECT_EQ(choose_coding("gzip;q=0, deflate;q=0"), content_coding::identity);
  EXPECT_EQ(choose_coding("gzip;q=0"), content_coding::identity);
  EXPECT_EQ(choose_coding("*"), content_coding::gzip);
  EXPECT_EQ(choose_coding("*;q=0.1, gzip;q=0"), content_coding::deflate);
  EXPECT_EQ(choose_coding("gzip;q=1.000"), content_coding::gzip);
  // Malformed weights drop the element.
  EXPECT_EQ(choose_coding("gzip;q=2, deflate;q=0.1"), content_coding::deflate);
  EXPECT_EQ(choose_coding("gzip;q=0.12345"), content_coding::identity);
  EXPECT_EQ(choose_coding("gzip;q=x"), content_coding::identity);
  EXPECT_EQ(choose_coding(",,gzip,,"), content_coding::gzip);
}

std::string inflate_all(const std::string& z, int window_bits) {
  z_stream s{};
  EXPECT_EQ(inflateInit2(&s, window_bits), Z_OK);
  std::string out(1 << 20, '\0');
  s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(z.data()));
  s.avail_in = static_cast<uInt>(z.size());
  s.next_out = reinterpret_cast<Bytef*>(out.data());
  s.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(inflate(&s, Z_FINISH), Z_STREAM_END);
  out.resize(s.total_out);
  inflateEnd(&s);
  return out;
}

TEST(ContentCoding, CompressedBodiesInflateBack) {
  std::string body;
  for (int i = 0; i < 2000; ++i) body += "42[\"m\",\"message " + std::to_string(i) + "\"]\x1e";
  std::string gz = "prefix:";
  ASSERT_TRUE(compress_body(body, content_coding::gzip, 1, gz));
  ASSERT_EQ(gz.rfind("prefix:", 0), 0u);  // appended
  const std::string gz_only = gz.substr(7);
  EXPECT_EQ(static_cast<uint8_t>(gz_only[0]), 0x1f);  // gzip magic
  EXPECT_EQ(static_cast<uint8_t>(gz_only[1]), 0x8b);
  EXPECT_EQ(inflate_all(gz_only, 15 + 16), body);
  EXPECT_LT(gz_only.size(), body.size() / 3);

  std::string zl;
  ASSERT_TRUE(compress_body(body, content_coding::deflate, 6, zl));
  EXPECT_EQ(static_cast<uint8_t>(zl[0]) & 0x0f, 8);  // zlib header: CM = deflate
  EXPECT_EQ(inflate_all(zl, 15), body);

  std::string empty;
  ASSERT_TRUE(compress_body("", content_coding::gzip, 1, empty));
  EXPECT_EQ(inflate_all(empty, 15 + 16), "");

  std::string plain;
  ASSERT_TRUE(compress_body("abc", content_coding::identity, 1, plain));
  EXPECT_EQ(plain, "abc");
  EXPECT_EQ(coding_name(content_coding::gzip), "gzip");
  EXPECT_EQ(coding_name(content_coding::deflate), "deflate");
  EXPECT_EQ(coding_name(content_coding::identity), "");
}

}  // namespace
}  // namespace relay::http
