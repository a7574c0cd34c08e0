// JSON.stringify's output format (ECMA-262 §25.5.2.2 SerializeJSONProperty and friends).
#include <array>
#include <cstdint>
#include <cstring>

#include "json/number_format.hpp"
#include "json/string_scan.hpp"
#include "relay/json.hpp"

namespace relay::json {
namespace {

// Per byte: 0 = copy as is, 'u' = \u00XX, else the character after the backslash
// (QuoteJSONString's table; everything >= 0x20 but '"' and '\' is copied, UTF-8 included).
constexpr std::array<char, 256> kEscape = [] {
  std::array<char, 256> t{};
  for (int c = 0; c < 0x20; ++c) t[c] = 'u';
  t['\b'] = 'b';
  t['\t'] = 't';
  t['\n'] = 'n';
  t['\f'] = 'f';
  t['\r'] = 'r';
  t['"'] = '"';
  t['\\'] = '\\';
  return t;
}();

void append_string(std::string_view s, std::string& out) {
  out += '"';
  size_t run = 0;  // start of the pending run of bytes copied as they are
  for (size_t i = 0; i < s.size(); ++i) {
    // Most strings need no escape at all: look 8 bytes at a time while that holds.
    while (i + 8 <= s.size()) {
      uint64_t w;
      std::memcpy(&w, s.data() + i, 8);
      if (detail::word_needs_escape(w)) break;
      i += 8;
    }
    if (i == s.size()) break;
    const char esc = kEscape[static_cast<uint8_t>(s[i])];
    if (esc == 0) continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    out += '\\';
    out += esc;
    if (esc == 'u') {
      constexpr char kHex[] = "0123456789abcdef";  // JSON.stringify writes lowercase
      const auto c = static_cast<uint8_t>(s[i]);
      out += "00";
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  }
  out.append(s.data() + run, s.size() - run);
  out += '"';
}

class writer {
 public:
  writer(std::string& out, std::vector<binary_ptr>* attachments)
      : out_(out), attachments_(attachments) {}

  void write(const value& v) {
    switch (v.type()) {
      case value_type::null:
        out_ += "null";
        return;
      case value_type::boolean:
        out_ += v.as_bool() ? "true" : "false";
        return;
      case value_type::integer:
        append_int(v.as_int(), out_);
        return;
      case value_type::floating:
        append_double(v.as_double(), out_);
        return;
      case value_type::string:
        append_string(v.as_string(), out_);
        return;
      case value_type::array:
        write_array(v.as_array());
        return;
      case value_type::object:
        write_object(v.as_object());
        return;
      case value_type::binary:
        write_binary(v.as_binary());
        return;
    }
  }

 private:
  void write_array(const array& a) {
    out_ += '[';
    for (size_t i = 0; i < a.size(); ++i) {
      if (i != 0) out_ += ',';
      write(a[i]);
    }
    out_ += ']';
  }

  void write_object(const object& o) {
    out_ += '{';
    for (size_t i = 0; i < o.size(); ++i) {
      if (i != 0) out_ += ',';
      append_string(o[i].first, out_);
      out_ += ':';
      write(o[i].second);
    }
    out_ += '}';
  }

  void write_binary(const binary_ptr& b) {
    if (attachments_ != nullptr) {
      // socket.io-parser's deconstructPacket: the blob travels as its own message.
      out_ += R"({"_placeholder":true,"num":)";
      append_int(static_cast<int64_t>(attachments_->size()), out_);
      out_ += '}';
      attachments_->push_back(b);
      return;
    }
    // Buffer.prototype.toJSON.
    out_ += R"({"type":"Buffer","data":[)";
    for (size_t i = 0; i < b->size(); ++i) {
      if (i != 0) out_ += ',';
      append_int((*b)[i], out_);
    }
    out_ += "]}";
  }

  std::string& out_;
  std::vector<binary_ptr>* attachments_;
};

}  // namespace

void serialize(const value& v, std::string& out) { writer(out, nullptr).write(v); }

std::string to_string(const value& v) {
  std::string out;
  serialize(v, out);
  return out;
}

void serialize_with_placeholders(const value& v, std::string& out,
                                 std::vector<binary_ptr>& attachments) {
  writer(out, &attachments).write(v);
}

}  // namespace relay::json
