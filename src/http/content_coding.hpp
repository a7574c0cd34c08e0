#pragma once
// HTTP response compression (RFC 9110 §8.4, §12.5.3): which coding a request's
// Accept-Encoding allows, and gzip / deflate bodies made with zlib. Used for Engine.IO
// long-polling responses, which the Node server compresses the same way (httpCompression).
#include <cstdint>
#include <string>
#include <string_view>

namespace relay::http {

enum class content_coding : uint8_t { identity, gzip, deflate };

// The coding to answer with, of gzip and deflate: the one the client weights highest (q), gzip
// on a tie, as the Node server's accepts(req).encodings(["gzip", "deflate"]); identity when
// the header is absent, allows neither, or gives both q=0. "*" stands for any coding not named.
content_coding choose_coding(std::string_view accept_encoding) noexcept;

// "gzip" / "deflate" for the Content-Encoding header; empty for identity.
std::string_view coding_name(content_coding c) noexcept;

// Appends body compressed with c (gzip: RFC 1952; deflate: the zlib format of RFC 1950, which is
// what HTTP's "deflate" means) to out. level is zlib's (1 fastest .. 9 smallest). False (out
// unchanged) if zlib fails, which only running out of memory can cause.
bool compress_body(std::string_view body, content_coding c, int level, std::string& out);

}  // namespace relay::http
