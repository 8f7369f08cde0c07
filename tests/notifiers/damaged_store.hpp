#pragma once
// A store holding a crafted event, written through ashlar::Log alone (no Engine): the
// replay service and the subscribers that read it must answer with the events before
// it and then an error naming its position.

#include <ashlar/eventlog/bytes.hpp>
#include <ashlar/eventlog/log.hpp>
#include <ashlar/model/dsl.hpp>

#include "support/crafted_event.hpp"
#include "support/lmdb_tamper.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <memory>
#include <string>

namespace ashlar::test {

// One resource, User, whose events the store holds.
inline Domain users_domain() {
  using namespace ashlar::dsl;
  return domain("blog")
      .resource(resource("User")
                    .uuid_primary_key("id")
                    .attribute("name", type::string)
                    .defaults({"read", "destroy", "create:*", "update:*"}))
      .build()
      .value();
}

struct StoreWithBadEvent {
  std::string path;
  std::uint64_t events = 0;        // the head: good events around one bad one
  std::uint64_t bad_position = 0;  // its changes list claims 300,000,000 fields
  std::size_t bad_size = 0;        // in bytes

  // The error a reader of the bad event gets.
  std::string decode_error() const {
    return fmt::format("event at position {} does not decode: changes: the message claims more data than its {} "
                       "bytes hold",
                       bad_position, bad_size);
  }
};

// `events` users created at positions 1..events, then the one at `bad_position` replaced,
// bypassing ashlar, by the same event with a list header claiming 300,000,000 fields.
inline StoreWithBadEvent store_with_bad_event(const std::string& path, std::uint64_t events,
                                              std::uint64_t bad_position) {
  StoreWithBadEvent store{path, events, bad_position, 0};
  std::string bad;
  {
    LogOptions options;
    options.durability = Durability::no_sync;
    auto log = Log::open(path, options).value();
    log->write([&](Txn& txn) -> Result<void> {
         ASHLAR_TRY_VOID(log->put_model(txn, domain_to_json(users_domain())));
         for (std::uint64_t i = 1; i <= events; ++i) {
           Event e;
           e.version = 1;
           e.domain = "blog";
           e.resource = "User";
           e.action = "create";
           e.key = {{"id", Uuid::v4()}};
           e.changes = {{"id", e.key[0].second}, {"name", fmt::format("user {}", i)}};
           e.inputs = {{"name", fmt::format("user {}", i)}};
           auto stored = log->append(txn, e);
           if (!stored) return fail(stored.error());
           if (i == bad_position) bad = event_with_huge_changes(stored->event, 300'000'000);
         }
         return {};
       }).value();
  }  // closed: LMDB must not have the environment open twice in one process
  REQUIRE_FALSE(bad.empty());
  store.bad_size = bad.size();
  poke_event_bytes(path, bad_position, bad);
  return store;
}

}  // namespace ashlar::test
