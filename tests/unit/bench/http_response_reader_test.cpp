#include "bench/http_response_reader.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace relay::bench {
namespace {

struct outcome {
  std::vector<http_response_info> responses;
  bool error = false;
};

// Feeds `text` in chunks of `chunk` bytes (0: all at once), then EOF when asked.
outcome read_all(std::string_view text, size_t chunk = 0, bool eof = false) {
  http_response_reader reader;
  outcome o;
  size_t pos = 0;
  while (pos < text.size() && !o.error) {
    const size_t n = chunk == 0 ? text.size() - pos : std::min(chunk, text.size() - pos);
    std::span<const uint8_t> in(reinterpret_cast<const uint8_t*>(text.data()) + pos, n);
    pos += n;
    while (true) {
      const http_read_status s = reader.feed(in);
      if (s == http_read_status::error) {
        o.error = true;
        break;
      }
      if (s == http_read_status::response) o.responses.push_back(reader.response());
      if (in.empty() && s == http_read_status::need_more) break;
      if (in.empty() && s == http_read_status::response) break;
    }
  }
  if (eof && !o.error) {
    const http_read_status s = reader.on_eof();
    if (s == http_read_status::response) o.responses.push_back(reader.response());
    if (s == http_read_status::error) o.error = true;
  }
  return o;
}

// What relay serve answers to a publish, and what Node's http module answers.
constexpr std::string_view kRelayOk =
    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 31\r\n\r\n"
    R"({"ok":true,"rooms":["bench"]}  )";
constexpr std::string_view kNodeOk =
    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 29\r\n"
    "Date: Wed, 02 Dec 2026 15:00:00 GMT\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\n\r\n"
    R"({"ok":true,"rooms":["bench"]})";

TEST(HttpResponseReader, ContentLengthInAnyChunking) {
  for (const std::string_view text : {kRelayOk, kNodeOk}) {
    for (size_t chunk : {0, 1, 2, 3, 7, 64}) {
      const outcome o = read_all(text, chunk);
      ASSERT_FALSE(o.error) << chunk;
      ASSERT_EQ(o.responses.size(), 1u) << chunk;
      EXPECT_EQ(o.responses[0].status, 200);
      EXPECT_TRUE(o.responses[0].keep_alive);
    }
  }
}

TEST(HttpResponseReader, BackToBackResponses) {
  const std::string text = std::string(kRelayOk) +
                           "HTTP/1.1 401 Unauthorized\r\nContent-Length: 2\r\n\r\n{}" +
                           std::string(kNodeOk);
  for (size_t chunk : {0, 1, 5, 100}) {
    const outcome o = read_all(text, chunk);
    ASSERT_FALSE(o.error);
    ASSERT_EQ(o.responses.size(), 3u) << chunk;
    EXPECT_EQ(o.responses[0].status, 200);
    EXPECT_EQ(o.responses[1].status, 401);
    EXPECT_EQ(o.responses[2].status, 200);
  }
}

TEST(HttpResponseReader, ChunkedWithExtensionsAndTrailers) {
  const std::string_view text =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
      "5;ext=1\r\nhello\r\nA\r\n0123456789\r\n0\r\nX-Trailer: 1\r\n\r\n"
      "HTTP/1.1 204 No Content\r\n\r\n";
  for (size_t chunk : {0, 1, 2, 3, 11}) {
    const outcome o = read_all(text, chunk);
    ASSERT_FALSE(o.error) << chunk;
    ASSERT_EQ(o.responses.size(), 2u) << chunk;
    EXPECT_EQ(o.responses[0].status, 200);
    EXPECT_EQ(o.responses[1].status, 204);
  }
}

TEST(HttpResponseReader, InformationalResponsesAreSkipped) {
  const outcome o =
      read_all("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 1);
  ASSERT_FALSE(o.error);
  ASSERT_EQ(o.responses.size(), 1u);
  EXPECT_EQ(o.responses[0].status, 200);
}

TEST(HttpResponseReader, Persistence) {
  auto keep = [](std::string_view text) {
    const outcome o = read_all(text);
    EXPECT_EQ(o.responses.size(), 1u) << text;
    return !o.responses.empty() && o.responses[0].keep_alive;
  };
  EXPECT_FALSE(keep("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"));
  EXPECT_FALSE(keep("HTTP/1.1 200 OK\r\nconnection: Upgrade, Close\r\ncontent-length: 0\r\n\r\n"));
  EXPECT_FALSE(keep("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n"));
  EXPECT_TRUE(keep("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n"));
  EXPECT_TRUE(keep("HTTP/1.1 200 OK\nContent-Length: 0\n\n"));  // bare LF (RFC 9112 §2.2)
}

TEST(HttpResponseReader, BodyUntilClose) {
  const std::string_view text = "HTTP/1.1 200 OK\r\n\r\nsome body";
  EXPECT_TRUE(read_all(text, 0, false).responses.empty());
  const outcome o = read_all(text, 3, true);
  ASSERT_FALSE(o.error);
  ASSERT_EQ(o.responses.size(), 1u);
  EXPECT_FALSE(o.responses[0].keep_alive);
}

TEST(HttpResponseReader, CutShortIsAnErrorAtEof) {
  EXPECT_TRUE(read_all("HTTP/1.1 200 OK\r\nContent-Len", 0, true).error);
  EXPECT_TRUE(read_all("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", 0, true).error);
  EXPECT_FALSE(read_all("", 0, true).error);  // an idle connection closed: nothing lost
}

TEST(HttpResponseReader, MalformedInput) {
  for (const std::string_view text : {
           "HTTP/2 200 OK\r\n\r\n",
           "HTTP/1.1 20 OK\r\n\r\n",
           "HTTP/1.1 2x0 OK\r\n\r\n",
           "HTTP/1.1 200OK\r\n\r\n",
           "garbage\r\n\r\n",
           "HTTP/1.1 200 OK\r\nno colon\r\n\r\n",
           "HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n",
           "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
           "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
           "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n",
       }) {
    EXPECT_TRUE(read_all(text).error) << text;
  }
  // A head that never ends is refused once it is over the limit.
  const std::string endless =
      "HTTP/1.1 200 OK\r\n" + std::string(http_response_reader::kMaxHead, 'a');
  EXPECT_TRUE(read_all(endless, 1000).error);
}

TEST(HttpResponseReader, ResetStartsOver) {
  http_response_reader reader;
  std::string_view half = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab";
  std::span<const uint8_t> in(reinterpret_cast<const uint8_t*>(half.data()), half.size());
  EXPECT_EQ(reader.feed(in), http_read_status::need_more);
  EXPECT_TRUE(reader.in_progress());
  reader.reset();
  EXPECT_FALSE(reader.in_progress());
  std::span<const uint8_t> ok(reinterpret_cast<const uint8_t*>(kRelayOk.data()), kRelayOk.size());
  EXPECT_EQ(reader.feed(ok), http_read_status::response);
  EXPECT_EQ(reader.response().status, 200);
}

}  // namespace
}  // namespace relay::bench
