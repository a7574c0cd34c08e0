#pragma once
// Numbers as JavaScript prints them (ECMAScript Number::toString, used by JSON.stringify).
#include <cstdint>
#include <string>

namespace relay::json {

// Appends x as Number::toString(x) does (ECMA-262 §6.1.6.1.20): the shortest digits that round
// trip, in decimal notation when 1e-7 < |x| < 1e21 and as d.ddde±n otherwise; -0 as "0".
// Non-finite values append "null", as JSON.stringify writes them.
void append_double(double x, std::string& out);

void append_int(int64_t i, std::string& out);

}  // namespace relay::json
