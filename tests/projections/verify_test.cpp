// verify's check of the stored model: every version decodes, meta/model is the latest, and
// each event fits the model it was written under.
#include <ashlar/eventlog/bytes.hpp>
#include <ashlar/model/dsl.hpp>
#include <ashlar/projections/verify.hpp>

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

Event note(int id, Fields changes, std::string resource = "Note") {
  Event e;
  e.domain = "d";
  e.resource = std::move(resource);
  e.action = "create";
  e.type = ActionType::create;
  e.version = 1;
  e.key = {{"id", id}};
  e.changes = std::move(changes);
  return e;
}

// A log holding the notes model (version 1) and these events.
std::unique_ptr<Log> store(const TempDir& dir, std::vector<Event> events) {
  auto log = Log::open(dir.path()).value();
  log->write([&](Txn& txn) { return log->put_model(txn, domain_to_json(notes())); }).value();
  for (auto& e : events)
    log->write([&](Txn& txn) -> Result<void> {
         auto s = log->append(txn, e);
         return s ? Result<void>() : fail(s.error());
       }).value();
  return log;
}

}  // namespace

TEST_CASE("verify names the first event that does not fit the model it was written under") {
  TempDir dir;
  SECTION("an attribute the model does not have") {
    auto log = store(dir, {note(1, {{"id", 1}, {"text", "a"}}), note(2, {{"id", 2}, {"colour", "red"}}),
                           note(3, {{"id", 3}, {"size", 4}})});
    CHECK(verify(*log, {}).value().problems ==
          std::vector<std::string>{
              "event 2 does not fit the model it was written under (version 1): Note has no attribute colour"});
  }
  SECTION("a resource the model does not have") {
    auto log = store(dir, {note(1, {{"id", 1}}, "Memo")});
    CHECK(verify(*log, {}).value().problems ==
          std::vector<std::string>{
              "event 1 does not fit the model it was written under (version 1): Memo is not a resource"});
  }
  SECTION("events that fit") {
    auto log = store(dir, {note(1, {{"id", 1}, {"text", "a"}}), note(2, {{"id", 2}})});
    CHECK(verify(*log, {}).value().ok());
  }
}

TEST_CASE("verify reports a stored model version that does not decode, or that meta/model is not") {
  TempDir dir;
  auto log = store(dir, {note(1, {{"id", 1}, {"text", "a"}})});
  SECTION("a version that does not decode") {
    log->write([&](Txn& txn) { return log->put_meta(txn, "models/" + be64(1), be64(1) + "{\"format\": 1,"); })
        .value();
    auto problems = verify(*log, {}).value().problems;
    REQUIRE(problems.size() == 2);
    CHECK(problems[0].rfind("the stored model version 1 does not decode: ", 0) == 0);
    CHECK(problems[1] == "the stored model (meta/model) is not its latest version, 1: one of them was changed");
  }
  SECTION("meta/model changed") {
    log->write([&](Txn& txn) { return log->put_meta(txn, "model", "{}"); }).value();
    CHECK(verify(*log, {}).value().problems ==
          std::vector<std::string>{
              "the stored model (meta/model) is not its latest version, 1: one of them was changed"});
  }
}
