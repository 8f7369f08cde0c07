// Custom projections through the Engine: in the append's transaction or asynchronous,
// caught up after a restart, rebuilt on their own, verified against a replay.
#include <ashlar/eventlog/bytes.hpp>
#include "support/domains.hpp"
#include "support/engine_helpers.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <thread>

using namespace ashlar;
using ashlar::test::TempDir;

namespace {

std::uint64_t read_be64(std::string_view s) {
  std::uint64_t v = 0;
  for (unsigned char c : s.substr(0, 8)) v = (v << 8) | c;
  return v;
}

// Events per actor ("by_actor": actor → count). `step` counts each event that many
// times: 2 plays a bug that a fixed version (1) and a rebuild repair.
class ActorCounts final : public Projection {
 public:
  ActorCounts(ProjectionMode mode = ProjectionMode::in_transaction, std::uint64_t step = 1)
      : mode_(mode), step_(step) {}
  std::string name() const override { return "activity"; }
  ProjectionMode mode() const override { return mode_; }
  std::vector<TableSpec> tables() const override { return {{"by_actor"}}; }
  Result<void> apply(StateStore& tables, const StoredEvent& e) override {
    if (const Value* subject = find_field(e.event.inputs, "subject"); subject && *subject == Value("refuse me"))
      return fail(Error::unknown("this projection refuses that subject"));
    const std::string* name = e.event.actor.as_string();
    std::string actor = name ? *name : e.event.actor.is_null() ? "(none)" : e.event.actor.str();
    auto current = tables.get(0, actor);
    if (!current) return fail(current.error());
    std::uint64_t n = *current ? read_be64(**current) : 0;
    return tables.put(0, actor, be64(n + step_));
  }

 private:
  ProjectionMode mode_;
  std::uint64_t step_;
};

std::map<std::string, std::uint64_t> counts(const Engine& engine) {
  std::map<std::string, std::uint64_t> out;
  engine
      .read_projection("activity",
                       [&](const StateStore& t) {
                         return t.scan(0, {}, [&](std::string_view k, std::string_view v) {
                           out[std::string(k)] = read_be64(v);
                           return true;
                         });
                       })
      .value();
  return out;
}

void act(Engine& engine) {
  auto rep = engine.create("Representative", {{"name", "Joe"}}, {.actor = "admin"}).value();
  engine.create("Ticket", {{"subject", "a"}, {"representative_id", rep.id()}}, {.actor = "alice"}).value();
  engine.create("Ticket", {{"subject", "b"}}, {.actor = "alice"}).value();
  engine.update("Representative", rep.id(), {{"name", "Joseph"}}, {.actor = "admin"}).value();
  engine.create("Ticket", {{"subject", "c"}}).value();
}

const std::map<std::string, std::uint64_t> kAfterAct = {{"(none)", 1}, {"admin", 2}, {"alice", 2}};

}  // namespace

TEST_CASE("an in-transaction projection folds each event with its action, and rolls back with it") {
  TempDir dir;
  auto engine =
      Engine::open(dir.path(), test::helpdesk_domain(), {.projections = {std::make_shared<ActorCounts>()}}).value();
  act(engine);
  CHECK(counts(engine) == kAfterAct);

  // A failed action leaves nothing; a projection that refuses an event fails the action.
  CHECK_FALSE(engine.create("Ticket", {{"subject", ""}, {"status", Atom{"bogus"}}}, {.actor = "eve"}).has_value());
  auto refused = engine.create("Ticket", {{"subject", "refuse me"}}, {.actor = "eve"});
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().message == "projection activity: this projection refuses that subject");
  CHECK(test::log_length(engine.log()) == 5);
  CHECK(counts(engine) == kAfterAct);
  CHECK(engine.verify().value().ok());
}

TEST_CASE("a projection new to a store folds the events it has not seen when the engine opens") {
  TempDir dir;
  {
    auto engine = Engine::open(dir.path(), test::helpdesk_domain()).value();
    act(engine);
  }
  auto engine =
      Engine::open(dir.path(), test::helpdesk_domain(), {.projections = {std::make_shared<ActorCounts>()}}).value();
  CHECK(counts(engine) == kAfterAct);
}

TEST_CASE("an asynchronous projection catches up after commits and after a restart") {
  TempDir dir;
  auto async = [] { return std::make_shared<ActorCounts>(ProjectionMode::asynchronous); };
  {
    auto engine = Engine::open(dir.path(), test::helpdesk_domain(), {.projections = {async()}}).value();
    act(engine);
    // The background thread gets there on its own...
    for (int i = 0; i < 500 && counts(engine) != kAfterAct; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    CHECK(counts(engine) == kAfterAct);
  }
  {  // ...and events appended while it was not running are folded after the restart.
    auto engine = Engine::open(dir.path(), test::helpdesk_domain()).value();
    engine.create("Representative", {{"name", "Ann"}}, {.actor = "admin"}).value();
  }
  auto engine = Engine::open(dir.path(), test::helpdesk_domain(), {.projections = {async()}}).value();
  REQUIRE(engine.catch_up().has_value());
  auto expected = kAfterAct;
  expected["admin"] = 3;
  CHECK(counts(engine) == expected);
  CHECK(engine.verify().value().ok());
}

TEST_CASE("a projection whose code was fixed is rebuilt on its own, and verify tells it apart") {
  TempDir dir;
  {
    auto buggy = std::make_shared<ActorCounts>(ProjectionMode::in_transaction, 2);
    auto engine = Engine::open(dir.path(), test::helpdesk_domain(), {.projections = {buggy}}).value();
    act(engine);
    CHECK(counts(engine).at("admin") == 4);
  }
  auto engine =
      Engine::open(dir.path(), test::helpdesk_domain(), {.projections = {std::make_shared<ActorCounts>()}}).value();
  auto report = engine.verify().value();
  REQUIRE(report.problems.size() == 1);
  CHECK(report.problems[0].rfind("proj/activity/by_actor: the entry ", 0) == 0);
  CHECK(report.problems[0].find("differs from a replay of the log") != std::string::npos);

  auto rebuilt = engine.rebuild_projection("activity").value();
  CHECK(rebuilt.complete);
  CHECK(rebuilt.events == 5);
  CHECK(counts(engine) == kAfterAct);
  CHECK(engine.verify().value().ok());
  CHECK_FALSE(engine.rebuild_projection("nope").has_value());
}

TEST_CASE("Engine::rebuild rebuilds the state and custom projections, actions going on between batches") {
  TempDir dir;
  auto engine =
      Engine::open(dir.path(), test::helpdesk_domain(), {.projections = {std::make_shared<ActorCounts>()}}).value();
  act(engine);
  int batches = 0;
  auto report = engine
                    .rebuild({.batch_events = 2, .progress = [&](const RebuildProgress&) {
                                // An action between batches: the last batch folds it too.
                                if (++batches == 1) engine.create("Ticket", {{"subject", "d"}}, {.actor = "bob"}).value();
                                return true;
                              }})
                    .value();
  CHECK(report.complete);
  CHECK(report.position == 6);
  auto expected = kAfterAct;
  expected["bob"] = 1;
  CHECK(counts(engine) == expected);
  CHECK(engine.read("Ticket").value().size() == 4);
  CHECK(engine.verify().value().ok());
}
