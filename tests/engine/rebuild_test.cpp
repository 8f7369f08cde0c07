// Rebuilding projections from the log: byte for byte what the live engine folded, after
// random action sequences; resumable when interrupted; the live tables untouched until
// the swap.
#include "support/crafted_event.hpp"
#include "support/lmdb_tamper.hpp"
#include "support/random_actions.hpp"
#include "support/temp_dir.hpp"
#include "support/within_limits.hpp"

#include <ashlar/projections/rebuild.hpp>

#include <catch2/catch.hpp>

using namespace ashlar;
using ashlar::test::dump_state;
using ashlar::test::dump_tables;
using ashlar::test::RandomActions;
using ashlar::test::TableDump;
using ashlar::test::TempDir;

namespace {

// Overwrites the live projection with nonsense, as a bug or a bad restore might.
void wreck(Log& log, const StateProjection& state) {
  log.write([&](Txn& txn) -> Result<void> {
       for (std::size_t t = 0; t < state.tables().size(); ++t) {
         ASHLAR_TRY_VOID(txn.clear(state.dbs()[t]));
         ASHLAR_TRY_VOID(txn.put(state.dbs()[t], "junk", "junk"));
       }
       return {};
     }).value();
}

TableDump replay_in_memory(const Log& log, const StateProjection& state) {
  MemoryStore memory(state.tables());
  auto txn = log.read().value();
  RebuildTarget target = state.target();
  fold(log, txn, 1, 0, {&target}, {&memory}).value();
  return dump_tables(memory, state.tables());
}

struct Case {
  const char* name;
  Domain domain;
  unsigned seed;
};

}  // namespace

TEST_CASE("rebuild from the log equals the live projections byte for byte, after random actions") {
  for (const Case& c : {Case{"helpdesk", test::helpdesk_domain(), 1}, Case{"helpdesk", test::helpdesk_domain(), 7},
                        Case{"social", test::social_domain(), 3}, Case{"social", test::social_domain(), 11}}) {
    INFO(c.name << " seed " << c.seed);
    TempDir dir;
    test::RandomRun run;
    {
      auto engine = Engine::open(dir.path(), c.domain, {.durability = Durability::no_sync}).value();
      run = RandomActions(engine, c.seed).run(300);
    }
    CHECK(run.ok > 100);
    CHECK(run.failed > 10);  // failed actions are part of the property: they left nothing
    TableDump live = dump_state(dir.path(), c.domain);
    std::size_t entries = 0;
    for (const auto& [name, rows] : live) entries += rows.size();
    CHECK(entries > 60);

    auto log = Log::open(dir.path()).value();
    auto state = StateProjection::open(*log, c.domain).value();
    CHECK(replay_in_memory(*log, state) == live);

    wreck(*log, state);
    auto report = rebuild(*log, {state.target()}, {.batch_events = 64}).value();
    CHECK(report.complete);
    CHECK(report.position == log->head().value().position);
    CHECK(report.events == report.position);
    log.reset();
    CHECK(dump_state(dir.path(), c.domain) == live);
  }
}

TEST_CASE("an interrupted rebuild leaves the live tables as they were and a rerun completes it") {
  TempDir dir;
  Domain domain = test::helpdesk_domain();
  {
    auto engine = Engine::open(dir.path(), domain, {.durability = Durability::no_sync}).value();
    RandomActions(engine, 5).run(120);
  }
  TableDump live = dump_state(dir.path(), domain);
  auto log = Log::open(dir.path()).value();
  auto state = StateProjection::open(*log, domain).value();
  std::uint64_t head = log->head().value().position;

  int batches = 0;
  RebuildOptions stop_early{.batch_events = 10, .progress = [&](const RebuildProgress& p) {
                              CHECK(p.head == head);
                              return ++batches < 3;
                            }};
  auto first = rebuild(*log, {state.target()}, stop_early).value();
  CHECK_FALSE(first.complete);
  CHECK(first.position == 30);
  {
    auto txn = log->read().value();
    CHECK(rebuild_checkpoint(*log, txn).value() == std::optional<std::uint64_t>(30));
  }
  // The live tables are untouched: readers and the engine go on meanwhile.
  log.reset();
  CHECK(dump_state(dir.path(), domain) == live);
  {
    auto engine = Engine::open(dir.path(), domain, {.durability = Durability::no_sync}).value();
    engine.create("Representative", {{"name", "late"}}).value();
  }
  live = dump_state(dir.path(), domain);

  log = Log::open(dir.path()).value();
  state = StateProjection::open(*log, domain).value();
  auto second = rebuild(*log, {state.target()}, {.batch_events = 1000}).value();
  CHECK(second.complete);
  CHECK(second.resumed_from == 30);
  CHECK(second.events == head + 1 - 30);  // what the first run had not folded, and the new event
  {
    auto txn = log->read().value();
    CHECK_FALSE(rebuild_checkpoint(*log, txn).value().has_value());
  }
  log.reset();
  CHECK(dump_state(dir.path(), domain) == live);
}

TEST_CASE("a checkpoint made for other targets is not resumed") {
  TempDir dir;
  Domain domain = test::helpdesk_domain();
  {
    auto engine = Engine::open(dir.path(), domain, {.durability = Durability::no_sync}).value();
    RandomActions(engine, 9).run(60);
  }
  TableDump live = dump_state(dir.path(), domain);
  auto log = Log::open(dir.path()).value();
  auto state = StateProjection::open(*log, domain).value();
  auto stopped = rebuild(*log, {state.target()}, {.batch_events = 5, .progress = [](const RebuildProgress&) { return false; },
                                                  .fingerprint = "model 1"})
                     .value();
  CHECK(stopped.position == 5);
  auto restarted = rebuild(*log, {state.target()}, {.fingerprint = "model 2"}).value();
  CHECK(restarted.resumed_from == 0);
  CHECK(restarted.complete);
  log.reset();
  CHECK(dump_state(dir.path(), domain) == live);
}

TEST_CASE("a rebuild of an empty log empties the projections") {
  TempDir dir;
  Domain domain = test::helpdesk_domain();
  { Engine::open(dir.path(), domain).value(); }
  auto log = Log::open(dir.path()).value();
  auto state = StateProjection::open(*log, domain).value();
  wreck(*log, state);
  auto report = rebuild(*log, {state.target()}).value();
  CHECK(report.complete);
  CHECK(report.position == 0);
  log.reset();
  for (const auto& [name, rows] : dump_state(dir.path(), domain)) CHECK(rows.empty());
}

TEST_CASE("a rebuild names the event that does not fold") {
  TempDir dir;
  Domain domain = test::helpdesk_domain();
  {
    auto engine = Engine::open(dir.path(), domain).value();
    engine.create("Representative", {{"name", "a"}}).value();
  }
  auto log = Log::open(dir.path()).value();
  auto state = StateProjection::open(*log, domain).value();
  // An update of a record the log never created: the log and the fold disagree.
  log->write([&](Txn& txn) -> Result<void> {
       Event e;
       e.domain = "helpdesk";
       e.resource = "Representative";
       e.action = "update";
       e.type = ActionType::update;
       e.version = 2;
       e.key = {{"id", Uuid::v4()}};
       auto stored = log->append(txn, e);
       if (!stored) return fail(stored.error());
       return {};
     }).value();
  auto report = rebuild(*log, {state.target()});
  REQUIRE_FALSE(report.has_value());
  CHECK(report.error().message ==
        "event 2 does not fold into state: event 2 (Representative update) does not fit the state projection: the "
        "record does not exist");
}

TEST_CASE("verify and rebuild report an event that does not decode, without the memory its header claims") {
  TempDir dir;
  Domain domain = test::helpdesk_domain();
  {
    auto engine = Engine::open(dir.path(), domain).value();
    for (const char* name : {"a", "b", "c"}) engine.create("Representative", {{"name", name}}).value();
  }
  std::string bad;
  {
    auto log = Log::open_read_only(dir.path()).value();
    auto txn = log->read().value();
    bad = test::event_with_huge_changes(log->event_at(txn, 2).value()->event, 300'000'000);
  }
  test::poke_event_bytes(dir.path(), 2, bad);
  std::string decode_error = "event at position 2 does not decode: changes: the message claims more data than its " +
                             std::to_string(bad.size()) + " bytes hold";

  test::AddressSpaceLimit limit(std::size_t{1} << 30);
  auto engine = Engine::open(dir.path(), domain).value();
  auto report = engine.verify();
  REQUIRE(report.has_value());
  CHECK(report->events == 3);
  CHECK(report->problems ==
        std::vector<std::string>{
            "the hash chain breaks at position 2: the event's bytes or its stored hash were changed",
            decode_error,
            "event 3: Representative sequence 3 does not follow 1",  // the sequence 2 it carries is lost
            "the projections were not compared: 1 of the 3 events does not decode",
        });

  auto rebuilt = engine.rebuild();
  REQUIRE_FALSE(rebuilt.has_value());
  CHECK(rebuilt.error().code == codes::kDecodeError);
  CHECK(rebuilt.error().message == decode_error);
}
