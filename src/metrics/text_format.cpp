#include "metrics/text_format.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace relay::metrics::detail {
namespace {

enum class quote_escaping { kNo, kYes };

// Length of the well-formed UTF-8 sequence at text[i] (Unicode Table 3-7: no overlongs, no
// surrogates, nothing above U+10FFFF), or 0. Prometheus refuses a whole scrape over one invalid
// label value, and label values may come from clients (a namespace, a room).
std::size_t utf8_sequence_length(std::string_view text, std::size_t i) {
  const auto lead = static_cast<unsigned char>(text[i]);
  if (lead < 0x80) return 1;
  std::size_t length = 0;
  unsigned char low = 0x80, high = 0xBF;  // allowed range of the second byte
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) low = 0xA0;   // overlong
    if (lead == 0xED) high = 0x9F;  // surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) low = 0x90;   // overlong
    if (lead == 0xF4) high = 0x8F;  // above U+10FFFF
  } else {
    return 0;
  }
  if (text.size() - i < length) return 0;
  const auto second = static_cast<unsigned char>(text[i + 1]);
  if (second < low || second > high) return 0;
  for (std::size_t k = 2; k < length; ++k) {
    if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) return 0;
  }
  return length;
}

// The format escapes backslash and newline in HELP, and also the double quote in label values.
// Invalid UTF-8 bytes become U+FFFD.
void append_escaped(std::string& out, std::string_view text, quote_escaping quotes) {
  for (std::size_t i = 0; i < text.size();) {
    const char c = text[i];
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && quotes == quote_escaping::kYes) {
      out += "\\\"";
    } else {
      const std::size_t length = utf8_sequence_length(text, i);
      if (length == 0) {
        out += "\xEF\xBF\xBD";
        ++i;
      } else {
        out.append(text, i, length);
        i += length;
      }
      continue;
    }
    ++i;
  }
}

template <typename Number>
void append_integer(std::string& out, Number value) {
  char buffer[24];
  const auto end = std::to_chars(buffer, buffer + sizeof buffer, value).ptr;
  out.append(buffer, end);
}

}  // namespace

void append_header(std::string& out, std::string_view name, std::string_view help,
                   std::string_view type) {
  out += "# HELP ";
  out += name;
  out += ' ';
  append_escaped(out, help, quote_escaping::kNo);
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

void append_series(std::string& out, std::string_view name,
                   const std::vector<std::string>& label_names,
                   const std::vector<std::string>& label_values, std::string_view le) {
  out += name;
  if (label_names.empty() && le.empty()) return;
  out += '{';
  for (std::size_t i = 0; i < label_names.size(); ++i) {
    if (i > 0) out += ',';
    out += label_names[i];
    out += "=\"";
    append_escaped(out, label_values[i], quote_escaping::kYes);
    out += '"';
  }
  if (!le.empty()) {
    if (!label_names.empty()) out += ',';
    out += "le=\"";
    out += le;
    out += '"';
  }
  out += '}';
}

void append_value(std::string& out, uint64_t value) {
  out += ' ';
  append_integer(out, value);
  out += '\n';
}

void append_value(std::string& out, int64_t value) {
  out += ' ';
  append_integer(out, value);
  out += '\n';
}

void append_value(std::string& out, double value) {
  out += ' ';
  // Beyond 2^53 a double no longer holds every integer: the exponent form is then as exact.
  constexpr double kExactIntegers = 9007199254740992.0;
  if (std::trunc(value) == value && std::fabs(value) < kExactIntegers) {
    append_integer(out, static_cast<int64_t>(value));
  } else {
    append_float(out, value);
  }
  out += '\n';
}

void append_float(std::string& out, double value) {
  if (std::isnan(value)) {
    out += "NaN";
  } else if (std::isinf(value)) {
    out += value > 0 ? "+Inf" : "-Inf";
  } else {
    // The shortest digits that read back to the same double, laid out as Go's
    // strconv.FormatFloat(v, 'g', -1, 64) does, which is what the Go client writes: exponent
    // form when the decimal exponent is < -4 or >= 6 ("1e-05", "1e+06"), plain otherwise
    // ("0.0005", "2.5", "3"). Bucket bounds then spell "le" the same way in both.
    char buffer[32];
    const auto scientific =
        std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::scientific).ptr;
    const char* exponent_sign = std::find(buffer, scientific, 'e') + 1;
    int exponent = 0;
    std::from_chars(exponent_sign + 1, scientific, exponent);
    if (*exponent_sign == '-') exponent = -exponent;
    if (exponent < -4 || exponent >= 6) {
      out.append(buffer, scientific);
    } else {
      const auto fixed =
          std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::fixed).ptr;
      out.append(buffer, fixed);
    }
  }
}

}  // namespace relay::metrics::detail
