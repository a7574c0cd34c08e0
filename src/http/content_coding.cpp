#include "http/content_coding.hpp"

#include <zlib.h>

#include "http/request.hpp"

namespace relay::http {
namespace {

// The weight of one element's parameters ("q=0.5"), in thousandths; 1000 without one, -1 if
// malformed (the element is then ignored).
int weight(std::string_view params) noexcept {
  int q = 1000;
  while (!params.empty()) {
    const size_t semi = params.find(';');
    const std::string_view p = trim_ows(params.substr(0, semi));
    params = semi == std::string_view::npos ? std::string_view() : params.substr(semi + 1);
    if (p.size() < 2 || (p[0] != 'q' && p[0] != 'Q') || p[1] != '=') continue;
    const std::string_view v = trim_ows(p.substr(2));
    // qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
    if (v.empty() || (v[0] != '0' && v[0] != '1')) return -1;
    int thousandths = (v[0] - '0') * 1000;
    if (v.size() > 1) {
      if (v[1] != '.' || v.size() > 5) return -1;
      int scale = 100;
      for (size_t i = 2; i < v.size(); ++i, scale /= 10) {
        if (v[i] < '0' || v[i] > '9') return -1;
        thousandths += (v[i] - '0') * scale;
      }
    }
    if (thousandths > 1000) return -1;
    q = thousandths;
  }
  return q;
}

}  // namespace

content_coding choose_coding(std::string_view accept_encoding) noexcept {
  int gzip = -1, deflate = -1, any = -1;
  while (!accept_encoding.empty()) {
    const size_t comma = accept_encoding.find(',');
    std::string_view element = accept_encoding.substr(0, comma);
    accept_encoding =
        comma == std::string_view::npos ? std::string_view() : accept_encoding.substr(comma + 1);
    const size_t semi = element.find(';');
    const std::string_view coding = trim_ows(element.substr(0, semi));
    const int q =
        weight(semi == std::string_view::npos ? std::string_view() : element.substr(semi + 1));
    if (q < 0) continue;
    if (iequals(coding, "gzip") || iequals(coding, "x-gzip")) {
      gzip = q;
    } else if (iequals(coding, "deflate")) {
      deflate = q;
    } else if (coding == "*") {
      any = q;
    }
  }
  if (gzip < 0) gzip = any;
  if (deflate < 0) deflate = any;
  if (gzip <= 0 && deflate <= 0) return content_coding::identity;
  return gzip >= deflate ? content_coding::gzip : content_coding::deflate;
}

std::string_view coding_name(content_coding c) noexcept {
  switch (c) {
    case content_coding::gzip:
      return "gzip";
    case content_coding::deflate:
      return "deflate";
    case content_coding::identity:
      break;
  }
  return {};
}

bool compress_body(std::string_view body, content_coding c, int level, std::string& out) {
  if (c == content_coding::identity) {
    out.append(body);
    return true;
  }
  z_stream z{};
  // windowBits 15 writes the zlib wrapper; +16 writes a gzip one instead.
  const int window_bits = c == content_coding::gzip ? 15 + 16 : 15;
  if (deflateInit2(&z, level, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return false;
  }
  const size_t start = out.size();
  out.resize(start + deflateBound(&z, static_cast<uLong>(body.size())));
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(body.data()));
  z.avail_in = static_cast<uInt>(body.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data() + start);
  z.avail_out = static_cast<uInt>(out.size() - start);
  const int r = deflate(&z, Z_FINISH);  // deflateBound's room always suffices for one call
  const size_t written = z.total_out;
  deflateEnd(&z);
  if (r != Z_STREAM_END) {
    out.resize(start);
    return false;
  }
  out.resize(start + written);
  return true;
}

}  // namespace relay::http
