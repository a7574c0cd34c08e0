#pragma once
// Base64 (RFC 4648 §4, standard alphabet, '=' padding) for the "b<base64>" binary packets of
// long-polling payloads, and the URL-safe alphabet (§5) for session ids. No allocation apart
// from growing the output string; no locale, no exceptions except std::bad_alloc from the
// std::string overloads.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace relay::engineio {

enum class base64_alphabet : uint8_t {
  standard,  // RFC 4648 §4: A-Z a-z 0-9 + /
  url,       // RFC 4648 §5: A-Z a-z 0-9 - _
};

// Whether the decoder tolerates CR and LF anywhere in its input. The official Java client
// (engine.io-client-java) encodes binary packets with Android's Base64 DEFAULT flags, which
// wrap lines every 76 characters and end with '\n'; Node's decoder skips them too.
enum class base64_line_breaks : uint8_t { reject, skip };

constexpr size_t base64_encoded_size(size_t n) noexcept { return (n + 2) / 3 * 4; }

// Upper bound of the bytes that decoding `encoded_len` characters can produce.
constexpr size_t base64_max_decoded_size(size_t encoded_len) noexcept {
  return encoded_len / 4 * 3;
}

// Writes exactly base64_encoded_size(in.size()) characters, padded with '=', at out; returns
// the end of what it wrote.
char* base64_encode(std::string_view in, char* out,
                    base64_alphabet alphabet = base64_alphabet::standard) noexcept;

// Appends the encoding of `in` to out.
void base64_encode(std::string_view in, std::string& out,
                   base64_alphabet alphabet = base64_alphabet::standard);

// Strict decoding of the standard alphabet: the input (line breaks aside, if skipped) must be
// whole 4-character groups of alphabet characters, with '=' only as the last one or two
// characters of the last group and the unused bits before the padding zero (RFC 4648 §3.5), so
// every byte string has exactly one accepted encoding. The empty string decodes to nothing.
// Writes at most base64_max_decoded_size(in.size()) bytes at out and returns how many, or
// nullopt (out's contents are then unspecified).
std::optional<size_t> base64_decode(
    std::string_view in, char* out,
    base64_line_breaks breaks = base64_line_breaks::reject) noexcept;

// Appends the decoding of `in` to out. On failure returns false and leaves out as it was.
[[nodiscard]] bool base64_decode(std::string_view in, std::string& out,
                                 base64_line_breaks breaks = base64_line_breaks::reject);

}  // namespace relay::engineio
