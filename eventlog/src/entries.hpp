#pragma once
// An event's entry as each store format keeps it (eventlog/FORMAT.md): in format 2 the
// `events` value is the chain hash followed by the event's bytes; in format 1 the value is
// the bytes, and the hash is the `chain` database's value under the same key.

#include <ashlar/eventlog/log.hpp>
#include <ashlar/eventlog/txn.hpp>

#include <fmt/format.h>

#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace ashlar::entries {

constexpr std::size_t kHashSize = 32;

struct Tables {
  Db events;
  Db chain;  // format 1 only
  bool hash_in_events = true;
};

// Views into the transaction's pages. hash is empty when the store holds none (format 2:
// a value too short to hold one; format 1: no chain entry).
struct Entry {
  std::string_view bytes;
  std::string_view hash;
};

// The parts of a format 2 events value.
inline Entry split(std::string_view value) {
  if (value.size() < kHashSize) return {value, {}};
  return {value.substr(kHashSize), value.substr(0, kHashSize)};
}

// The events value that stores `bytes` with their chain hash, in format 2.
inline std::string join(const Hash& hash, std::string_view bytes) {
  std::string value;
  value.reserve(kHashSize + bytes.size());
  value.append(reinterpret_cast<const char*>(hash.data()), hash.size());
  value.append(bytes);
  return value;
}

// The entry whose events value, under `key` (u64be position), is `value`, in either format.
inline Result<Entry> of(const Txn& txn, const Tables& t, std::string_view key, std::string_view value) {
  if (t.hash_in_events) return split(value);
  ASHLAR_TRY(hash, txn.get(t.chain, key));
  return Entry{value, *hash ? **hash : std::string_view{}};
}

// The entry under `key` in either format; nullopt when events has none.
inline Result<std::optional<Entry>> get(const Txn& txn, const Tables& t, std::string_view key) {
  ASHLAR_TRY(value, txn.get(t.events, key));
  if (!*value) return std::optional<Entry>{};
  ASHLAR_TRY(entry, of(txn, t, key, **value));
  return std::optional<Entry>{*entry};
}

// Copies a stored hash, which must be kHashSize bytes.
inline Result<Hash> hash_of(const Entry& e, std::uint64_t position) {
  if (e.hash.size() != kHashSize)
    return fail(Error::unknown(fmt::format("the store is corrupted: event {} has no chain hash", position)));
  Hash h;
  std::memcpy(h.data(), e.hash.data(), kHashSize);
  return h;
}

}  // namespace ashlar::entries
