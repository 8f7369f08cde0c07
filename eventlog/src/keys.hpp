#pragma once
// Key encodings of the log's databases (eventlog/FORMAT.md).

#include <ashlar/eventlog/bytes.hpp>
#include <ashlar/eventlog/txn.hpp>
#include <ashlar/model/key.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace ashlar::keys {

// LMDB's default maximum key size.
constexpr std::size_t kMaxKeySize = 511;

using ashlar::be64;
using ashlar::read_be64;

// Resource names are identifiers, so they never contain the NUL that ends them.
inline std::string resource_prefix(std::string_view resource) {
  std::string s(resource);
  s.push_back('\0');
  return s;
}

inline std::string record_prefix(std::string_view resource, std::string_view key_bytes) {
  return resource_prefix(resource) + std::string(key_bytes);
}

// idem: key(tenant, idempotency key), self-delimiting, so no pair reads as another.
inline std::string idempotency(std::string_view tenant, std::string_view key) {
  Value parts[] = {Value(std::string(tenant)), Value(std::string(key))};
  return encode_key(parts);
}

// The big-endian u64 suffix of the last key `prefix ‖ u64`, or 0 when there is none.
inline Result<std::uint64_t> last_under(const Txn& txn, Db db, const std::string& prefix) {
  ASHLAR_TRY(c, txn.cursor(db));
  ASHLAR_TRY(found, c->seek(prefix + std::string(8, '\xFF')));
  found = *found ? c->prev() : c->last();
  if (!found) return fail(found.error());
  if (!*found) return std::uint64_t{0};
  std::string_view k = c->key();
  if (k.size() != prefix.size() + 8 || k.substr(0, prefix.size()) != prefix) return std::uint64_t{0};
  return read_be64(k.substr(prefix.size()));
}

}  // namespace ashlar::keys
