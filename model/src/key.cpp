#include <ashlar/model/key.hpp>

#include "shown.hpp"

#include <bit>
#include <cstring>

namespace ashlar {
namespace {

void append_be64(std::string& out, std::uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xFF));
}

// Bytes with 0x00 escaped as 0x00 0xFF, ended by 0x00 0x01: order-preserving and
// self-delimiting.
void append_escaped(std::string& out, std::string_view bytes) {
  for (char c : bytes) {
    out.push_back(c);
    if (c == '\0') out.push_back('\xFF');
  }
  out.push_back('\0');
  out.push_back('\x01');
}

}  // namespace

void append_key(std::string& out, const Value& value) {
  out.push_back(static_cast<char>(value.kind()));
  switch (value.kind()) {
    case ValueKind::null: return;
    case ValueKind::boolean: out.push_back(*value.as_bool() ? 1 : 0); return;
    case ValueKind::integer:
      append_be64(out, static_cast<std::uint64_t>(*value.as_int()) ^ (1ULL << 63));
      return;
    case ValueKind::floating: {
      auto bits = std::bit_cast<std::uint64_t>(*value.as_float());
      bits = (bits & (1ULL << 63)) ? ~bits : bits | (1ULL << 63);
      append_be64(out, bits);
      return;
    }
    case ValueKind::string: append_escaped(out, *value.as_string()); return;
    case ValueKind::uuid:
      out.append(reinterpret_cast<const char*>(value.as_uuid()->bytes.data()), 16);
      return;
    case ValueKind::datetime:
      append_be64(out, static_cast<std::uint64_t>(value.as_datetime()->micros) ^ (1ULL << 63));
      return;
    case ValueKind::date:
      append_be64(out, static_cast<std::uint64_t>(static_cast<std::int64_t>(value.as_date()->days)) ^ (1ULL << 63));
      return;
    case ValueKind::atom: append_escaped(out, value.as_atom()->name); return;
    case ValueKind::binary: append_escaped(out, value.as_binary()->bytes); return;
    case ValueKind::map:
    case ValueKind::array:
    case ValueKind::forbidden: append_escaped(out, value.str()); return;
  }
}

std::string encode_key(std::span<const Value> values) {
  std::string out;
  for (const auto& v : values) append_key(out, v);
  return out;
}

std::string describe_key(std::span<const Value> key) {
  std::string out;
  for (const auto& v : key) {
    if (!out.empty()) out += ", ";
    out += shown(v.as_string() ? *v.as_string() : v.str());
  }
  return out;
}

std::string describe_values(std::span<const Value> values) {
  std::string out;
  for (const auto& v : values) {
    if (!out.empty()) out += ", ";
    out += shown(v.str());
  }
  return out;
}

}  // namespace ashlar
