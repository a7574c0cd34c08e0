#include "json/number_parse.hpp"

#include <charconv>
#include <cmath>
#include <string>
#include <system_error>

namespace relay::json {
namespace {

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

// Exponents this long overflow or underflow whatever the mantissa: a mantissa would need
// more than 10^8 digits to compensate, beyond any input the parser accepts in practice.
constexpr size_t kMaxExponentDigits = 8;

}  // namespace

std::optional<double> parse_number_token(std::string_view token) noexcept {
  while (!token.empty() && (token.back() == ' ' || token.back() == '\t' || token.back() == '\n' ||
                            token.back() == '\r')) {
    token.remove_suffix(1);
  }
  // RFC 8259 §6: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
  size_t i = 0;
  const size_t n = token.size();
  const bool negative = i < n && token[i] == '-';
  if (negative) ++i;
  const size_t int_start = i;
  if (i < n && token[i] == '0') {
    ++i;
  } else {
    while (i < n && is_digit(token[i])) ++i;
  }
  if (i == int_start) return std::nullopt;
  int lead = static_cast<int>(i - int_start);  // digits before the point
  bool nonzero = false;
  int first_nonzero = 0;  // decimal position of the first non-zero digit, for range checks
  for (size_t k = int_start; k < i; ++k) {
    if (token[k] != '0' && !nonzero) {
      nonzero = true;
      first_nonzero = lead - static_cast<int>(k - int_start);
    }
  }
  if (i < n && token[i] == '.') {
    const size_t frac_start = ++i;
    while (i < n && is_digit(token[i])) {
      if (token[i] != '0' && !nonzero) {
        nonzero = true;
        first_nonzero = -static_cast<int>(i - frac_start);
      }
      ++i;
    }
    if (i == frac_start) return std::nullopt;
  }
  const size_t mantissa_end = i;
  bool exp_negative = false;
  std::string_view exp_digits = "0";
  if (i < n && (token[i] == 'e' || token[i] == 'E')) {
    ++i;
    if (i < n && (token[i] == '+' || token[i] == '-')) exp_negative = token[i++] == '-';
    const size_t exp_start = i;
    while (i < n && is_digit(token[i])) ++i;
    if (i == exp_start) return std::nullopt;
    exp_digits = token.substr(exp_start, i - exp_start);
    while (exp_digits.size() > 1 && exp_digits.front() == '0') exp_digits.remove_prefix(1);
  }
  if (i != n) return std::nullopt;

  const double zero = negative ? -0.0 : 0.0;
  if (!nonzero) return zero;
  if (exp_digits.size() > kMaxExponentDigits) {
    if (exp_negative) return zero;
    return std::nullopt;
  }
  int exponent = 0;
  std::from_chars(exp_digits.data(), exp_digits.data() + exp_digits.size(), exponent);
  if (exp_negative) exponent = -exponent;
  // Magnitude is about 10^(first_nonzero + exponent - 1): decide range before from_chars, whose
  // out-of-range result carries no value.
  const long magnitude = static_cast<long>(first_nonzero) + exponent;
  if (magnitude > 310) return std::nullopt;
  if (magnitude < -330) return zero;

  std::string normalized(token.substr(0, mantissa_end));
  normalized += 'e';
  normalized += std::to_string(exponent);
  double d = 0;
  const auto [ptr, ec] =
      std::from_chars(normalized.data(), normalized.data() + normalized.size(), d);
  if (ec == std::errc::result_out_of_range)
    return magnitude < 0 ? std::optional<double>(zero) : std::nullopt;
  if (ec != std::errc() || ptr != normalized.data() + normalized.size() || !std::isfinite(d)) {
    return std::nullopt;
  }
  return d;
}

}  // namespace relay::json
