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
