#include <ashlar/model/dsl.hpp>
#include <ashlar/model/key.hpp>
#include <ashlar/projections/state.hpp>

#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

using namespace ashlar;
using namespace ashlar::dsl;
using ashlar::test::TempDir;
using namespace std::literals;

namespace {

Domain notes() {
  return domain("d")
      .resource(resource("Note").attribute("id", type::integer, {.primary_key = true}).attribute("text", type::string))
      .build()
      .value();
}

Event note_event(ActionType type, int id, std::uint64_t version, Fields changes) {
  Event e;
  e.domain = "d";
  e.resource = "Note";
  e.action = to_string(type);
  e.type = type;
  e.version = version;
  e.key = {{"id", id}};
  e.changes = std::move(changes);
  return e;
}

struct Store {
  TempDir dir;
  std::unique_ptr<Log> log = Log::open(dir.path()).value();
  StateProjection state = StateProjection::open(*log, notes()).value();

  Result<std::optional<StoredRecord>> apply(Event e) {
    std::optional<StoredRecord> out;
    auto r = log->write([&](Txn& txn) -> Result<void> {
      auto stored = log->append(txn, std::move(e));
      if (!stored) return fail(stored.error());
      auto applied = state.apply(txn, stored->event);
      if (!applied) return fail(applied.error());
      out = *applied;
      return {};
    });
    if (!r) return fail(r.error());
    return out;
  }

  std::optional<StoredRecord> get(int id) {
    auto txn = log->read().value();
    std::vector<Value> key{id};
    return state.get(txn, "Note", encode_key(key)).value();
  }
};

}  // namespace

TEST_CASE("the state projection folds create, update and destroy") {
  Store s;
  auto created = s.apply(note_event(ActionType::create, 1, 1, {{"id", 1}, {"text", "a"}})).value();
  REQUIRE(created);
  CHECK(created->version == 1);
  CHECK(created->position == 1);
  CHECK(s.get(1) == created);

  auto updated = s.apply(note_event(ActionType::update, 1, 2, {{"text", "b"}})).value();
  CHECK(updated->attributes == Fields{{"id", 1}, {"text", "b"}});
  CHECK(updated->version == 2);
  // A nil change removes the attribute.
  auto cleared = s.apply(note_event(ActionType::update, 1, 3, {{"text", Value()}})).value();
  CHECK(cleared->attributes == Fields{{"id", 1}});

  auto destroyed = s.apply(note_event(ActionType::destroy, 1, 4, {})).value();
  CHECK_FALSE(destroyed.has_value());
  CHECK_FALSE(s.get(1).has_value());
}

TEST_CASE("an event that does not fit the state is refused and nothing is written") {
  Store s;
  auto r = s.apply(note_event(ActionType::update, 9, 1, {{"text", "x"}}));
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().message == "event 1 (Note update) does not fit the state projection: the record does not exist");
  auto txn = s.log->read().value();
  CHECK(s.log->head(txn).value().position == 0);
  CHECK(s.state.count(txn, "Note").value() == 0);
}

TEST_CASE("scan visits records in key order") {
  Store s;
  for (int id : {3, -1, 2}) s.apply(note_event(ActionType::create, id, 1, {{"id", id}})).value();
  std::vector<Value> ids;
  auto txn = s.log->read().value();
  s.state.scan(txn, "Note", [&](const StoredRecord& r) {
     ids.push_back(r.attributes[0].second);
     return true;
   }).value();
  CHECK(ids == std::vector<Value>{-1, 2, 3});
  CHECK(s.state.count(txn, "Note").value() == 3);
}

TEST_CASE("updates keep indexes and identities in step, whether or not they change what those read") {
  TempDir dir;
  auto log = Log::open(dir.path()).value();
  Domain d = domain("d")
                 .resource(resource("Owner")
                               .attribute("id", type::integer, {.primary_key = true})
                               .has_many("accounts", "Account"))
                 .resource(resource("Account")
                               .attribute("id", type::integer, {.primary_key = true})
                               .attribute("email", type::string)
                               .attribute("balance", type::integer)
                               .belongs_to("owner", "Owner", {.attribute_type = type::integer})
                               .identity("unique_email", {"email"}))
                 .build()
                 .value();
  StateProjection state = StateProjection::open(*log, d).value();
  std::uint64_t version = 0;
  auto apply = [&](ActionType type, Fields changes) {
    Event e;
    e.domain = "d";
    e.resource = "Account";
    e.action = to_string(type);
    e.type = type;
    e.version = ++version;
    e.key = {{"id", 1}};
    e.changes = std::move(changes);
    return log->write([&](Txn& txn) -> Result<void> {
      auto stored = log->append(txn, std::move(e));
      if (!stored) return fail(stored.error());
      auto applied = state.apply(txn, stored->event);
      if (!applied) return fail(applied.error());
      return {};
    });
  };
  auto owned_by = [&](int owner) {
    auto txn = log->read().value();
    return state.lookup(txn, "Account", "owner_id", Value(owner)).value().size();
  };
  auto email_taken = [&](const char* email) {
    auto txn = log->read().value();
    return state.lookup_identity(txn, "Account", "unique_email", {Value(email)}).value().has_value();
  };

  apply(ActionType::create, {{"id", 1}, {"email", "a@example.com"}, {"balance", 0}, {"owner_id", 7}}).value();
  CHECK(owned_by(7) == 1);
  CHECK(email_taken("a@example.com"));

  // A change to an attribute no index reads: the entries stay, the record changes.
  apply(ActionType::update, {{"balance", 5}}).value();
  CHECK(owned_by(7) == 1);
  CHECK(email_taken("a@example.com"));
  {
    auto txn = log->read().value();
    std::vector<Value> key{1};
    auto record = state.get(txn, "Account", encode_key(key)).value();
    REQUIRE(record);
    CHECK(record->version == 2);
    CHECK(record->attributes ==
          Fields{{"id", 1}, {"email", "a@example.com"}, {"balance", 5}, {"owner_id", 7}});
  }

  // A change to what the index and the identity read moves their entries.
  apply(ActionType::update, {{"owner_id", 8}, {"email", "b@example.com"}}).value();
  CHECK(owned_by(7) == 0);
  CHECK(owned_by(8) == 1);
  CHECK_FALSE(email_taken("a@example.com"));
  CHECK(email_taken("b@example.com"));

  // Nil frees the identity's value and leaves the index.
  apply(ActionType::update, {{"email", Value()}, {"owner_id", Value()}}).value();
  CHECK(owned_by(8) == 0);
  CHECK_FALSE(email_taken("b@example.com"));
}

TEST_CASE("a store in memory holds, orders and answers exactly as the same tables in LMDB") {
  TempDir dir;
  auto log = Log::open(dir.path()).value();
  const std::vector<TableSpec> layout{{"t/plain", false}, {"t/dups", true}};
  MemoryStore memory(layout);
  std::vector<Db> dbs;
  // Keys whose order a hash would scramble: prefixes, bytes above 0x7f, zero bytes.
  const std::vector<std::string> keys{"b", "a", "ab", "\xff", "a\x00"s, "\x00"s, "ba", "\x80z", "aa"};
  auto write = [&](StateStore& s) -> Result<void> {
    for (std::size_t i = 0; i < keys.size(); ++i) {
      ASHLAR_TRY_VOID(s.put(0, keys[i], "v" + std::to_string(i), StateStore::Put::upsert));
      ASHLAR_TRY_VOID(s.put(1, "k" + std::to_string(i % 3), keys[i], StateStore::Put::upsert));
    }
    ASHLAR_TRY_VOID(s.put(0, "a", "again", StateStore::Put::upsert));  // replaces
    ASHLAR_TRY_VOID(s.put(1, "k0", "b", StateStore::Put::upsert));     // already there: stays once
    ASHLAR_TRY(gone, s.del(0, "ba"));
    ASHLAR_TRY(gone_value, s.del(1, "k1", "a"));
    ASHLAR_TRY(absent_value, s.del(1, "k1", "nope"));
    if (!*gone || !*gone_value || *absent_value) return fail(Error::unknown("del answered wrong"));
    return {};
  };
  REQUIRE(log->write([&](Txn& txn) -> Result<void> {
               for (const auto& t : layout) {
                 ASHLAR_TRY(db, txn.open_database(t.name, t.dupsort, true));
                 dbs.push_back(**db);
               }
               LmdbStore lmdb(txn, dbs, layout);
               ASHLAR_TRY_VOID(write(lmdb));
               return write(memory);
             }).has_value());

  auto txn = log->read().value();
  LmdbStore lmdb(txn, dbs, layout);
  auto entries = [](const StateStore& s, std::size_t table, std::string_view from) {
    std::vector<std::pair<std::string, std::string>> out;
    s.scan(table, from, [&](std::string_view k, std::string_view v) {
       out.emplace_back(k, v);
       return true;
     }).value();
    return out;
  };
  for (std::size_t table : {0u, 1u}) {
    CAPTURE(table);
    CHECK(compare_table(lmdb, table, memory, table).value() == std::nullopt);
    for (std::string_view from : {""sv, "\x00\x00"sv, "a"sv, "a\x01"sv, "b"sv, "k1"sv, "\xff\xff"sv})
      CHECK(entries(memory, table, from) == entries(lmdb, table, from));
    CHECK(memory.count(table).value() == lmdb.count(table).value());
  }
  CHECK(entries(memory, 0, "a").front() == std::pair<std::string, std::string>{"a", "again"});
  CHECK(entries(memory, 0, "").size() == 8);
  // A dupsort key's first value is its least; the values under a key come in order.
  CHECK(memory.get(1, "k0").value() == lmdb.get(1, "k0").value());
  CHECK(*memory.get(1, "k0").value() == "b"sv);
  CHECK(*memory.get(1, "k2").value() == "\x00"sv);
  std::vector<std::string> k2;
  memory.values(1, "k2", [&](std::string_view v) {
          k2.emplace_back(v);
          return true;
        }).value();
  CHECK(k2 == std::vector<std::string>{"\x00"s, "aa", "ab"});
  // no_overwrite refuses a key that is there, in both.
  CHECK_FALSE(memory.put(0, "b", "x", StateStore::Put::no_overwrite));
  // Removing a dupsort key's last value removes the key.
  REQUIRE(memory.del(1, "k2", "\x00"sv).value());
  REQUIRE(memory.del(1, "k2", "aa").value());
  CHECK(*memory.get(1, "k2").value() == "ab"sv);
  REQUIRE(memory.del(1, "k2", "ab").value());
  CHECK(memory.get(1, "k2").value() == std::nullopt);
  CHECK(memory.count(1).value() == lmdb.count(1).value() - 3);
  REQUIRE(log->write([&](Txn& w) -> Result<void> {
               LmdbStore lmdb_w(w, dbs, layout);
               ASHLAR_TRY(gone, lmdb_w.del(1, "k2"));
               return *gone ? Result<void>{} : fail(Error::unknown("k2 was not there"));
             }).has_value());
  // Writes after a scan: the next scan sees them in order, as LMDB's does.
  REQUIRE(log->write([&](Txn& w) -> Result<void> {
               LmdbStore written(w, dbs, layout);
               for (StateStore* s : {static_cast<StateStore*>(&written), static_cast<StateStore*>(&memory)}) {
                 ASHLAR_TRY_VOID(s->put(0, "ac", "new", StateStore::Put::upsert));
                 ASHLAR_TRY_VOID(s->put(0, "b", "replaced", StateStore::Put::upsert));
                 ASHLAR_TRY(gone, s->del(0, "aa"));
                 ASHLAR_TRY_VOID(s->put(1, "k0", "a", StateStore::Put::upsert));
                 ASHLAR_TRY_VOID(s->put(1, "k9", "z", StateStore::Put::upsert));
                 ASHLAR_TRY(gone_value, s->del(1, "k0", "\xff"));
                 if (!*gone || !*gone_value) return fail(Error::unknown("del answered wrong"));
               }
               return {};
             }).has_value());
  txn = log->read().value();
  LmdbStore after(txn, dbs, layout);
  for (std::size_t table : {0u, 1u}) {
    CAPTURE(table);
    CHECK(compare_table(after, table, memory, table).value() == std::nullopt);
    CHECK(entries(memory, table, "") == entries(after, table, ""));
    CHECK(memory.count(table).value() == after.count(table).value());
  }
  CHECK(*memory.get(1, "k0").value() == "a"sv);
}
