// Fuzzes the JSON parser and serializer (src/json). The whole input is the JSON text. Checks:
//   1. whatever the bytes, parse() returns a value or an error, never crashes;
//   2. a parsed value serializes to text that parses again to the same value (numbers compared
//      as JavaScript compares them: an integral double above 2^53 prints as digits that read
//      back as an exact int64), and that text is a fixpoint of parse + serialize;
//   3. a tighter max_depth (from byte 0) accepts a subset of the texts, with the same values;
//   4. simdjson's DOM parser, an independent parser, accepts nothing that parse() rejects,
//      and parse() accepts nothing it rejects except integers beyond 64 bits (which the DOM
//      parser refuses and JSON.parse reads as doubles); where both accept, the values are equal
//      (the DOM's read with JSON.parse's rule for duplicate keys: first position, last value).
// Anything else traps.
#include <simdjson.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "relay/json.hpp"
#include "json_fuzz_support.hpp"

namespace {

using relay::json::parse_errc;
using relay::json::value;
using relay::json::value_type;

using relay_fuzz::check;
using relay_fuzz::js_equal;

constexpr uint32_t kDepths[8] = {0, 1, 2, 3, 5, 8, 16, 1000};

// The reference value: simdjson's DOM element as JSON.parse would give it.
value from_dom(simdjson::dom::element e) {
  using simdjson::dom::element_type;
  switch (e.type()) {
    case element_type::ARRAY: {
      relay::json::array items;
      const simdjson::dom::array elements = e.get_array().value_unsafe();
      for (simdjson::dom::element child : elements) {
        items.push_back(from_dom(child));
      }
      return value(std::move(items));
    }
    case element_type::OBJECT: {
      relay::json::object members;
      const simdjson::dom::object fields = e.get_object().value_unsafe();
      for (simdjson::dom::key_value_pair field : fields) {
        value child = from_dom(field.value);
        bool seen = false;
        for (auto& m : members) {
          if (m.first == field.key) {
            m.second = std::move(child);
            seen = true;
            break;
          }
        }
        if (!seen) members.emplace_back(std::string(field.key), std::move(child));
      }
      return value(std::move(members));
    }
    case element_type::INT64:
      return value(e.get_int64().value_unsafe());
    case element_type::UINT64:
      return value(static_cast<double>(e.get_uint64().value_unsafe()));
    case element_type::DOUBLE:
      return value(e.get_double().value_unsafe());
    case element_type::STRING:
      return value(std::string(e.get_string().value_unsafe()));
    case element_type::BOOL:
      return value(e.get_bool().value_unsafe());
    case element_type::NULL_VALUE:
      return value(nullptr);
  }
  return value();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  relay::json::parse_options deep;
  deep.max_depth = 1000;
  const auto parsed = relay::json::parse(text, deep);

  if (parsed) {
    const std::string once = relay::json::to_string(*parsed);
    const auto again = relay::json::parse(once, deep);
    check(again.has_value(), "serialized text parses");
    check(js_equal(*parsed, *again), "parse(serialize(v)) == v");
    check(relay::json::to_string(*again) == once, "serialize(parse(serialize(v))) is a fixpoint");
  } else {
    check(!parsed.error().message.empty(), "error has a message");
  }

  if (size > 0) {
    relay::json::parse_options tight;
    tight.max_depth = kDepths[data[0] & 7];
    const auto limited = relay::json::parse(text, tight);
    if (limited) {
      check(parsed.has_value() && js_equal(*limited, *parsed), "tighter depth: same value");
    } else if (limited.error().code != parse_errc::too_deep) {
      check(!parsed.has_value(), "tighter depth fails only on depth");
    }
  }

  // Differential check against the DOM parser (depth 1024 > 1000: compare only shallower).
  simdjson::dom::parser dom;
  simdjson::dom::element root;
  const simdjson::padded_string padded(text);
  const simdjson::error_code dom_error = dom.parse(padded).get(root);
  if (!dom_error) {
    check(parsed.has_value() || parsed.error().code == parse_errc::too_deep,
          "DOM accepts => parse() accepts");
    if (parsed) check(js_equal(*parsed, from_dom(root)), "parse() == DOM value");
  } else if (parsed) {
    check(dom_error == simdjson::NUMBER_ERROR, "parse() accepts => DOM accepts (but big integers)");
  }
  return 0;
}
