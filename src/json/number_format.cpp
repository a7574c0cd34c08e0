#include "json/number_format.hpp"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <system_error>

namespace relay::json {

void append_double(double x, std::string& out) {
  if (!std::isfinite(x)) {
    out += "null";
    return;
  }
  if (x == 0) {  // also -0: Number::toString step 2
    out += '0';
    return;
  }
  // std::to_chars without a precision gives the shortest round-tripping digits, nearest to x
  // (the digits ECMA-262 asks for); reshape "d.ddde±XX" into JavaScript's layout.
  char sci[32];
  const auto res = std::to_chars(sci, sci + sizeof sci, std::abs(x), std::chars_format::scientific);
  const char* e = sci;
  char digits[24];
  int k = 0;  // number of significant digits
  for (; *e != 'e'; ++e) {
    if (*e != '.') digits[k++] = *e;
  }
  int exp10 = 0;
  std::from_chars(e + (e[1] == '+' ? 2 : 1), res.ptr, exp10);
  const int n = exp10 + 1;  // x = 0.d1d2...dk * 10^n

  if (x < 0) out += '-';
  if (k <= n && n <= 21) {  // integer: digits then zeros
    out.append(digits, k);
    out.append(static_cast<size_t>(n - k), '0');
  } else if (0 < n && n <= 21) {  // point inside the digits
    out.append(digits, n);
    out += '.';
    out.append(digits + n, k - n);
  } else if (-6 < n && n <= 0) {  // 0.000ddd
    out += "0.";
    out.append(static_cast<size_t>(-n), '0');
    out.append(digits, k);
  } else {  // exponent form: d[.ddd]e±m
    out += digits[0];
    if (k > 1) {
      out += '.';
      out.append(digits + 1, k - 1);
    }
    out += 'e';
    out += n - 1 >= 0 ? '+' : '-';
    char buf[8];
    const auto r = std::to_chars(buf, buf + sizeof buf, std::abs(n - 1));
    out.append(buf, r.ptr);
  }
}

void append_int(int64_t i, std::string& out) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, i);
  out.append(buf, r.ptr);
}

}  // namespace relay::json
