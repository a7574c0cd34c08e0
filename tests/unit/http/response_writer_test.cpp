#include "http/response_writer.hpp"

#include <gtest/gtest.h>

#include <string>

#include "http/status.hpp"

namespace relay::http {
namespace {

TEST(ReasonPhrase, EveryStatus) {
  const std::pair<status, std::string_view> expected[] = {
      {status::switching_protocols, "Switching Protocols"},
      {status::ok, "OK"},
      {status::no_content, "No Content"},
      {status::bad_request, "Bad Request"},
      {status::unauthorized, "Unauthorized"},
      {status::forbidden, "Forbidden"},
      {status::not_found, "Not Found"},
      {status::method_not_allowed, "Method Not Allowed"},
      {status::request_timeout, "Request Timeout"},
      {status::payload_too_large, "Payload Too Large"},
      {status::upgrade_required, "Upgrade Required"},
      {status::too_many_requests, "Too Many Requests"},
      {status::request_header_fields_too_large, "Request Header Fields Too Large"},
      {status::internal_server_error, "Internal Server Error"},
      {status::not_implemented, "Not Implemented"},
      {status::service_unavailable, "Service Unavailable"},
      {status::http_version_not_supported, "HTTP Version Not Supported"},
  };
  for (const auto& [s, phrase] : expected) {
    EXPECT_EQ(reason_phrase(s), phrase) << static_cast<int>(s);
  }
  EXPECT_EQ(reason_phrase(static_cast<status>(299)), "Unknown");
  EXPECT_EQ(reason_phrase(static_cast<status>(0)), "Unknown");
}

TEST(MakeResponse, WithBody) {
  EXPECT_EQ(make_response(status::ok, "text/plain", "hi", keep_alive::yes),
            "HTTP/1.1 200 OK\r\n"
            "Content-Type: text/plain\r\n"
            "Content-Length: 2\r\n"
            "\r\n"
            "hi");
}

TEST(MakeResponse, CloseAndExtraHeaders) {
  EXPECT_EQ(make_response(status::not_found, "application/json", "{}", keep_alive::no,
                          "Cache-Control: no-store\r\nX-A: b\r\n"),
            "HTTP/1.1 404 Not Found\r\n"
            "Cache-Control: no-store\r\n"
            "X-A: b\r\n"
            "Content-Type: application/json\r\n"
            "Content-Length: 2\r\n"
            "Connection: close\r\n"
            "\r\n"
            "{}");
}

TEST(MakeResponse, EmptyBodyStillHasContentLength) {
  // Without it a keep-alive client cannot find the end of the response.
  EXPECT_EQ(make_response(status::ok, "text/plain", "", keep_alive::yes),
            "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(make_response(status::ok, "", "x", keep_alive::yes),
            "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx");
}

TEST(MakeResponse, NoContentLengthFor1xxAnd204) {
  // RFC 9110 §8.6: MUST NOT send Content-Length in 1xx or 204; they have no content.
  EXPECT_EQ(make_response(status::switching_protocols, "", "", keep_alive::yes,
                          "Upgrade: websocket\r\nConnection: Upgrade\r\n"),
            "HTTP/1.1 101 Switching Protocols\r\n"
            "Upgrade: websocket\r\n"
            "Connection: Upgrade\r\n"
            "\r\n");
  EXPECT_EQ(make_response(status::no_content, "text/plain", "dropped", keep_alive::no),
            "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n");
}

TEST(MakeResponse, LargeBody) {
  const std::string body(123456, 'b');
  const std::string r =
      make_response(status::ok, "application/octet-stream", body, keep_alive::yes);
  EXPECT_NE(r.find("\r\nContent-Length: 123456\r\n"), std::string::npos);
  EXPECT_EQ(r.substr(r.size() - body.size()), body);
}

TEST(MakeErrorResponse, ClosesAndNamesTheError) {
  EXPECT_EQ(make_error_response(status::payload_too_large),
            "HTTP/1.1 413 Payload Too Large\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "Content-Length: 22\r\n"
            "Connection: close\r\n"
            "\r\n"
            "413 Payload Too Large\n");
  EXPECT_EQ(make_error_response(status::too_many_requests, "Retry-After: 5\r\n"),
            "HTTP/1.1 429 Too Many Requests\r\n"
            "Retry-After: 5\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "Content-Length: 22\r\n"
            "Connection: close\r\n"
            "\r\n"
            "429 Too Many Requests\n");
}

TEST(MakeErrorResponse, EveryErrorStatus) {
  for (status s : {status::bad_request, status::request_timeout, status::payload_too_large,
                   status::request_header_fields_too_large, status::not_implemented,
                   status::http_version_not_supported, status::internal_server_error}) {
    const std::string r = make_error_response(s);
    const std::string code = std::to_string(static_cast<int>(s));
    const std::string body = code + " " + std::string(reason_phrase(s)) + "\n";
    EXPECT_EQ(r.rfind("HTTP/1.1 " + code + " ", 0), 0u) << r;
    EXPECT_NE(r.find("\r\nConnection: close\r\n"), std::string::npos);
    EXPECT_NE(r.find("\r\nContent-Length: " + std::to_string(body.size()) + "\r\n"),
              std::string::npos);
    EXPECT_EQ(r.substr(r.size() - body.size()), body);
  }
}

}  // namespace
}  // namespace relay::http
