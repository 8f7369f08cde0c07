// A resource's stream (by_resource) and a record's history (by_record): the indexes
// that map a sequence or a version to a global position, read back into events.
#include <ashlar/eventlog/log.hpp>

#include "entries.hpp"
#include "keys.hpp"

#include <fmt/format.h>

#include <cstring>

namespace ashlar {
namespace {

// The event stored at `position`, which an index entry says exists.
Result<StoredEvent> load(const Txn& txn, const entries::Tables& tables, std::uint64_t position) {
  ASHLAR_TRY(entry, entries::get(txn, tables, keys::be64(position)));
  if (!*entry)
    return fail(Error::unknown(
        fmt::format("the store is corrupted: an index names event {}, which is not in the log", position)));
  ASHLAR_TRY(hash, entries::hash_of(**entry, position));
  ASHLAR_TRY(decoded, decode_event((*entry)->bytes, position));
  return StoredEvent{std::move(*decoded), std::string((*entry)->bytes), *hash};
}

Error malformed_index(std::string_view what) {
  return Error::unknown(fmt::format("the store is corrupted: a malformed {} entry", what));
}

}  // namespace

Result<void> Log::scan_resource(const Txn& txn, std::string_view resource, std::uint64_t from_sequence,
                                const std::function<bool(const StoredEvent&)>& fn) const {
  std::string prefix = keys::resource_prefix(resource);
  ASHLAR_TRY(c, txn.cursor(by_resource_));
  auto found = c->seek(prefix + keys::be64(std::max<std::uint64_t>(from_sequence, 1)));
  for (;; found = c->next()) {
    if (!found) return fail(found.error());
    if (!*found || c->key().substr(0, prefix.size()) != prefix) return {};
    if (c->key().size() != prefix.size() + 8 || c->value().size() != 8) return fail(malformed_index("by_resource"));
    ASHLAR_TRY(stored, load(txn, {events_, chain_, format_version_ != 1}, keys::read_be64(c->value())));
    if (!fn(*stored)) return {};
  }
}

Result<std::uint64_t> Log::first_sequence_after(const Txn& txn, std::string_view resource,
                                                std::uint64_t position) const {
  ASHLAR_TRY(last, last_sequence(txn, resource));
  // Positions grow with sequences, so the first sequence whose position exceeds
  // `position` is found by bisection: a resource stream of n events costs log2(n) gets.
  std::string prefix = keys::resource_prefix(resource);
  std::uint64_t low = 1, high = *last + 1;  // the answer lies in [low, high]
  while (low < high) {
    std::uint64_t mid = low + (high - low) / 2;
    ASHLAR_TRY(stored, txn.get(by_resource_, prefix + keys::be64(mid)));
    if (!*stored || (*stored)->size() != 8) return fail(malformed_index("by_resource"));
    if (keys::read_be64(**stored) > position)
      high = mid;
    else
      low = mid + 1;
  }
  return low;
}

Result<void> Log::scan_record_back(const Txn& txn, std::string_view resource, std::string_view key_bytes,
                                   std::uint64_t from_version,
                                   const std::function<bool(const StoredEvent&)>& fn) const {
  if (from_version == 0) return {};
  std::string prefix = keys::record_prefix(resource, key_bytes);
  std::string start = prefix + keys::be64(from_version);
  ASHLAR_TRY(c, txn.cursor(by_record_));
  // The entry at from_version, else the last one before it.
  auto found = c->seek(start);
  if (found && *found && c->key() != start) found = c->prev();
  else if (found && !*found) found = c->last();
  for (;; found = c->prev()) {
    if (!found) return fail(found.error());
    // Key encodings are self-delimiting: under this prefix are only this record's versions.
    if (!*found || c->key().size() != prefix.size() + 8 || c->key().substr(0, prefix.size()) != prefix) return {};
    if (c->value().size() != 8) return fail(malformed_index("by_record"));
    ASHLAR_TRY(stored, load(txn, {events_, chain_, format_version_ != 1}, keys::read_be64(c->value())));
    if (!fn(*stored)) return {};
  }
}

}  // namespace ashlar
