#pragma once
// A value as an error message shows it: text longer than 120 bytes is cut at a
// character's start after about 100 and says how long it was, so a message never repeats
// a whole oversized input.

#include <string>
#include <string_view>

namespace ashlar {

inline std::string shown(std::string_view text) {
  constexpr std::size_t kShown = 100;
  if (text.size() <= kShown + 20) return std::string(text);
  std::size_t cut = kShown;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  std::string out(text.substr(0, cut));
  out += "... (";
  out += std::to_string(text.size());
  out += " bytes)";
  return out;
}

}  // namespace ashlar
