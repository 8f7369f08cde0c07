#pragma once
// Big-endian u64 keys and values: the encoding of positions and counters throughout the
// store (eventlog/FORMAT.md), which sorts numerically under LMDB's byte order.

#include <cstdint>
#include <string>
#include <string_view>

namespace ashlar {

inline std::string be64(std::uint64_t v) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[i] = static_cast<char>((v >> (56 - 8 * i)) & 0xFF);
  return s;
}

// The first 8 bytes of s (fewer read as the high bytes of a shorter number).
inline std::uint64_t read_be64(std::string_view s) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < 8 && i < s.size(); ++i) v = (v << 8) | static_cast<unsigned char>(s[i]);
  return v;
}

}  // namespace ashlar
