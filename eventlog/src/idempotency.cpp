// The idempotency index: (tenant, key) → the position of the event an action appended
// with that key, written in the append's transaction (eventlog/FORMAT.md, `idem`).
#include <ashlar/eventlog/log.hpp>

#include "keys.hpp"

#include <fmt/format.h>

namespace ashlar {

Result<void> Log::put_idempotency_key(Txn& txn, const Event& event) {
  if (event.idempotency_key.empty()) return {};
  if (event.idempotency_key.size() > kMaxIdempotencyKey)
    return fail(Error::invalid(event.resource, event.action,
                               {{"idempotency_key", "too_long",
                                 fmt::format("is {} bytes; an idempotency key is at most {}",
                                             event.idempotency_key.size(), kMaxIdempotencyKey)}}));
  auto put = txn.put(idem_, keys::idempotency(event.tenant, event.idempotency_key), keys::be64(event.position),
                     Txn::PutMode::no_overwrite);
  if (!put && put.error().cls == ErrorClass::conflict) {
    Error e = Error::conflict(event.resource, fmt::format("idempotency key \"{}\" is already used by another action",
                                                          event.idempotency_key));
    e.action = event.action;
    return fail(std::move(e));
  }
  return put;
}

Result<std::optional<std::uint64_t>> Log::idempotent_position(const Txn& txn, std::string_view tenant,
                                                              std::string_view key) const {
  if (key.empty() || key.size() > kMaxIdempotencyKey) return std::optional<std::uint64_t>{};
  ASHLAR_TRY(found, txn.get(idem_, keys::idempotency(tenant, key)));
  if (!*found) return std::optional<std::uint64_t>{};
  if ((*found)->size() != 8) return fail(Error::unknown("the store is corrupted: a malformed idem entry"));
  return std::optional<std::uint64_t>{keys::read_be64(**found)};
}

}  // namespace ashlar
