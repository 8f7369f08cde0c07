#include <ashlar/model/dsl.hpp>
#include <ashlar/model/key.hpp>
#include <ashlar/projections/state.hpp>

#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

using namespace ashlar;
using namespace ashlar::dsl;
using ashlar::test::TempDir;

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
