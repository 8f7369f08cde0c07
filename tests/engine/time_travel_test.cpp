// History and time travel through the Engine: a record's events, and get, read with
// filters and relationship loads as the domain stood at a position or a time.
#include "support/domains.hpp"
#include "support/engine_helpers.hpp"
#include "support/log_contents.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <thread>

using namespace ashlar;
using ashlar::test::TempDir;

namespace {

// A helpdesk story whose positions the tests name.
struct Story {
  TempDir dir;
  Engine engine = Engine::open(dir.path(), test::helpdesk_domain()).value();
  Record joe = engine.create("Representative", {{"name", "Joe"}}, {.actor = "admin"}).value();       // 1
  Record ticket = engine.create("Ticket", {{"subject", "Printer on fire"}, {"reference", "T-1"}},
                                {.actor = "alice"})
                      .value();                                                                        // 2
  Story() {
    engine.update("Ticket", ticket.id(), {{"representative_id", joe.id()}}, {.actor = "admin"}).value();  // 3
    engine.update("Ticket", ticket.id(), {{"status", Atom{"closed"}}, {"reference", "T-2"}},
                  {.actor = "joe"})
        .value();                                                                                        // 4
    engine.create("Ticket", {{"subject", "Coffee machine"}, {"representative_id", joe.id()}}).value();  // 5
    engine.destroy("Ticket", ticket.id(), {.actor = "admin"}).value();                                   // 6
  }
  Query at(std::uint64_t position, Query q = {}) {
    q.as_of = AsOf{.position = position};
    return q;
  }
};

}  // namespace

TEST_CASE("history returns a record's events with position, time, actor, action, inputs and changes") {
  Story s;
  auto history = s.engine.history("Ticket", s.ticket.id()).value();
  REQUIRE(history.size() == 4);
  std::vector<std::uint64_t> positions;
  for (const auto& e : history) positions.push_back(e.event.position);
  CHECK(positions == std::vector<std::uint64_t>{2, 3, 4, 6});
  CHECK(history[0].event.type == ActionType::create);
  CHECK(history[0].event.actor == Value("alice"));
  CHECK(*find_field(history[0].event.inputs, "subject") == Value("Printer on fire"));
  CHECK(history[2].event.action == "update");
  CHECK(history[2].event.actor == Value("joe"));
  CHECK(*find_field(history[2].event.changes, "status") == Value(Atom{"closed"}));
  CHECK(history[3].event.type == ActionType::destroy);
  CHECK(history[0].event.time_micros <= history[3].event.time_micros);
  CHECK(history[1].hash == test::all_events(s.engine.log())[2].hash);

  auto none = s.engine.history("Ticket", Uuid::v4());
  REQUIRE_FALSE(none.has_value());
  CHECK(none.error().cls == ErrorClass::not_found);
  CHECK(none.error().message.find("has ever existed") != std::string::npos);
}

TEST_CASE("get as of a position answers as the record stood right after that event") {
  Story s;
  CHECK(s.engine.get("Ticket", s.ticket.id(), s.at(2)).value()["representative_id"].is_null());
  auto assigned = s.engine.get("Ticket", s.ticket.id(), s.at(3)).value();
  CHECK(assigned["representative_id"] == s.joe.id());
  CHECK(assigned.version() == 2);
  auto closed = s.engine.get("Ticket", s.ticket.id(), s.at(5)).value();
  CHECK(closed["status"] == Value(Atom{"closed"}));
  CHECK(closed["reference"] == Value("T-2"));

  auto before = s.engine.get("Ticket", s.ticket.id(), s.at(1));
  REQUIRE_FALSE(before.has_value());
  CHECK(before.error().cls == ErrorClass::not_found);
  std::string id = s.ticket.id().str();
  CHECK(before.error().message == "no Ticket with primary key " + id + " as of position 1: it was created at position 2");
  auto destroyed = s.engine.get("Ticket", s.ticket.id(), s.at(6));
  REQUIRE_FALSE(destroyed.has_value());
  CHECK(destroyed.error().cls == ErrorClass::not_found);
  CHECK(destroyed.error().message ==
        "no Ticket with primary key " + id + " as of position 6: it was destroyed at position 6");
  Uuid stranger = Uuid::v4();
  CHECK(s.engine.get("Ticket", stranger, s.at(3)).error().message ==
        "no Ticket with primary key " + stranger.str() + " as of position 3: it has never existed");

  auto beyond = s.engine.get("Ticket", s.ticket.id(), s.at(7));
  REQUIRE_FALSE(beyond.has_value());
  CHECK(beyond.error().fields.at(0) == FieldError{"as_of", "beyond_head", "position 7 is past the head: the log has 6 events"});
}

TEST_CASE("reads as of a position filter, use indexes and identities, and load relationships as they stood") {
  Story s;
  using namespace ashlar::dsl;
  auto open_then = s.engine.read("Ticket", s.at(3, {.filter = ref("status") == Atom{"open"}})).value();
  REQUIRE(open_then.size() == 1);
  CHECK(open_then[0].id() == s.ticket.id());
  CHECK(s.engine.read("Ticket", s.at(4, {.filter = ref("status") == Atom{"open"}})).value().empty());

  // The has_many goes through idx/Ticket/representative_id as it stood.
  auto joe3 = s.engine.get("Representative", s.joe.id(), s.at(3, {.load = {"tickets", "ticket_count"}})).value();
  CHECK(joe3.related("tickets").size() == 1);
  CHECK(joe3["ticket_count"] == Value(1));
  auto joe5 = s.engine.get("Representative", s.joe.id(), s.at(5, {.load = {"tickets"}})).value();
  CHECK(joe5.related("tickets").size() == 2);
  auto joe6 = s.engine.get("Representative", s.joe.id(), s.at(6, {.load = {"tickets"}})).value();
  CHECK(joe6.related("tickets").size() == 1);
  auto now = s.engine.get("Representative", s.joe.id(), {.load = {"tickets"}}).value();
  CHECK(now.related("tickets").size() == 1);

  // Identity lookups see the reference the ticket had then.
  auto by_ref = s.engine.read("Ticket", s.at(3, {.filter = ref("reference") == "T-1"})).value();
  CHECK(by_ref.size() == 1);
  CHECK(s.engine.read("Ticket", s.at(4, {.filter = ref("reference") == "T-1"})).value().empty());

  // A to-one load from the past.
  auto ticket3 = s.engine.get("Ticket", s.ticket.id(), s.at(3, {.load = {"representative"}})).value();
  REQUIRE(ticket3.one("representative") != nullptr);
  CHECK((*ticket3.one("representative"))["name"] == Value("Joe"));
}

TEST_CASE("reads as of a time take the last event at or before it") {
  TempDir dir;
  auto engine = Engine::open(dir.path(), test::helpdesk_domain()).value();
  auto rep = engine.create("Representative", {{"name", "Ann"}}).value();
  std::this_thread::sleep_for(std::chrono::milliseconds(3));
  DateTime between = DateTime::now();
  std::this_thread::sleep_for(std::chrono::milliseconds(3));
  engine.update("Representative", rep.id(), {{"name", "Anne"}}).value();

  auto then = engine.get("Representative", rep.id(), {.as_of = AsOf{.time = between}}).value();
  CHECK(then["name"] == Value("Ann"));
  auto later = engine.get("Representative", rep.id(), {.as_of = AsOf{.time = DateTime::now()}}).value();
  CHECK(later["name"] == Value("Anne"));
  auto before = engine.read("Representative", {.as_of = AsOf{.time = DateTime{0}}}).value();
  CHECK(before.empty());
}

TEST_CASE("event times never go back along the log, so a read as of a time is the log up to it") {
  TempDir dir;
  auto engine = Engine::open(dir.path(), test::social_domain()).value();
  auto user = engine.create("User", {{"name", "ann"}}).value();
  // Stamped now, run after another create has committed: its changeset's time is earlier.
  auto late = engine.for_create("Tweet", {{"body", "late"}, {"user_id", user.id()}}).value();
  std::this_thread::sleep_for(std::chrono::milliseconds(3));
  auto first = engine.create("Tweet", {{"body", "first"}, {"user_id", user.id()}}).value();
  auto second = engine.run(std::move(late)).value();
  auto first_event = engine.history("Tweet", first.id()).value().at(0).event;
  auto late_event = engine.history("Tweet", second.id()).value().at(0).event;
  REQUIRE(late_event.position == first_event.position + 1);
  // Its time is moved up to the last event's, and its timestamp with it.
  CHECK(late_event.time_micros == first_event.time_micros);
  CHECK(second["inserted_at"] == Value(DateTime{late_event.time_micros}));
  CHECK(engine.get("Tweet", second.id()).value()["inserted_at"] == Value(DateTime{late_event.time_micros}));
  auto bodies = [&](std::int64_t micros) {
    std::vector<std::string> out;
    for (const auto& t : engine.read("Tweet", {.sort = {SortKey{"body"}}, .as_of = AsOf{.time = DateTime{micros}}}).value())
      out.push_back(*t["body"].as_string());
    return out;
  };
  CHECK(bodies(first_event.time_micros - 1).empty());
  CHECK(bodies(first_event.time_micros) == std::vector<std::string>{"first", "late"});
  CHECK(engine.verify().value().ok());
}

TEST_CASE("get_by as of a position finds the identity's holder then, not now") {
  TempDir dir;
  auto engine = Engine::open(dir.path(), test::helpdesk_domain(), {.durability = Durability::no_sync}).value();
  auto first = engine.create("Ticket", {{"subject", "a"}, {"reference", "HD-1"}}).value();
  std::uint64_t held = test::log_length(engine.log());
  engine.update("Ticket", first.id(), {{"reference", "HD-2"}}).value();
  auto second = engine.create("Ticket", {{"subject", "b"}, {"reference", "HD-1"}}).value();
  std::uint64_t now = test::log_length(engine.log());
  auto by_reference = [&](const char* reference, std::uint64_t position) {
    return engine.get_by("Ticket", "unique_reference", {{"reference", reference}}, {.as_of = AsOf{.position = position}});
  };
  CHECK(by_reference("HD-1", held).value().id() == first.id());
  CHECK(by_reference("HD-1", now).value().id() == second.id());
  CHECK(by_reference("HD-2", now).value().id() == first.id());
  auto none = by_reference("HD-2", held);
  REQUIRE_FALSE(none.has_value());
  CHECK(none.error().describe() == "not_found: Ticket: no Ticket with unique_reference \"HD-2\"");
}

TEST_CASE("a single record's past state reads only that record's events") {
  TempDir dir;
  auto engine = Engine::open(dir.path(), test::helpdesk_domain(), {.durability = Durability::no_sync}).value();
  auto rep = engine.create("Representative", {{"name", "Ann"}}).value();
  for (int i = 0; i < 300; ++i) engine.create("Representative", {{"name", "other " + std::to_string(i)}}).value();
  engine.update("Representative", rep.id(), {{"name", "Anne"}}).value();

  const auto& lookups = engine.log().counters().lookups;
  auto before = lookups.load();
  auto past = engine.get("Representative", rep.id(), {.as_of = AsOf{.position = 100}}).value();
  CHECK(past["name"] == Value("Ann"));
  // The head, the record's last version, its by_record entries and events: a handful,
  // never one per event of the log.
  CHECK(lookups.load() - before < 20);

  before = lookups.load();
  CHECK(engine.read("Representative", {.as_of = AsOf{.position = 100}}).value().size() == 100);
  CHECK(lookups.load() - before >= 1);  // a scan folds the log up to 100
}
