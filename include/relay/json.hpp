#pragma once
// JSON values as Socket.IO carries them: JavaScript's JSON data model plus refcounted binary
// blobs (Socket.IO binary attachments, Node Buffers).
//
//   json::value v = 1;                                 // integer
//   json::value a = json::array{1, "two", nullptr};
//   json::value o = json::object{{"a", 1}, {"b", true}};
//   json::value b = json::binary({1, 2, 3});
//   o["c"] = a;                                        // appended: objects keep key order
//
// Nesting a one-element array needs a value() around the inner one: array{array{1}} is [[1]]
// with GCC but a copy, [1], with clang (which applies CWG 2137 to braced copies); write
// array{value(array{1})}.
//
// Objects are ordered vectors of members: key order is kept as inserted or parsed (as a JS
// object keeps its non-integer keys), lookups are linear, which suits the small objects of
// messages. Numbers are int64 when written without a fraction/exponent and in range, double
// otherwise; equality compares numbers by value (1 == 1.0), as JavaScript does. One difference
// from JavaScript remains: an integral double above 2^53 prints as digits that parse back as
// an exact int64, not as the same double (JS reads both as the same number).
//
// Strings hold UTF-8; parse() guarantees it, and serialize() copies other bytes as they are.
//
// A value is a plain value type: copies are deep except binary blobs, which are immutable and
// shared. Not synchronized; distinct values may be used from distinct threads.
#include <cassert>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <tl/expected.hpp>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace relay::json {

class value;
using array = std::vector<value>;
using member = std::pair<std::string, value>;
using object = std::vector<member>;
using binary_ptr = std::shared_ptr<const std::vector<uint8_t>>;

namespace detail {
// Integral types but bool, which has its own constructor.
template <class T>
concept integer = std::integral<T> && !std::same_as<T, bool>;
}  // namespace detail

// The order matches value's variant alternatives.
enum class value_type : uint8_t { null, boolean, integer, floating, string, array, object, binary };

class value {
 public:
  value() noexcept = default;
  value(std::nullptr_t) noexcept {}
  value(bool b) noexcept : v_(b) {}
  // Unsigned values above INT64_MAX become doubles (JavaScript has no wider integers).
  template <detail::integer I>
  value(I i) noexcept {
    if constexpr (std::is_unsigned_v<I> && sizeof(I) >= sizeof(int64_t)) {
      if (i > static_cast<I>(std::numeric_limits<int64_t>::max())) {
        v_ = static_cast<double>(i);
        return;
      }
    }
    v_ = static_cast<int64_t>(i);
  }
  template <std::floating_point F>
  value(F f) noexcept : v_(static_cast<double>(f)) {}
  value(const char* s) : v_(std::string(s)) {}
  value(std::string_view s) : v_(std::string(s)) {}
  value(std::string s) noexcept : v_(std::move(s)) {}
  value(array a) noexcept : v_(std::move(a)) {}
  value(object o) noexcept : v_(std::move(o)) {}
  // A null pointer becomes an empty blob, so a binary value always points somewhere.
  value(binary_ptr b);
  // Any other pointer would silently become a bool.
  template <class T>
  value(T*) = delete;

  value_type type() const noexcept { return static_cast<value_type>(v_.index()); }
  bool is_null() const noexcept { return type() == value_type::null; }
  bool is_bool() const noexcept { return type() == value_type::boolean; }
  bool is_int() const noexcept { return type() == value_type::integer; }
  bool is_double() const noexcept { return type() == value_type::floating; }
  bool is_number() const noexcept { return is_int() || is_double(); }
  bool is_string() const noexcept { return type() == value_type::string; }
  bool is_array() const noexcept { return type() == value_type::array; }
  bool is_object() const noexcept { return type() == value_type::object; }
  bool is_binary() const noexcept { return type() == value_type::binary; }

  // Preconditions (assert): the value has that type; as_double() accepts integers too.
  bool as_bool() const noexcept { return get<bool>(); }
  int64_t as_int() const noexcept { return get<int64_t>(); }
  double as_double() const noexcept {
    return is_int() ? static_cast<double>(get<int64_t>()) : get<double>();
  }
  const std::string& as_string() const noexcept { return get<std::string>(); }
  std::string& as_string() noexcept { return get<std::string>(); }
  const array& as_array() const noexcept { return get<array>(); }
  array& as_array() noexcept { return get<array>(); }
  const object& as_object() const noexcept { return get<object>(); }
  object& as_object() noexcept { return get<object>(); }
  const binary_ptr& as_binary() const noexcept { return get<binary_ptr>(); }

  // The member named key, or nullptr (also when this is not an object).
  const value* find(std::string_view key) const noexcept;
  value* find(std::string_view key) noexcept;
  // The member named key, appended as null if missing. A null value first becomes {}.
  value& operator[](std::string_view key);
  // Array element; precondition: is_array() and i < size().
  const value& operator[](size_t i) const noexcept { return as_array()[i]; }
  value& operator[](size_t i) noexcept { return as_array()[i]; }
  // Appends to an array. A null value first becomes [].
  void push_back(value v);

  // Elements of an array, members of an object, bytes of a string or blob; 0 otherwise.
  size_t size() const noexcept;
  // Is there a binary blob here or anywhere below?
  bool contains_binary() const noexcept;

  // Same type and contents; numbers compare by value across int/double (1 == 1.0); objects
  // compare member by member in order; blobs compare by content.
  friend bool operator==(const value& a, const value& b) noexcept;

 private:
  template <class T>
  const T& get() const noexcept {
    const T* p = std::get_if<T>(&v_);
    assert(p != nullptr && "json::value accessed as the wrong type");
    return *p;
  }
  template <class T>
  T& get() noexcept {
    T* p = std::get_if<T>(&v_);
    assert(p != nullptr && "json::value accessed as the wrong type");
    return *p;
  }
  using storage =
      std::variant<std::nullptr_t, bool, int64_t, double, std::string, array, object, binary_ptr>;
  storage v_;
};

// A blob value: json::binary({1, 2, 3}).
value binary(std::vector<uint8_t> bytes);

// ---- parsing -------------------------------------------------------------------------------

enum class parse_errc : uint8_t {
  too_large = 1,     // text longer than parse_options::max_size
  too_deep,          // arrays/objects nested deeper than parse_options::max_depth
  invalid_utf8,      // the text is not valid UTF-8
  empty,             // no value (empty or whitespace only)
  syntax,            // not JSON: bad token, missing comma/colon/bracket, unescaped control char
  invalid_string,    // bad escape, or a \u escape that is a lone surrogate (not UTF-8-encodable)
  invalid_number,    // malformed number, or one beyond the range of a double (1e400)
  trailing_content,  // something after the value other than whitespace
  out_of_memory,
};

struct parse_error {
  parse_errc code;
  std::string_view message;  // static text for logs
};

struct parse_options {
  // Deepest nesting of arrays/objects: 0 allows only a scalar, 1 allows [1] but not [[1]].
  // Values above 256 count as 256 (the parser recurses once per level).
  uint32_t max_depth = 32;
  size_t max_size = size_t{16} << 20;
};

// RFC 8259 JSON text to a value, as JSON.parse does, with these differences: a lone surrogate
// escape (\ud800) and numbers beyond double range are rejected instead of becoming a broken
// string or Infinity. A duplicate key keeps its first position and takes the last value (as
// JSON.parse). Integers that fit int64 become integers, all other numbers doubles.
// One pass straight into the value (UTF-8 checked first, with simdjson's validator); a per-thread
// element stack is reused, so parsing allocates little besides the value itself. Thread-safe;
// never throws except std::bad_alloc from building the value.
tl::expected<value, parse_error> parse(std::string_view text, parse_options options = {});

const std::error_category& parse_category() noexcept;
std::error_code make_error_code(parse_errc e) noexcept;
// Short static text for logs, e.g. "JSON nested too deeply".
std::string_view describe(parse_errc e) noexcept;

// ---- serialization -------------------------------------------------------------------------

// Appends the compact JSON text of v to out, byte-identical to JavaScript's JSON.stringify of
// the same value: strings escaped as JSON.stringify escapes them (non-ASCII and '/' raw),
// doubles as Number::toString (NaN and infinities as null, -0 as 0), integers in full (JS would
// round those beyond 2^53). A blob is written as Node writes a Buffer:
// {"type":"Buffer","data":[1,2,3]}.
void serialize(const value& v, std::string& out);
std::string to_string(const value& v);

// As serialize(), but each blob, in depth-first order, is appended to attachments and written
// as {"_placeholder":true,"num":N}, N being its index in attachments (socket.io-parser's
// deconstructPacket).
void serialize_with_placeholders(const value& v, std::string& out,
                                 std::vector<binary_ptr>& attachments);

}  // namespace relay::json

template <>
struct std::is_error_code_enum<relay::json::parse_errc> : std::true_type {};
