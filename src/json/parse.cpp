// JSON text to json::value with simdjson's On-Demand API, consuming every value so the whole
// document is validated (On-Demand only checks what it is asked to read).
#include <simdjson.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "json/number_parse.hpp"
#include "relay/json.hpp"

namespace relay::json {
namespace {

namespace od = simdjson::ondemand;

// Documents up to this size reuse a per-thread parser and input buffer; larger ones get
// temporary ones, so a thread keeps at most a few MiB after one huge message.
constexpr size_t kRetainedSize = size_t{1} << 20;
// simdjson 3.0.1 On-Demand does not enforce a depth limit itself (its parser holds 1024 levels
// and the "[...]" wrapper takes one): deeper limits are clamped to this.
// Recursion depth bound: a loop thread's stack must hold it even with sanitizer-sized frames.
constexpr uint32_t kMaxDepthCap = 256;
// An object this large switches duplicate-key detection from a scan to a hash map.
constexpr size_t kLinearKeyScan = 16;

parse_error error_from(simdjson::error_code e) noexcept {
  parse_errc code = parse_errc::syntax;
  switch (e) {
    case simdjson::CAPACITY:
      code = parse_errc::too_large;
      break;
    case simdjson::DEPTH_ERROR:
      code = parse_errc::too_deep;
      break;
    case simdjson::UTF8_ERROR:
      code = parse_errc::invalid_utf8;
      break;
    case simdjson::EMPTY:
      code = parse_errc::empty;
      break;
    case simdjson::STRING_ERROR:
      code = parse_errc::invalid_string;
      break;
    case simdjson::NUMBER_ERROR:
    case simdjson::NUMBER_OUT_OF_RANGE:
      code = parse_errc::invalid_number;
      break;
    case simdjson::TRAILING_CONTENT:
      code = parse_errc::trailing_content;
      break;
    case simdjson::MEMALLOC:
      code = parse_errc::out_of_memory;
      break;
    default:  // TAPE_ERROR, *_ATOM_ERROR, UNCLOSED_STRING, INCOMPLETE_ARRAY_OR_OBJECT, ...
      break;
  }
  return {code, simdjson::error_message(e)};
}

// JSON.parse semantics for duplicate keys: the first position, the last value. Small objects
// are scanned; large ones get a hash index so a hostile object cannot cost O(n^2).
class member_index {
 public:
  void add(object& members, std::string_view key, value v) {
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
    members.emplace_back(std::string(key), std::move(v));
  }

 private:
  std::unordered_map<std::string, size_t> by_key_;
};

class builder {
 public:
  explicit builder(uint32_t max_depth) : max_depth_(std::min(max_depth, kMaxDepthCap)) {}

  // Node is od::document (the root) or od::value: they share the accessors used here.
  template <class Node>
  simdjson::error_code build(Node& node, value& out, uint32_t depth) {
    od::json_type type;
    if (auto e = node.type().get(type)) return e;
    switch (type) {
      case od::json_type::array:
        return build_array(node, out, depth);
      case od::json_type::object:
        return build_object(node, out, depth);
      case od::json_type::number: {
        // Integers that fit int64 stay exact; everything else (fractions, exponents, huge
        // integers) is a double, as JavaScript reads every number.
        int64_t i;
        if (node.get_int64().get(i) == simdjson::SUCCESS) {
          out = i;
          return simdjson::SUCCESS;
        }
        double d;
        if (auto e = node.get_double().get(d)) {
          if (e != simdjson::NUMBER_ERROR) return e;
          // Valid JSON that simdjson refuses (long zero-padded exponents): read the token
          // ourselves; the array or object iterator skips it afterwards.
          const std::optional<double> fallback = parse_number_token(node.raw_json_token());
          if (!fallback) return e;
          d = *fallback;
        }
        out = d;
        return simdjson::SUCCESS;
      }
      case od::json_type::string: {
        std::string_view s;
        if (auto e = node.get_string().get(s)) return e;
        out = s;
        return simdjson::SUCCESS;
      }
      case od::json_type::boolean: {
        bool b;
        if (auto e = node.get_bool().get(b)) return e;
        out = b;
        return simdjson::SUCCESS;
      }
      case od::json_type::null: {
        bool is_null;
        if (auto e = node.is_null().get(is_null)) return e;
        if (!is_null) return simdjson::N_ATOM_ERROR;
        out = nullptr;
        return simdjson::SUCCESS;
      }
    }
    return simdjson::TAPE_ERROR;
  }

 private:
  template <class Node>
  simdjson::error_code build_array(Node& node, value& out, uint32_t depth) {
    if (depth >= max_depth_) return simdjson::DEPTH_ERROR;
    od::array a;
    if (auto e = node.get_array().get(a)) return e;
    array items;
    for (auto element : a) {
      od::value v;
      if (auto e = element.get(v)) return e;
      if (auto e = build(v, items.emplace_back(), depth + 1)) return e;
    }
    out = std::move(items);
    return simdjson::SUCCESS;
  }

  template <class Node>
  simdjson::error_code build_object(Node& node, value& out, uint32_t depth) {
    if (depth >= max_depth_) return simdjson::DEPTH_ERROR;
    od::object o;
    if (auto e = node.get_object().get(o)) return e;
    object members;
    member_index index;
    for (auto f : o) {
      od::field field;
      if (auto e = std::move(f).get(field)) return e;
      std::string_view key;
      if (auto e = field.unescaped_key().get(key)) return e;
      value child;
      if (auto e = build(field.value(), child, depth + 1)) return e;
      index.add(members, key, std::move(child));
    }
    out = std::move(members);
    return simdjson::SUCCESS;
  }

  uint32_t max_depth_;
};

tl::expected<value, parse_error> fail(simdjson::error_code e) {
  return tl::unexpected(error_from(e));
}

// data[0] is '[' and data[size - 1] is ']' around the caller's text: see parse().
tl::expected<value, parse_error> parse_wrapped(od::parser& parser, const char* data, size_t size,
                                               size_t capacity, const parse_options& options) {
  od::document doc;
  od::array root;
  if (auto e = parser.iterate(data, size, capacity).get(doc)) return fail(e);
  if (auto e = doc.get_array().get(root)) return fail(e);
  value out;
  bool have = false;
  for (auto element : root) {
    if (have) {
      // Something follows the value: another one ("1,2"), or a bad token ("1 x"); an input
      // that merely ends early ("[1") is reported as such.
      const simdjson::error_code e = element.error();
      return fail(e == simdjson::INCOMPLETE_ARRAY_OR_OBJECT ? e : simdjson::TRAILING_CONTENT);
    }
    od::value v;
    if (auto e = element.get(v)) return fail(e);
    if (auto e = builder(options.max_depth).build(v, out, 0)) return fail(e);
    have = true;
  }
  if (!have) return fail(simdjson::EMPTY);
  // "1]" closes the wrapper early: anything before the end of input is trailing content.
  const char* location = nullptr;
  if (doc.current_location().get(location) != simdjson::OUT_OF_BOUNDS) {
    return fail(simdjson::TRAILING_CONTENT);
  }
  return out;
}

}  // namespace

tl::expected<value, parse_error> parse(std::string_view text, parse_options options) {
  if (text.size() > options.max_size) {
    return tl::unexpected(parse_error{parse_errc::too_large, describe(parse_errc::too_large)});
  }
  // The text is parsed as the only element of an array, "[text]": simdjson 3.0.1 On-Demand
  // mis-parses some root-level scalars (a 21-character integer loses a digit), never array
  // elements. simdjson also reads up to SIMDJSON_PADDING bytes past the end, so the text is
  // copied into a padded buffer anyway.
  const size_t size = text.size() + 2;
  const size_t capacity = size + simdjson::SIMDJSON_PADDING;
  auto fill = [&](char* buffer) {
    buffer[0] = '[';
    std::memcpy(buffer + 1, text.data(), text.size());
    buffer[size - 1] = ']';
  };
  if (text.size() <= kRetainedSize) {
    thread_local od::parser parser;
    thread_local std::unique_ptr<char[]> buffer;
    thread_local size_t buffer_size = 0;
    if (buffer_size < capacity) {
      buffer = std::make_unique<char[]>(capacity);  // zeroed: the padding is initialized
      buffer_size = capacity;
    }
    fill(buffer.get());
    return parse_wrapped(parser, buffer.get(), size, buffer_size, options);
  }
  od::parser parser;
  const auto buffer = std::make_unique<char[]>(capacity);
  fill(buffer.get());
  return parse_wrapped(parser, buffer.get(), size, capacity, options);
}

}  // namespace relay::json
