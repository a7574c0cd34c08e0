// JSON text to json::value in one pass: recursive descent straight into the value, plain string
// runs skipped 8 bytes at a time. Socket.IO messages are mostly tens to hundreds of bytes; for
// them simdjson's two stages (a padded copy, a structural index, then On-Demand iteration) cost
// more than the whole of this. simdjson still validates the UTF-8 up front (vectorized, runtime
// dispatched) and is the fuzz target's reference parser.
#include <simdjson.h>

#include <algorithm>
#include <cstring>
#include <iterator>
#include <string>
#include <string_view>
#include <unordered_map>

#include "json/number_parse.hpp"
#include "json/string_scan.hpp"
#include "relay/json.hpp"

namespace relay::json {
namespace {

// Recursion depth bound: a loop thread's stack must hold it even with sanitizer-sized frames.
constexpr uint32_t kMaxDepthCap = 256;
// An object this large switches duplicate-key detection from a scan to a hash map.
constexpr size_t kLinearKeyScan = 16;
// Elements kept on a thread's parse stack between calls, at most.
constexpr size_t kRetainedStack = 4096;
// More integer digits than this may not fit an int64: checked the slow way.
constexpr size_t kSafeIntegerDigits = 18;

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
bool is_space(char c) noexcept { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

// Most messages are ASCII, which is valid UTF-8: checked 8 bytes at a time inline, short texts
// skip the call into the vectorized validator (and its dispatch).
bool is_ascii(std::string_view text) noexcept {
  size_t i = 0;
  uint64_t any = 0;
  for (; i + 8 <= text.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, text.data() + i, 8);
    any |= w;
  }
  for (; i < text.size(); ++i) any |= static_cast<uint8_t>(text[i]);
  return (any & 0x8080808080808080ULL) == 0;
}

// JSON.parse semantics for duplicate keys: the first position, the last value. Small objects
// are scanned; large ones get a hash index so a hostile object cannot cost O(n^2).
class member_index {
 public:
  void add(object& members, std::string&& key, value&& v) {
    if (members.size() < kLinearKeyScan) {
      for (member& m : members) {
        if (m.first == key) {
          m.second = std::move(v);
          return;
        }
      }
    } else {
      if (by_key_.empty()) {
        for (size_t i = 0; i < members.size(); ++i) by_key_.emplace(members[i].first, i);
      }
      const auto [it, inserted] = by_key_.emplace(key, members.size());
      if (!inserted) {
        members[it->second].second = std::move(v);
        return;
      }
    }
    members.emplace_back(std::move(key), std::move(v));
  }

 private:
  std::unordered_map<std::string, size_t> by_key_;
};

// A \uXXXX escape's four hex digits, or -1.
int hex4(const char* p) noexcept {
  int v = 0;
  for (int i = 0; i < 4; ++i) {
    const char c = p[i];
    int d;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      d = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      d = c - 'A' + 10;
    } else {
      return -1;
    }
    v = (v << 4) | d;
  }
  return v;
}

void append_utf8(uint32_t cp, std::string& out) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// The text is valid UTF-8 (checked first), so only ASCII bytes steer the parser.
class parser {
 public:
  parser(std::string_view text, uint32_t max_depth, array& stack)
      : p_(text.data()),
        end_(text.data() + text.size()),
        max_depth_(std::min(max_depth, kMaxDepthCap)),
        stack_(stack) {}

  parse_errc error() const noexcept { return error_; }

  bool document(value& out) {
    skip_space();
    if (p_ == end_) return fail(parse_errc::empty);
    if (!parse_value(out, 0)) return false;
    skip_space();
    return p_ == end_ || fail(parse_errc::trailing_content);
  }

 private:
  bool fail(parse_errc e) noexcept {
    error_ = e;
    return false;
  }

  void skip_space() noexcept {
    while (p_ != end_ && is_space(*p_)) ++p_;
  }

  // At a non-space byte before the end.
  bool parse_value(value& out, uint32_t depth) {
    switch (*p_) {
      case '[':
        return parse_array(out, depth);
      case '{':
        return parse_object(out, depth);
      case '"': {
        std::string s;
        if (!parse_string(s)) return false;
        out = std::move(s);
        return true;
      }
      case 't':
        return literal("true", out, value(true));
      case 'f':
        return literal("false", out, value(false));
      case 'n':
        return literal("null", out, value(nullptr));
      default:
        if (*p_ == '-' || is_digit(*p_)) return parse_number(out);
        return fail(parse_errc::syntax);
    }
  }

  bool literal(std::string_view word, value& out, value v) {
    if (static_cast<size_t>(end_ - p_) < word.size() ||
        std::memcmp(p_, word.data(), word.size()) != 0) {
      return fail(parse_errc::syntax);
    }
    p_ += word.size();
    out = std::move(v);
    return true;
  }

  // Elements collect on the parser's stack, then move into an array allocated once at its
  // final size (growing each array element by element would reallocate it log(n) times).
  bool parse_array(value& out, uint32_t depth) {
    if (depth >= max_depth_) return fail(parse_errc::too_deep);
    ++p_;  // '['
    skip_space();
    if (p_ != end_ && *p_ == ']') {
      ++p_;
      out = array();
      return true;
    }
    const size_t base = stack_.size();
    while (true) {
      if (p_ == end_) return fail(parse_errc::syntax);
      // Parsed aside, then pushed: a nested array grows the stack, which would leave a
      // reference into it dangling.
      value element;
      if (!parse_value(element, depth + 1)) return false;
      stack_.push_back(std::move(element));
      skip_space();
      if (p_ == end_) return fail(parse_errc::syntax);
      const char c = *p_++;
      if (c == ']') break;
      if (c != ',') return fail(parse_errc::syntax);
      skip_space();
    }
    const auto first = stack_.begin() + static_cast<std::ptrdiff_t>(base);
    out = array(std::make_move_iterator(first), std::make_move_iterator(stack_.end()));
    stack_.erase(first, stack_.end());
    return true;
  }

  bool parse_object(value& out, uint32_t depth) {
    if (depth >= max_depth_) return fail(parse_errc::too_deep);
    ++p_;  // '{'
    object members;
    member_index index;
    skip_space();
    if (p_ != end_ && *p_ == '}') {
      ++p_;
      out = std::move(members);
      return true;
    }
    while (true) {
      if (p_ == end_ || *p_ != '"') return fail(parse_errc::syntax);
      std::string key;
      if (!parse_string(key)) return false;
      skip_space();
      if (p_ == end_ || *p_ != ':') return fail(parse_errc::syntax);
      ++p_;
      skip_space();
      if (p_ == end_) return fail(parse_errc::syntax);
      value child;
      if (!parse_value(child, depth + 1)) return false;
      index.add(members, std::move(key), std::move(child));
      skip_space();
      if (p_ == end_) return fail(parse_errc::syntax);
      const char c = *p_++;
      if (c == '}') break;
      if (c != ',') return fail(parse_errc::syntax);
      skip_space();
    }
    out = std::move(members);
    return true;
  }

  // At the opening quote.
  bool parse_string(std::string& out) {
    const char* run = ++p_;  // start of the bytes copied as they are
    while (true) {
      while (end_ - p_ >= 8) {
        uint64_t w;
        std::memcpy(&w, p_, 8);
        if (detail::word_needs_escape(w)) break;
        p_ += 8;
      }
      while (p_ != end_ && static_cast<uint8_t>(*p_) >= 0x20 && *p_ != '"' && *p_ != '\\') ++p_;
      if (p_ == end_) return fail(parse_errc::syntax);  // unterminated
      const char c = *p_;
      if (c == '"') {
        out.append(run, static_cast<size_t>(p_ - run));
        ++p_;
        return true;
      }
      if (c != '\\') return fail(parse_errc::syntax);  // a raw control character
      out.append(run, static_cast<size_t>(p_ - run));
      if (!parse_escape(out)) return false;
      run = p_;
    }
  }

  // At the backslash.
  bool parse_escape(std::string& out) {
    if (end_ - p_ < 2) return fail(parse_errc::syntax);
    const char e = p_[1];
    p_ += 2;
    switch (e) {
      case '"':
      case '\\':
      case '/':
        out += e;
        return true;
      case 'b':
        out += '\b';
        return true;
      case 'f':
        out += '\f';
        return true;
      case 'n':
        out += '\n';
        return true;
      case 'r':
        out += '\r';
        return true;
      case 't':
        out += '\t';
        return true;
      case 'u':
        break;
      default:
        return fail(parse_errc::invalid_string);
    }
    if (end_ - p_ < 4) return fail(parse_errc::invalid_string);
    const int unit = hex4(p_);
    if (unit < 0) return fail(parse_errc::invalid_string);
    p_ += 4;
    uint32_t cp = static_cast<uint32_t>(unit);
    if (cp >= 0xDC00 && cp <= 0xDFFF) return fail(parse_errc::invalid_string);  // lone low half
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      // A high surrogate must be followed by an escaped low one: UTF-8 cannot hold it alone.
      if (end_ - p_ < 6 || p_[0] != '\\' || p_[1] != 'u') return fail(parse_errc::invalid_string);
      const int low = hex4(p_ + 2);
      if (low < 0xDC00 || low > 0xDFFF) return fail(parse_errc::invalid_string);
      p_ += 6;
      cp = 0x10000 + ((cp - 0xD800) << 10) + (static_cast<uint32_t>(low) - 0xDC00);
    }
    append_utf8(cp, out);
    return true;
  }

  // RFC 8259 §6: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
  bool parse_number(value& out) {
    const char* const start = p_;
    if (*p_ == '-') ++p_;
    const char* const digits = p_;
    if (p_ == end_ || !is_digit(*p_)) return fail(parse_errc::invalid_number);
    if (*p_ == '0') {
      ++p_;
    } else {
      while (p_ != end_ && is_digit(*p_)) ++p_;
    }
    const size_t int_digits = static_cast<size_t>(p_ - digits);
    bool integral = true;
    if (p_ != end_ && *p_ == '.') {
      integral = false;
      ++p_;
      if (p_ == end_ || !is_digit(*p_)) return fail(parse_errc::invalid_number);
      while (p_ != end_ && is_digit(*p_)) ++p_;
    }
    if (p_ != end_ && (*p_ == 'e' || *p_ == 'E')) {
      integral = false;
      ++p_;
      if (p_ != end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (p_ == end_ || !is_digit(*p_)) return fail(parse_errc::invalid_number);
      while (p_ != end_ && is_digit(*p_)) ++p_;
    }
    // A number runs to a delimiter: "01", "1x" or "1.5.2" is one bad number, not a number and
    // something else.
    if (p_ != end_ && !is_space(*p_) && *p_ != ',' && *p_ != ']' && *p_ != '}' && *p_ != ':') {
      return fail(parse_errc::invalid_number);
    }
    const bool negative = *start == '-';
    if (integral && int_digits <= kSafeIntegerDigits) {
      int64_t v = 0;
      for (const char* d = digits; d != p_; ++d) v = v * 10 + (*d - '0');
      out = negative ? -v : v;
      return true;
    }
    if (integral) {
      // 19 digits or more: exact if within int64, else a double, as JavaScript reads it.
      uint64_t v = 0;
      bool fits = int_digits <= 19;
      for (const char* d = digits; fits && d != p_; ++d) {
        const auto digit = static_cast<uint64_t>(*d - '0');
        if (v > (UINT64_MAX - digit) / 10) fits = false;
        v = v * 10 + digit;
      }
      constexpr uint64_t kMaxPositive = static_cast<uint64_t>(INT64_MAX);
      if (fits && (negative ? v <= kMaxPositive + 1 : v <= kMaxPositive)) {
        out = negative ? static_cast<int64_t>(0 - v) : static_cast<int64_t>(v);
        return true;
      }
    }
    const std::optional<double> d =
        parse_number_token(std::string_view(start, static_cast<size_t>(p_ - start)));
    if (!d) return fail(parse_errc::invalid_number);  // beyond double range: JS's Infinity
    out = *d;
    return true;
  }

  const char* p_;
  const char* const end_;
  const uint32_t max_depth_;
  array& stack_;  // elements of the arrays being parsed, innermost last
  parse_errc error_ = parse_errc::syntax;
};

}  // namespace

tl::expected<value, parse_error> parse(std::string_view text, parse_options options) {
  auto failed = [](parse_errc e) { return tl::unexpected(parse_error{e, describe(e)}); };
  if (text.size() > options.max_size) return failed(parse_errc::too_large);
  if (!is_ascii(text) && !simdjson::validate_utf8(text.data(), text.size())) {
    return failed(parse_errc::invalid_utf8);
  }
  // One element stack per thread, kept between calls (emptied, and given back after a huge
  // document), so that parsing allocates only the value itself.
  thread_local array stack;
  value out;
  parser p(text, options.max_depth, stack);
  const bool ok = p.document(out);
  stack.clear();
  if (stack.capacity() > kRetainedStack) array().swap(stack);
  if (!ok) return failed(p.error());
  return out;
}

}  // namespace relay::json
