#include "relay/header_list.hpp"

#include <algorithm>
#include <cstdint>

namespace relay {
namespace {

char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

void put_length(std::string& out, size_t n) {
  out.push_back(static_cast<char>(n & 0xff));
  out.push_back(static_cast<char>((n >> 8) & 0xff));
}

size_t get_length(const char* p) {
  return static_cast<size_t>(static_cast<uint8_t>(p[0])) |
         (static_cast<size_t>(static_cast<uint8_t>(p[1])) << 8);
}

}  // namespace

header_list::value_type header_list::iterator::operator*() const noexcept {
  const size_t name_len = get_length(at_);
  const char* name = at_ + 2;
  const size_t value_len = get_length(name + name_len);
  return {std::string_view(name, name_len), std::string_view(name + name_len + 2, value_len)};
}

header_list::iterator& header_list::iterator::operator++() noexcept {
  const size_t name_len = get_length(at_);
  const size_t value_len = get_length(at_ + 2 + name_len);
  at_ += 4 + name_len + value_len;
  return *this;
}

void header_list::add(std::string_view name, std::string_view value) {
  constexpr size_t kMax = 0xffff;
  name = name.substr(0, kMax);
  value = value.substr(0, kMax);
  put_length(block_, name.size());
  const size_t at = block_.size();
  block_.append(name);
  std::transform(block_.begin() + static_cast<std::ptrdiff_t>(at), block_.end(),
                 block_.begin() + static_cast<std::ptrdiff_t>(at), ascii_lower);
  put_length(block_, value.size());
  block_.append(value);
  ++count_;
}

void header_list::set_target(std::string_view target) {
  target = target.substr(0, UINT32_MAX);
  block_.replace(0, target_size_, target);
  target_size_ = static_cast<uint32_t>(target.size());
}

std::string_view header_list::get(std::string_view name) const noexcept {
  for (auto [n, v] : *this) {
    if (n.size() == name.size() &&
        std::equal(n.begin(), n.end(), name.begin(),
                   [](char stored, char asked) { return stored == ascii_lower(asked); })) {
      return v;
    }
  }
  return {};
}

}  // namespace relay
