// Upserts on an identity or the primary key: create when nobody holds it, otherwise an
// update of the upsert fields of the record that does, subject to a condition.
#include "support/desk_domain.hpp"
#include "support/engine_helpers.hpp"
#include "support/temp_dir.hpp"

#include <ashlar/ashlar.hpp>

#include <catch2/catch.hpp>

using namespace ashlar;
using namespace ashlar::dsl;
using ashlar::test::all_events;
using ashlar::test::log_length;
using ashlar::test::TempDir;

namespace {

struct Desk {
  TempDir dir;
  std::vector<std::uint64_t> published;
  Engine engine = Engine::open(dir.path(), test::desk_domain(),
                               test::recording_options(published))
                      .value();
};

std::vector<std::string> names(const Fields& fields) {
  std::vector<std::string> out;
  for (const auto& [name, value] : fields) out.push_back(name);
  return out;
}

}  // namespace

TEST_CASE("an upsert creates when no record holds the identity, and updates only the upsert fields when one does") {
  Desk d;
  auto first = d.engine.create("Ticket", {{"reference", "HD-1"}, {"subject", "Printer"}, {"severity", 2}},
                               {.action = "import"});
  REQUIRE(first.has_value());
  CHECK(first->version() == 1);
  CHECK(all_events(d.engine.log()).back().event.type == ActionType::create);

  auto again = d.engine.create(
      "Ticket", {{"reference", "HD-1"}, {"subject", "Printer on fire"}, {"priority", "high"}, {"severity", 5}},
      {.action = "import"});
  REQUIRE(again.has_value());
  CHECK(again->id() == first->id());  // the same record, not a second one
  CHECK(again->version() == 2);
  CHECK((*again)["subject"] == Value("Printer on fire"));
  CHECK((*again)["priority"] == Value(Atom{"high"}));
  CHECK((*again)["severity"] == Value(2));  // accepted, but not an upsert field
  CHECK((*again)["opened_at"] == (*first)["opened_at"]);

  Event e = all_events(d.engine.log()).back().event;
  CHECK(e.type == ActionType::update);  // an update event on the existing record
  CHECK(e.action == "import");
  CHECK(e.key == Fields{{"id", first->id()}});
  CHECK(e.version == 2);
  CHECK(names(e.changes) == std::vector<std::string>{"subject", "priority", "updated_at"});
  CHECK(d.engine.read("Ticket").value().size() == 1);
  CHECK(d.engine.history("Ticket", first->id()).value().size() == 2);
}

TEST_CASE("upsert fields default to the accepted attributes other than the identity's") {
  Desk d;
  auto first = d.engine.create("Ticket", {{"reference", "HD-1"}, {"subject", "a"}}, {.action = "sync"}).value();
  auto second =
      d.engine.create("Ticket", {{"reference", "HD-1"}, {"subject", "b"}, {"severity", 4}}, {.action = "sync"}).value();
  CHECK(second.id() == first.id());
  CHECK(second["subject"] == Value("b"));
  CHECK(second["severity"] == Value(4));
  CHECK(names(all_events(d.engine.log()).back().event.changes) ==
        std::vector<std::string>{"subject", "severity", "updated_at"});
}

TEST_CASE("an upsert whose condition does not hold for the stored record is a Conflict and writes nothing") {
  Desk d;
  auto ticket = d.engine.create("Ticket", {{"reference", "HD-7"}, {"subject", "VPN"}}, {.action = "reopen"}).value();
  CHECK(d.engine.create("Ticket", {{"reference", "HD-7"}, {"subject", "VPN again"}}, {.action = "reopen"}).has_value());
  d.engine.update("Ticket", ticket.id(), {}, {.action = "close"}).value();
  auto before = log_length(d.engine.log());
  auto published = d.published.size();

  auto stale = d.engine.create("Ticket", {{"reference", "HD-7"}, {"subject", "VPN once more"}}, {.action = "reopen"});
  REQUIRE_FALSE(stale.has_value());
  CHECK(stale.error().cls == ErrorClass::conflict);
  CHECK(stale.error().resource == "Ticket");
  CHECK(stale.error().action == "reopen");
  CHECK(stale.error().message == "a Ticket with unique_reference HD-7 exists, and the upsert condition does not hold for it");
  CHECK(stale.error().fields ==
        std::vector<FieldError>{{"reference", "stale_record", "the stored record does not meet the upsert condition"}});
  CHECK(log_length(d.engine.log()) == before);
  CHECK(d.published.size() == published);
  CHECK(d.engine.get("Ticket", ticket.id()).value()["subject"] == Value("VPN again"));
}

TEST_CASE("an upsert without an identity matches on the primary key") {
  TempDir dir;
  auto tags = domain("tags")
                  .resource(resource("Tag")
                                .attribute("scope", type::string, {.primary_key = true})
                                .attribute("name", type::string, {.primary_key = true})
                                .attribute("uses", type::integer, {.default_value = 1})
                                .attribute("colour", type::string)
                                .defaults({"read"})
                                .create("put", {.accept = {"scope", "name", "uses", "colour"}, .upsert = true}))
                  .build()
                  .value();
  auto engine = Engine::open(dir.path(), tags).value();
  engine.create("Tag", {{"scope", "blog"}, {"name", "c++"}, {"colour", "red"}}, {.action = "put"}).value();
  auto again = engine.create("Tag", {{"scope", "blog"}, {"name", "c++"}, {"uses", 2}}, {.action = "put"}).value();
  CHECK(again.version() == 2);
  CHECK(again["uses"] == Value(2));
  CHECK(again["colour"] == Value("red"));  // not given: left as stored
  CHECK(engine.read("Tag").value().size() == 1);
}

TEST_CASE("upsert options are checked when the domain is built") {
  auto built = domain("d")
                   .resource(resource("R")
                                 .uuid_primary_key("id")
                                 .attribute("code", type::string)
                                 .attribute("label", type::string)
                                 .identity("unique_code", {"code"})
                                 .create("a", {.accept = {"code"}, .upsert = true, .upsert_identity = "unique_label"})
                                 .create("b", {.accept = {"code", "label"},
                                               .upsert = true,
                                               .upsert_identity = "unique_code",
                                               .upsert_fields = {"code", "colour"}})
                                 .update("c", {.upsert = true})
                                 .create("e", {.upsert_identity = "unique_code"}))
                   .build();
  REQUIRE_FALSE(built.has_value());
  CHECK(built.error().fields ==
        std::vector<FieldError>{
            {"R.actions.a", "unknown_identity", "upserts on \"unique_label\", which is not an identity of R"},
            {"R.actions.b", "invalid_upsert_field", "upsert_fields names \"code\", which identifies the record and cannot change"},
            {"R.actions.b", "unknown_attribute", "upsert_fields names \"colour\", which is not an attribute of R"},
            {"R.actions.c", "upsert_not_allowed", "only create actions can upsert"},
            {"R.actions.e", "upsert_options_without_upsert", "has upsert options but is not an upsert"},
        });
}

TEST_CASE("the stored model keeps upserts and generic actions' return types") {
  auto back = domain_from_json(domain_to_json(test::desk_domain())).value();
  const Resource& t = *back.resource("Ticket");
  const Action& import = *t.action("import");
  CHECK(import.upsert);
  CHECK(import.upsert_identity == "unique_reference");
  CHECK(import.upsert_fields == std::vector<std::string>{"subject", "priority"});
  CHECK(to_string(*t.action("reopen")->upsert_condition) == to_string(ref("status") == Atom{"open"}));
  CHECK(t.action("sync")->upsert_fields == std::vector<std::string>{"subject", "severity"});
  const Action& escalate = *t.action("escalate_all");
  CHECK(escalate.type == ActionType::generic);
  CHECK(escalate.returns == type::integer);
  CHECK(escalate.transaction);
  CHECK_FALSE(t.action("escalate_loosely")->transaction);
  CHECK_FALSE(escalate.run);  // code is not stored
  CHECK(escalate.arguments.size() == 4);
  CHECK(t.action("whoami")->returns == type::map);
}

TEST_CASE("after upserts, the projections equal a replay of the log") {
  Desk d;
  for (int round = 0; round < 3; ++round)
    for (const char* reference : {"HD-1", "HD-2"})
      d.engine.create("Ticket", {{"reference", reference}, {"subject", fmt::format("round {}", round)}},
                      {.action = "import"})
          .value();
  CHECK(d.engine.read("Ticket").value().size() == 2);
  CHECK(d.engine.verify().value().problems == std::vector<std::string>{});
  REQUIRE(d.engine.rebuild().has_value());
  CHECK(d.engine.get_by("Ticket", "unique_reference", {{"reference", "HD-2"}}).value()["subject"] == Value("round 2"));
}

TEST_CASE("a bulk create through an upsert action updates records created earlier in the same batch") {
  Desk d;
  auto result = d.engine.bulk_create("Ticket",
                                     {{{"reference", "HD-1"}, {"subject", "first"}},
                                      {{"reference", "HD-2"}, {"subject", "other"}},
                                      {{"reference", "HD-1"}, {"subject", "second"}, {"priority", "high"}}},
                                     {.action = "import", .batch_size = 10, .return_records = true});
  REQUIRE(result.has_value());
  CHECK(result->status == BulkStatus::success);
  REQUIRE(result->records.size() == 3);
  CHECK(result->records[2].id() == result->records[0].id());
  CHECK(result->records[2].version() == 2);
  auto events = all_events(d.engine.log());
  std::vector<ActionType> types;
  for (const auto& s : events) types.push_back(s.event.type);
  CHECK(types == std::vector<ActionType>{ActionType::create, ActionType::create, ActionType::update});
  CHECK(d.engine.read("Ticket").value().size() == 2);
  CHECK(d.engine.get_by("Ticket", "unique_reference", {{"reference", "HD-1"}}).value()["subject"] == Value("second"));
}
