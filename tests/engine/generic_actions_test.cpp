// Generic actions: typed arguments, a run function that calls other actions, in one
// transaction or not, a result checked against `returns`.
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
  Record rita = engine.create("Representative", {{"name", "Rita"}}).value();
  Record sam = engine.create("Representative", {{"name", "Sam"}}).value();

  Record ticket(const char* reference, int severity, const Record& rep) {
    return engine
        .create("Ticket", {{"reference", reference}, {"subject", "s"}, {"severity", severity}, {"representative_id", rep.id()}})
        .value();
  }
  std::vector<Value> priorities() {
    std::vector<Value> out;
    auto tickets = engine.read("Ticket", {.sort = {SortKey::asc("reference")}}).value();
    for (const auto& t : tickets) out.push_back(t["priority"]);
    return out;
  }
};

const Value kHigh = Atom{"high"};
const Value kLow = Atom{"low"};

}  // namespace

TEST_CASE("a generic action runs with cast arguments, calls other actions in one transaction, returns its value") {
  Desk d;
  d.ticket("HD-1", 3, d.rita);
  d.ticket("HD-2", 1, d.rita);
  d.ticket("HD-3", 4, d.rita);
  d.ticket("HD-4", 5, d.sam);
  auto before = log_length(d.engine.log());

  auto escalated = d.engine.run_action("Ticket", "escalate_all", {{"representative_id", d.rita.id().str()}},
                                       {.actor = "ops", .correlation_id = "req-9"});
  REQUIRE(escalated.has_value());
  CHECK(*escalated == Value(2));  // min_severity defaults to 2
  CHECK(d.priorities() == std::vector<Value>{kHigh, kLow, kHigh, kLow});
  auto events = all_events(d.engine.log(), before + 1);
  REQUIRE(events.size() == 2);
  for (const auto& e : events) {
    CHECK(e.event.action == "update");
    CHECK(e.event.actor == Value("ops"));
    CHECK(e.event.correlation_id == "req-9");
    CHECK(e.event.tx == events[0].event.position);  // one transaction
  }
  CHECK(d.published.size() == before + 2);
  // The argument is cast: a string uuid, an integer.
  CHECK(d.engine.run_action("Ticket", "escalate_all", {{"representative_id", d.sam.id()}, {"min_severity", 5}}).value() ==
        Value(1));
}

TEST_CASE("a generic action's bad arguments are reported all at once, and nothing runs") {
  Desk d;
  d.ticket("HD-1", 3, d.rita);
  auto before = log_length(d.engine.log());
  auto bad = d.engine.run_action("Ticket", "escalate_all",
                                 {{"min_severity", 9}, {"colour", "red"}, {"requested_by", "me"}, {"fail_after", "x"}});
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().cls == ErrorClass::invalid);
  CHECK(bad.error().resource == "Ticket");
  CHECK(bad.error().action == "escalate_all");
  CHECK(bad.error().fields ==
        std::vector<FieldError>{
            {"colour", "unknown_input", "is not an argument of Ticket.escalate_all"},
            {"requested_by", "not_accepted", "is a private argument of Ticket.escalate_all; only private_arguments set it"},
            {"representative_id", "required", "is required"},
            {"min_severity", "max", "must be at most 5"},
            {"fail_after", "invalid_type", "expected integer, got string"},
        });
  auto not_uuid = d.engine.run_action("Ticket", "escalate_all", {{"representative_id", "nope"}});
  CHECK(not_uuid.error().fields == std::vector<FieldError>{{"representative_id", "invalid_type", "\"nope\" is not a uuid"}});
  CHECK(log_length(d.engine.log()) == before);
}

TEST_CASE("a failing run in a transaction keeps, projects and publishes nothing, without one, what it did stays") {
  Desk d;
  d.ticket("HD-1", 3, d.rita);
  d.ticket("HD-2", 3, d.rita);
  auto before = log_length(d.engine.log());

  auto failed = d.engine.run_action("Ticket", "escalate_all", {{"representative_id", d.rita.id()}, {"fail_after", 1}});
  REQUIRE_FALSE(failed.has_value());
  // The run function's error, with the action it came from.
  CHECK(failed.error().describe() == "invalid: Ticket.escalate_all: invalid input: fail_after: stopped after 1 tickets");
  CHECK(log_length(d.engine.log()) == before);
  CHECK(d.published.size() == before);
  CHECK(d.priorities() == std::vector<Value>{kLow, kLow});

  auto loose = d.engine.run_action("Ticket", "escalate_loosely", {{"representative_id", d.rita.id()}, {"fail_after", 1}});
  REQUIRE_FALSE(loose.has_value());
  CHECK(log_length(d.engine.log()) == before + 1);  // the first update committed on its own
  CHECK(d.priorities() == std::vector<Value>{kHigh, kLow});
}

TEST_CASE("a generic action's result must fit its return type") {
  Desk d;
  auto before = log_length(d.engine.log());
  CHECK(d.engine.run_action("Ticket", "echo", {{"answer", 42.0}}).value() == Value(42));  // cast to integer
  CHECK(log_length(d.engine.log()) == before + 1);

  auto half = d.engine.run_action("Ticket", "echo", {{"answer", 2.5}});
  REQUIRE_FALSE(half.has_value());
  CHECK(half.error().describe() ==
        "framework: Ticket.echo: the run function returned 2.5, which does not fit the return type integer: expected "
        "integer, got float");
  auto nothing = d.engine.run_action("Ticket", "echo", {});
  CHECK(nothing.error().message == "the run function returned nil; Ticket.echo returns integer");
  // The representative each run created went with the transaction.
  CHECK(log_length(d.engine.log()) == before + 1);
  CHECK(d.published.size() == before + 1);
}

TEST_CASE("inside a transactional generic action, reads see what it has written so far") {
  Desk d;
  d.ticket("HD-1", 1, d.rita);
  CHECK(d.engine.run_action("Ticket", "open_and_count", {{"reference", "HD-2"}}).value() == Value(2));
  CHECK(d.engine.read("Ticket").value().size() == 2);
  // A reference taken inside the transaction is a Conflict there, and nothing is kept.
  auto before = log_length(d.engine.log());
  auto taken = d.engine.run_action("Ticket", "open_and_count", {{"reference", "HD-1"}});
  REQUIRE_FALSE(taken.has_value());
  CHECK(taken.error().cls == ErrorClass::conflict);
  CHECK(taken.error().action == "create");
  CHECK(log_length(d.engine.log()) == before);
}

TEST_CASE("a generic action sees the actor, private arguments and shared context") {
  Desk d;
  auto who = d.engine.run_action("Ticket", "whoami", {},
                                 {.actor = Map{{"id", 7}}, .context = Map{{"shared", Map{{"locale", "en"}}}},
                                  .private_arguments = {{"requested_by", "cron"}}});
  CHECK(who.value() == Value(Map{{"actor", Map{{"id", 7}}}, {"requested_by", "cron"}, {"locale", "en"}}));
}

TEST_CASE("a generic action's context is deep merged with what is shared, as a changeset's is") {
  TempDir dir;
  auto d = domain("d")
               .resource(resource("R").uuid_primary_key("id").action(
                   "context", {.returns = type::map, .transaction = false, .run = [](ActionInput& input) -> Result<Value> {
                                 return Value(input.context());
                               }}))
               .build()
               .value();
  Engine engine = Engine::open(dir.path(), d, {.durability = Durability::no_sync}).value();
  Map given{{"a", Map{{"x", 1}}}, {"shared", Map{{"a", Map{{"y", 2}}}, {"locale", "en"}}}};
  auto seen = engine.run_action("R", "context", {}, {.context = given}).value();
  CHECK(seen == Value(Map{{"a", Map{{"x", 1}, {"y", 2}}}, {"locale", "en"}, given[1]}));
}

TEST_CASE("generic actions are named and typed: wrong names and kinds are Framework errors") {
  Desk d;
  CHECK(d.engine.run_action("Ticket", "escalate_everything", {}).error().message == "Ticket has no action named escalate_everything");
  CHECK(d.engine.run_action("Ticket", "create", {}).error().message == "Ticket.create is a create action, not a generic action");
  CHECK(d.engine.run_action("Ticket", "", {}).error().message == "run_action needs the name of a generic action of Ticket");
  CHECK(d.engine.create("Ticket", {}, {.action = "echo"}).error().message ==
        "Ticket.echo is a generic action, not a create action");
  CHECK(d.engine.read("Ticket", {.action = "echo"}).error().cls == ErrorClass::framework);

  auto no_run = domain("d")
                    .resource(resource("R").uuid_primary_key("id").action("go", {.returns = type::integer}))
                    .build();
  REQUIRE_FALSE(no_run.has_value());
  CHECK(no_run.error().fields == std::vector<FieldError>{{"R.actions.go", "missing_run", "a generic action needs a run function"}});
}

TEST_CASE("a generic action run from a hook joins that action's transaction") {
  Desk d;
  d.ticket("HD-1", 3, d.rita);
  auto before = log_length(d.engine.log());
  auto cs = d.engine.for_update("Representative", d.rita.id(), {{"name", "Rita B."}}).value();
  cs.after_action([](Changeset& c, Record rep) -> Result<Record> {
    auto raised = c.engine().run_action("Ticket", "escalate_loosely", {{"representative_id", rep.id()}}, c.to_opts());
    if (!raised) return fail(raised.error());
    return fail(Error::invalid("Representative", "update", {{"name", "refused", "refused after escalating"}}));
  });
  CHECK_FALSE(d.engine.run(std::move(cs)).has_value());
  // Even without transaction = true, what it wrote went with the outer action.
  CHECK(log_length(d.engine.log()) == before);
  CHECK(d.published.size() == before);
  CHECK(d.priorities() == std::vector<Value>{kLow});
}
