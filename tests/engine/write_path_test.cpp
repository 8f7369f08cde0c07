// The write path under the user's code: what a hook, change, validation, preparation or
// generic action throws becomes an error naming the step, nothing appended; the store
// grows without running anything of the user's twice; after_transaction always runs;
// hooks may add hooks; the open transaction survives a hook that calls another engine.
#include "support/engine_helpers.hpp"
#include "support/temp_dir.hpp"

#include <ashlar/ashlar.hpp>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <stdexcept>

using namespace ashlar;
using namespace ashlar::dsl;
using ashlar::test::all_events;
using ashlar::test::log_length;
using ashlar::test::TempDir;

namespace {

// A Note's "trap" input decides which of its steps throws.
ActionStep trap(std::string when) {
  return changes::change([when](Changeset& cs) -> Result<void> {
    auto trap = cs.argument("trap");
    if (!trap.as_string() || *trap.as_string() != when) return {};
    if (when == "change") throw std::runtime_error("change broke");
    if (when == "nested") {  // another action's user_code error, returned by the change
      auto run = cs.engine().run_action("Note", "explode", {});
      if (!run) return fail(run.error());
    }
    if (when == "before_transaction")
      cs.before_transaction([](Changeset&) -> Result<void> { throw std::runtime_error("bt broke"); });
    if (when == "before_action")
      cs.before_action([](Changeset&) -> Result<void> { throw std::logic_error("ba broke"); });
    if (when == "after_action")
      cs.after_action([](Changeset&, Record r) -> Result<Record> {
        if (r.version() > 0) throw std::runtime_error("aa broke");
        return r;
      });
    if (when == "around_action")
      cs.around_action([](Changeset& c, const Changeset::Next& next) -> Result<Record> {
        auto r = next(c);
        throw 42;  // not even a std::exception
        return r;
      });
    if (when == "after_transaction")  // after the commit: what it appended stands
      cs.after_transaction([](Changeset&, Result<Record> r) -> Result<Record> {
        if (r) throw std::runtime_error("at broke");
        return r;
      });
    if (when == "late")  // a hook for a step that has run
      cs.before_transaction([](Changeset& c) -> Result<void> {
        c.around_transaction([](Changeset& c2, const Changeset::Next& next) { return next(c2); });
        return {};
      });
    if (when == "value")  // a failed .value() inside a hook keeps its error
      cs.before_action([](Changeset& c) -> Result<void> {
        c.engine().get("Note", Uuid::v4()).value();
        return {};
      });
    return {};
  });
}

Domain notes() {
  return domain("notes")
      .resource(resource("Note")
                    .uuid_primary_key("id")
                    .attribute("text", type::string)
                    .defaults({"read", "destroy", "update:*"})
                    .create("create", {.accept = {"text"},
                                       .primary = true,
                                       .arguments = {argument("trap", type::string)},
                                       .steps = {trap("change"), trap("before_transaction"), trap("before_action"),
                                                 trap("after_action"), trap("around_action"), trap("value"), trap("late"),
                                                 trap("after_transaction"), trap("nested"),
                                                 validations::validate([](const Changeset& cs) -> std::optional<FieldError> {
                                                   auto t = cs.argument("trap");
                                                   if (t.as_string() && *t.as_string() == "validation")
                                                     throw std::runtime_error("validation broke");
                                                   return std::nullopt;
                                                 }),
                                                 // A condition that throws is not a condition that fails.
                                                 changes::set_attribute("text", "conditional")
                                                     .when(validations::validate([](const Changeset& cs) -> std::optional<FieldError> {
                                                       auto t = cs.argument("trap");
                                                       if (t.as_string() && *t.as_string() == "where")
                                                         throw std::runtime_error("where broke");
                                                       return FieldError{"text", "unmet", "never set"};
                                                     }).validation)}})
                    .action("explode", {.run = [](ActionInput&) -> Result<Value> {
                                          throw std::runtime_error("run broke");
                                        }})
                    // A create whose after_transaction hook throws, run inside this action's
                    // transaction: nothing has committed when it throws.
                    .action("nest", {.returns = type::string,
                                     .transaction = true,
                                     .run = [](ActionInput& input) -> Result<Value> {
                                       auto inner = input.engine().create(
                                           "Note", {{"text", "inner"}, {"trap", "after_transaction"}}, input.to_opts());
                                       if (inner) return Value("created");
                                       return fail(inner.error());
                                     }}))
      .build()
      .value();
}

struct Notes {
  TempDir dir;
  std::vector<std::uint64_t> published;
  Engine engine = Engine::open(dir.path(), notes(), test::recording_options(published)).value();
};

}  // namespace

TEST_CASE("what the user's code throws is an error naming the step, and nothing is appended or published") {
  Notes n;
  auto message = [&](std::string trap) {
    auto r = n.engine.create("Note", {{"text", "x"}, {"trap", trap}});
    REQUIRE_FALSE(r.has_value());
    return r.error();
  };
  // Changes and validations run as the changeset is built, hooks in the action's steps:
  // what either throws is the same kind of error.
  CHECK(message("change").describe() == "unknown: Note.create: a change threw: change broke");
  CHECK(message("change").code == "user_code");
  CHECK(message("validation").describe() == "unknown: Note.create: a validation threw: validation broke");
  CHECK(message("validation").code == "user_code");
  CHECK(message("where").describe() == "unknown: Note.create: a where condition threw: where broke");
  // What another action threw keeps that action's name.
  CHECK(message("nested").describe() == "unknown: Note.create: Note.explode: run threw: run broke");
  // Built by hand, the changeset says what threw among its errors.
  auto built = n.engine.for_create("Note", {{"text", "x"}, {"trap", "change"}}).value();
  CHECK_FALSE(built.valid());
  CHECK(built.errors().at(0).code == "user_code");
  CHECK(message("before_transaction").describe() == "unknown: Note.create: before_transaction hook threw: bt broke");
  CHECK(message("before_action").describe() == "unknown: Note.create: before_action hook threw: ba broke");
  CHECK(message("after_action").describe() == "unknown: Note.create: after_action hook threw: aa broke");
  CHECK(message("around_action").describe() ==
        "unknown: Note.create: around_action hook threw: an exception that is not a std::exception");
  CHECK(message("around_action").code == "user_code");
  auto kept = message("value");
  CHECK(kept.cls == ErrorClass::not_found);  // the error of the failed .value(), as it was
  CHECK(kept.resource == "Note");

  auto run = n.engine.run_action("Note", "explode", {});
  REQUIRE_FALSE(run.has_value());
  CHECK(run.error().describe() == "unknown: Note.explode: run threw: run broke");

  CHECK(log_length(n.engine.log()) == 0);
  CHECK(n.published.empty());
  // The engine carries on.
  REQUIRE(n.engine.create("Note", {{"text", "fine"}}).has_value());
  CHECK(n.published == std::vector<std::uint64_t>{1});

  // An after_transaction hook runs after the commit: what the action appended stands, and
  // the error says so.
  CHECK(message("after_transaction").describe() ==
        "unknown: Note.create: after_transaction hook threw: at broke; the action had committed: its events are in "
        "the log");
  CHECK(log_length(n.engine.log()) == 2);
  CHECK(n.published == std::vector<std::uint64_t>{1, 2});
  // Nested in another action's transaction, it had not committed: the error says nothing
  // of a commit, and the outer action rolls it back.
  auto nested = n.engine.run_action("Note", "nest", {});
  REQUIRE_FALSE(nested.has_value());
  CHECK(nested.error().describe() == "unknown: Note.create: after_transaction hook threw: at broke");
  CHECK(log_length(n.engine.log()) == 2);
  // In a bulk create, each record's commit stands as a single action's does.
  auto bulk = n.engine.bulk_create("Note", {{{"text", "b"}, {"trap", "after_transaction"}}}).value();
  REQUIRE(bulk.errors.size() == 1);
  CHECK_THAT(bulk.errors[0].describe(), Catch::EndsWith("at broke; the action had committed: its events are in the log"));
  CHECK(log_length(n.engine.log()) == 3);
}

TEST_CASE("after_transaction runs, and around_transaction wraps, also when the changeset is invalid") {
  Notes n;
  std::vector<std::string> trace;
  auto cs = n.engine.for_create("Note", {{"text", 5}}).value();  // text is a string: invalid
  REQUIRE_FALSE(cs.valid());
  cs.around_transaction([&](Changeset& c, const Changeset::Next& next) -> Result<Record> {
    trace.push_back("around start");
    auto r = next(c);
    trace.push_back("around end");
    return r;
  });
  cs.before_transaction([&](Changeset&) -> Result<void> {
    trace.push_back("before_transaction");
    return {};
  });
  cs.after_transaction([&](Changeset& c, Result<Record> r) -> Result<Record> {
    trace.push_back(r ? "after ok" : "after " + r.error().code);
    // It may turn the error into a result.
    return Record(c.engine().domain(), c.resource(), std::vector<Value>(c.resource().attributes().size()), 0);
  });
  auto r = n.engine.run(std::move(cs));
  CHECK(r.has_value());
  CHECK(trace == std::vector<std::string>{"around start", "after invalid_input", "around end"});
  CHECK(log_length(n.engine.log()) == 0);
}

TEST_CASE("a hook that adds hooks of its own kind while they run: the new ones run in the same pass") {
  Notes n;
  std::vector<std::string> trace;
  auto cs = n.engine.for_create("Note", {{"text", "x"}}).value();
  cs.before_action([&](Changeset& c) -> Result<void> {
    trace.push_back("before 1");
    // Enough hooks to make the list move in memory.
    for (int i = 0; i < 32; ++i)
      c.before_action([&, i](Changeset&) -> Result<void> {
        if (i == 31) trace.push_back("before added");
        return {};
      });
    return {};
  });
  cs.around_action([&](Changeset& c, const Changeset::Next& next) -> Result<Record> {
    trace.push_back("around 1");
    for (int i = 0; i < 32; ++i)
      c.around_action([&, i](Changeset& c2, const Changeset::Next& inner) -> Result<Record> {
        if (i == 31) trace.push_back("around added");
        return inner(c2);
      });
    return next(c);
  });
  cs.after_transaction([&](Changeset& c, Result<Record> r) -> Result<Record> {
    trace.push_back("after_transaction 1");
    c.after_transaction([&](Changeset&, Result<Record> r2) -> Result<Record> {
      trace.push_back("after_transaction added");
      return r2;
    });
    return r;
  });
  REQUIRE(n.engine.run(std::move(cs)).has_value());
  CHECK(trace == std::vector<std::string>{"around 1", "around added", "before 1", "before added",
                                          "after_transaction 1", "after_transaction added"});
}

TEST_CASE("a hook added for a step that has already run fails the action instead of never running") {
  Notes n;
  auto before = log_length(n.engine.log());
  std::vector<std::string> trace;
  // From before_action: an after_action hook runs (its step is still to come), an
  // after_transaction one too; a before_transaction one could not, so nothing commits.
  auto cs = n.engine.for_create("Note", {{"text", "x"}}).value();
  cs.before_action([&](Changeset& c) -> Result<void> {
    c.after_action([&](Changeset&, Record r) -> Result<Record> {
      trace.push_back("after_action added");
      return r;
    });
    c.after_transaction([&](Changeset&, Result<Record> r) -> Result<Record> {
      trace.push_back(r ? "after_transaction added: ok" : "after_transaction added: " + r.error().describe());
      return r;
    });
    c.before_transaction([&](Changeset&) -> Result<void> {
      trace.push_back("late before_transaction");
      return {};
    });
    return {};
  });
  auto late = n.engine.run(std::move(cs));
  REQUIRE_FALSE(late);
  const char* message =
      "framework: Note.create: a hook of kind before_transaction was added after those hooks had run: it would never "
      "run";
  CHECK(late.error().describe() == message);
  CHECK(trace == std::vector<std::string>{"after_action added", std::string("after_transaction added: ") + message});
  CHECK(log_length(n.engine.log()) == before);

  // The same from around_action's end, for a before_action hook.
  auto again = n.engine.for_create("Note", {{"text", "y"}}).value();
  again.around_action([&](Changeset& c, const Changeset::Next& next) -> Result<Record> {
    auto r = next(c);
    c.before_action([](Changeset&) -> Result<void> { return {}; });
    return r;
  });
  auto refused = n.engine.run(std::move(again));
  REQUIRE_FALSE(refused);
  CHECK(refused.error().message == "a hook of kind before_action was added after those hooks had run: it would never run");
  CHECK(log_length(n.engine.log()) == before);

  // An after_action hook added at around_action's end: the after_action hooks have run.
  auto third = n.engine.for_create("Note", {{"text", "z"}}).value();
  third.around_action([&](Changeset& c, const Changeset::Next& next) -> Result<Record> {
    auto r = next(c);
    c.after_action([](Changeset&, Record record) -> Result<Record> { return record; });
    return r;
  });
  auto too_late = n.engine.run(std::move(third));
  REQUIRE_FALSE(too_late);
  CHECK(too_late.error().message == "a hook of kind after_action was added after those hooks had run: it would never run");
  CHECK(log_length(n.engine.log()) == before);

  // An around_transaction hook from a before_transaction hook: in a single call and in a
  // bulk action alike.
  auto single = n.engine.create("Note", {{"text", "s"}, {"trap", "late"}});
  REQUIRE_FALSE(single);
  CHECK(single.error().message == "a hook of kind around_transaction was added after those hooks had run: it would never run");
  auto bulk = n.engine.bulk_create("Note", {{{"text", "b"}, {"trap", "late"}}, {{"text", "c"}}}, {.return_errors = true});
  REQUIRE(bulk);
  CHECK(bulk->status == BulkStatus::partial_success);
  REQUIRE(bulk->errors.size() == 1);
  CHECK(bulk->errors[0].index == 0);
  CHECK(bulk->errors[0].error.message == single.error().message);
  CHECK(log_length(n.engine.log()) == before + 1);
}

TEST_CASE("growing the store never runs a hook, change or nested action twice") {
  TempDir dir;
  int changes_run = 0, before_run = 0, after_run = 0, nested_run = 0;
  auto counted = changes::change([&](Changeset& cs) -> Result<void> {
    ++changes_run;
    cs.before_action([&](Changeset& c) -> Result<void> {
      ++before_run;
      // A nested action in the same transaction.
      if (c.attribute("text").as_string() && c.attribute("text").as_string()->rfind("with note", 0) == 0) {
        ++nested_run;
        auto inner = c.engine().create("Note", {{"text", "nested"}}, c.to_opts());
        if (!inner) return fail(inner.error());
      }
      return {};
    });
    cs.after_action([&](Changeset&, Record r) -> Result<Record> {
      ++after_run;
      return r;
    });
    return {};
  });
  auto d = domain("notes")
               .resource(resource("Note")
                             .uuid_primary_key("id")
                             .attribute("text", type::string)
                             .defaults({"read", "create:*"})
                             .change(counted))
               .build()
               .value();
  constexpr std::size_t kStart = 64 << 10;
  auto engine = Engine::open(dir.path(), d,
                             {.durability = Durability::no_sync, .initial_map_size = kStart, .map_headroom = 64 << 10})
                    .value();
  std::string text(2000, 'x');
  constexpr int kActions = 400;
  for (int i = 0; i < kActions; ++i) {
    auto r = engine.create("Note", {{"text", (i % 2 ? "with note " : "plain ") + text}});
    REQUIRE(r.has_value());
  }
  CHECK(engine.log().map_size() >= 16 * kStart);
  int total = kActions + kActions / 2;  // every other action creates a nested note
  CHECK(changes_run == total);
  CHECK(before_run == total);
  CHECK(after_run == total);
  CHECK(nested_run == kActions / 2);
  CHECK(log_length(engine.log()) == static_cast<std::uint64_t>(total));
  CHECK(engine.verify().value().problems.empty());
}

TEST_CASE("an action larger than the room grown ahead: run again when it ran no user code, else store_grew") {
  TempDir dir;
  int hooks_run = 0;
  auto d = domain("notes")
               .resource(resource("Note")
                             .uuid_primary_key("id")
                             .attribute("text", type::string)
                             .defaults({"read", "create:*"})
                             .create("hooked", {.accept = {"text"},
                                                .steps = {changes::change([&](Changeset& cs) -> Result<void> {
                                                  cs.before_action([&](Changeset&) -> Result<void> {
                                                    ++hooks_run;
                                                    return {};
                                                  });
                                                  return {};
                                                })}}))
               .build()
               .value();
  auto engine = Engine::open(dir.path(), d,
                             {.durability = Durability::no_sync, .initial_map_size = 256 << 10, .map_headroom = 64 << 10})
                    .value();
  std::string big(2 << 20, 'b');  // 2 MiB: more than the map holds until it grows
  // No user code ran in it: the engine grows the map and runs it again, transparently.
  auto plain = engine.create("Note", {{"text", big}});
  REQUIRE(plain.has_value());
  CHECK(log_length(engine.log()) == 1);

  std::string bigger(16 << 20, 'c');
  auto hooked = engine.create("Note", {{"text", bigger}}, {.action = "hooked"});
  REQUIRE_FALSE(hooked.has_value());
  CHECK(hooked.error().code == "store_grew");
  CHECK(hooked.error().message ==
        "the store had to grow while the action ran, and nothing was written: run it again (its hooks have run once)");
  CHECK(hooks_run == 1);
  CHECK(log_length(engine.log()) == 1);
  // Called again (each call runs its hooks once), it fits once the map has grown enough.
  Result<Record> again = hooked;
  int calls = 1;
  while (!again && again.error().code == "store_grew" && calls < 8) {
    again = engine.create("Note", {{"text", bigger}}, {.action = "hooked"});
    ++calls;
  }
  REQUIRE(again.has_value());
  CHECK(hooks_run == calls);
  CHECK(log_length(engine.log()) == 2);
}

TEST_CASE("a hook that calls a second engine, and one that throws after it, leave the outer transaction intact") {
  TempDir dir_a, dir_b;
  auto other = Engine::open(dir_b.path(), notes(), {.durability = Durability::no_sync}).value();
  auto engine = Engine::open(dir_a.path(), notes(), {.durability = Durability::no_sync}).value();
  auto cs = engine.for_create("Note", {{"text", "outer"}}).value();
  cs.before_action([&](Changeset& c) -> Result<void> {
    REQUIRE(other.create("Note", {{"text", "in the other store"}}).has_value());
    // Back on this engine, a nested action still joins this transaction.
    auto inner = c.engine().create("Note", {{"text", "inner"}}, c.to_opts());
    if (!inner) return fail(inner.error());
    // And reads here see it: get, get_by-free read, load all use this transaction.
    auto seen = c.engine().get("Note", inner->id());
    if (!seen) return fail(seen.error());
    return {};
  });
  REQUIRE(engine.run(std::move(cs)).has_value());
  auto events = all_events(engine.log());
  REQUIRE(events.size() == 2);
  CHECK(events[0].event.tx == events[1].event.tx);
  CHECK(events[0].event.correlation_id == events[1].event.correlation_id);
  CHECK(log_length(other.log()) == 1);

  auto throwing = engine.for_create("Note", {{"text", "doomed"}}).value();
  throwing.before_action([&](Changeset&) -> Result<void> {
    REQUIRE(other.create("Note", {{"text", "kept there"}}).has_value());
    throw std::runtime_error("after the other store");
  });
  auto r = engine.run(std::move(throwing));
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().message == "before_action hook threw: after the other store");
  CHECK(log_length(engine.log()) == 2);
  CHECK(log_length(other.log()) == 2);
  // Nothing of the failed action's scope is left behind: a plain call starts afresh.
  REQUIRE(engine.create("Note", {{"text", "next"}}).has_value());
  CHECK(all_events(engine.log()).back().event.tx == 3);
}
