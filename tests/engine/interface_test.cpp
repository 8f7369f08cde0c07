// Code interfaces: named calls with positional arguments, by name through the engine or
// through typed functions declared once, each with a Result and a throwing form.
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

namespace ticket {
// Declared once, beside the domain: Helpdesk.Support.Ticket.top(user.id) in the reference.
inline constexpr Interface<std::vector<Record>(Value)> top{"Ticket", "top"};
inline constexpr Interface<Record(Value)> get_ticket{"Ticket", "get_ticket"};
inline constexpr Interface<Record(std::string)> by_reference{"Ticket", "by_reference"};
inline constexpr Interface<Record(std::string, std::string)> open{"Ticket", "open"};
inline constexpr Interface<Record(Value)> close{"Ticket", "close"};
inline constexpr Interface<Value(Uuid)> escalate{"Ticket", "escalate"};
inline constexpr Interface<Record(Value)> top_as_one{"Ticket", "top"};  // the wrong return type
}  // namespace ticket

namespace {

struct Desk {
  TempDir dir;
  Engine engine = Engine::open(dir.path(), test::desk_domain(), {.durability = Durability::no_sync}).value();
  Record rita = engine.create("Representative", {{"name", "Rita"}}).value();

  Record ticket(const char* reference, const char* priority, int severity = 3) {
    return engine
        .create("Ticket", {{"reference", reference}, {"subject", "s"}, {"priority", priority}, {"severity", severity},
                           {"representative_id", rita.id()}})
        .value();
  }
};

std::vector<Value> references(const std::vector<Record>& records) {
  std::vector<Value> out;
  for (const auto& r : records) out.push_back(r["reference"]);
  return out;
}

}  // namespace

TEST_CASE("typed code interfaces read like the reference's Ticket.top(user_id)") {
  Desk d;
  auto hd1 = d.ticket("HD-1", "high");
  d.ticket("HD-2", "low");
  d.ticket("HD-3", "medium");

  auto top = ticket::top(d.engine, d.rita.id());
  REQUIRE(top.has_value());
  CHECK(references(*top) == std::vector<Value>{"HD-1", "HD-3"});
  CHECK(ticket::get_ticket(d.engine, hd1.id()).value()["reference"] == Value("HD-1"));
  CHECK(ticket::by_reference.or_throw(d.engine, "HD-2")["priority"] == Value(Atom{"low"}));

  auto opened = ticket::open(d.engine, {.actor = "desk"}, "HD-4", "Monitor flickers");
  REQUIRE(opened.has_value());
  CHECK((*opened)["subject"] == Value("Monitor flickers"));
  CHECK(ticket::close.or_throw(d.engine, opened->id())["status"] == Value(Atom{"closed"}));
  CHECK(ticket::escalate(d.engine, *d.rita.id().as_uuid()).value() == Value(3));  // Rita's three, of severity 3
}

TEST_CASE("a get interface returns NotFound, and the throwing form throws it") {
  Desk d;
  auto missing = ticket::by_reference(d.engine, "HD-404");
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.error().cls == ErrorClass::not_found);
  CHECK(missing.error().action == "read");
  CHECK(missing.error().message == "no Ticket with reference HD-404");
  try {
    ticket::by_reference.or_throw(d.engine, "HD-404");
    FAIL("no exception");
  } catch (const Exception& e) {
    CHECK(e.error().message == "no Ticket with reference HD-404");
  }
  auto id = Uuid::v4();
  CHECK(ticket::get_ticket(d.engine, id).error().message == "no Ticket with id " + id.str());

  // get without get_by: the action's own filter must leave exactly one record.
  auto tickets = d.engine.interface("Ticket");
  CHECK(tickets.call("top_one", {d.rita.id()}).error().message == "Ticket.top found no record");
  d.ticket("HD-1", "high");
  CHECK(tickets.call("top_one", {d.rita.id()})->record()["reference"] == Value("HD-1"));
  d.ticket("HD-2", "high");
  auto two = tickets.call("top_one", {d.rita.id()});
  REQUIRE_FALSE(two.has_value());
  CHECK(two.error().cls == ErrorClass::invalid);
  CHECK(two.error().message == "the code interface Ticket.top_one expects one record, but more than one matched");
}

TEST_CASE("interfaces by name through the engine, with named inputs beside the positional ones") {
  Desk d;
  auto tickets = d.engine.interface("Ticket");
  auto opened = tickets.call("open", {"HD-9", "VPN"}, {{"priority", "high"}, {"representative_id", d.rita.id()}});
  REQUIRE(opened.has_value());
  CHECK(opened->shape == Reply::Shape::record);
  CHECK(opened->record()["priority"] == Value(Atom{"high"}));
  CHECK(references(tickets.call_or_throw("top", {d.rita.id()}).records) == std::vector<Value>{"HD-9"});
  CHECK(tickets.call("escalate", {d.rita.id()})->value == Value(0));  // severity 1 is below the default minimum
  auto removed = tickets.call("remove", {opened->record().id()});
  REQUIRE(removed.has_value());
  CHECK(d.engine.read("Ticket").value().empty());
}

TEST_CASE("wrong counts, unknown names and bad values are precise errors, and write nothing") {
  Desk d;
  auto tickets = d.engine.interface("Ticket");
  auto before = log_length(d.engine.log());

  auto two = tickets.call("top", {d.rita.id(), 2});
  REQUIRE_FALSE(two.has_value());
  CHECK(two.error().cls == ErrorClass::framework);
  CHECK(two.error().resource == "Ticket");
  CHECK(two.error().action == "top");
  CHECK(two.error().message == "Ticket.top takes 1 positional argument (user_id), given 2");
  CHECK(tickets.call("close", {}).error().message == "Ticket.close takes 1 positional argument (id), given 0");
  CHECK(tickets.call("open", {"HD-1"}).error().message ==
        "Ticket.open takes 2 positional arguments (reference, subject), given 1");
  CHECK(tickets.call("tpo", {}).error().message == "Ticket has no code interface named tpo");
  CHECK(d.engine.interface("Tikcet").call("top", {}).error().message == "domain desk has no resource named Tikcet");

  auto typo = tickets.call("top", {"not-a-uuid"});
  CHECK(typo.error().describe() == "invalid: Ticket.top: invalid input: user_id: \"not-a-uuid\" is not a uuid");
  auto twice = tickets.call("open", {"HD-1", "a"}, {{"subject", "b"}});
  CHECK(twice.error().fields == std::vector<FieldError>{{"subject", "duplicate_input", "is given both by position and by name"}});
  auto blank = tickets.call("open", {"HD-1", Value()});
  CHECK(blank.error().fields == std::vector<FieldError>{{"subject", "required", "is required"}});
  CHECK(ticket::top_as_one(d.engine, d.rita.id()).error().message ==
        "the code interface Ticket.top returns records (std::vector<Record>), not one record (Record); declare it with "
        "that return type");
  CHECK(log_length(d.engine.log()) == before);
}

TEST_CASE("code interfaces are checked when the domain is built") {
  auto built = domain("d")
                   .resource(resource("R")
                                 .uuid_primary_key("id")
                                 .attribute("code", type::string)
                                 .defaults({"read", "create:*", "destroy"})
                                 .define("make", {.action = "create", .args = {"code", "colour"}})
                                 .define("fetch", {.action = "create", .get_by = {"code"}})
                                 .define("find", {.action = "fetch_all"})
                                 .define("by_code", {.action = "read", .get_by = {"code", "code"}})
                                 .define("make", {.action = "create"}))
                   .build();
  REQUIRE_FALSE(built.has_value());
  CHECK(built.error().fields ==
        std::vector<FieldError>{
            {"R.interfaces.make", "unknown_arg", "args names \"colour\", which is not an argument or accepted attribute of R.create"},
            {"R.interfaces.fetch", "get_by_not_allowed", "get_by is for read actions; R.create is a create action"},
            {"R.interfaces.find", "unknown_action", "calls fetch_all, which is not an action of R"},
            {"R.interfaces.by_code", "duplicate_arg", "names \"code\" twice"},
            {"R.interfaces.make", "duplicate_interface", "is declared more than once"},
        });
}

namespace {

// Accounts archived by a soft destroy that records its required reason argument.
Domain accounts() {
  return domain("d")
      .resource(resource("Account")
                    .uuid_primary_key("id")
                    .attribute("name", type::string)
                    .attribute("closed_because", type::string)
                    .defaults({"read", "create:*"})
                    .destroy("archive", {.arguments = {argument("reason", type::string, {.allow_nil = false})},
                                         .steps = {changes::set_attribute("closed_because", arg("reason"))},
                                         .soft = true})
                    .define("archive_it", {.action = "archive", .args = {"reason"}}))
      .build()
      .value();
}

}  // namespace

TEST_CASE("a destroy action takes its arguments: by name, and by position through a code interface") {
  TempDir dir;
  Engine e = Engine::open(dir.path(), accounts(), {.durability = Durability::no_sync}).value();
  auto a = e.create("Account", {{"name", "a"}}).value();
  auto b = e.create("Account", {{"name", "b"}}).value();
  auto before = log_length(e.log());

  // Without its required argument, or with an input it does not take: Invalid, nothing kept.
  auto missing = e.destroy("Account", a.id(), {.action = "archive"});
  REQUIRE_FALSE(missing);
  CHECK(missing.error().describe() == "invalid: Account.archive: invalid input: reason: is required");
  auto stray = e.destroy("Account", a.id(), {{"reason", "x"}, {"name", "z"}}, {.action = "archive"});
  REQUIRE_FALSE(stray);
  CHECK(stray.error().describe() == "invalid: Account.archive: invalid input: name: is not accepted by Account.archive");
  CHECK(log_length(e.log()) == before);

  auto archived = e.destroy("Account", a.id(), {{"reason", "spam"}}, {.action = "archive"});
  REQUIRE(archived);
  CHECK(e.get("Account", a.id()).value()["closed_because"] == Value("spam"));
  auto events = all_events(e.log());
  CHECK(events.back().event.inputs == Fields{{"reason", "spam"}});

  auto by_position = e.interface("Account").call("archive_it", {b.id(), "duplicate"});
  REQUIRE(by_position);
  CHECK(e.get("Account", b.id()).value()["closed_because"] == Value("duplicate"));
}

TEST_CASE("bulk_destroy takes the destroy action's arguments for every record") {
  TempDir dir;
  Engine e = Engine::open(dir.path(), accounts(), {.durability = Durability::no_sync}).value();
  std::vector<Value> ids;
  for (const char* name : {"a", "b"}) ids.push_back(e.create("Account", {{"name", name}}).value().id());
  auto before = log_length(e.log());
  auto without = e.bulk_destroy("Account", ids, {.action = "archive"}).value();
  CHECK(without.status == BulkStatus::error);
  CHECK(log_length(e.log()) == before);
  auto archived = e.bulk_destroy("Account", Query{}, {{"reason", "cleanup"}}, {.action = "archive"}).value();
  CHECK(archived.status == BulkStatus::success);
  CHECK(archived.count == 2);
  for (const auto& id : ids) CHECK(e.get("Account", id).value()["closed_because"] == Value("cleanup"));
}
