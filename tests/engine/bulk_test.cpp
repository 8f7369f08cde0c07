// Bulk actions: batches in one write transaction each, the single-action lifecycle per
// record, failures that roll back alone (or stop the operation), and what is returned.
#include "support/engine_helpers.hpp"
#include "support/temp_dir.hpp"

#include <ashlar/ashlar.hpp>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <set>

using namespace ashlar;
using namespace ashlar::dsl;
using ashlar::test::all_events;
using ashlar::test::log_length;
using ashlar::test::TempDir;

namespace {

std::vector<std::string> g_trace;

// The bulk index Ash puts in a bulk changeset's context.
std::string index_of(const Changeset& cs) {
  for (const char* kind : {"bulk_create", "bulk_update", "bulk_destroy"})
    if (const Value* bulk = find_field(cs.context(), kind))
      return fmt::format("{}", find_field(*bulk->as_map(), "index")->str());
  return "-";
}

// Adds a hook of every kind, each tracing itself with the record's bulk index.
ActionStep trace_hooks() {
  return changes::change([](Changeset& cs) -> Result<void> {
    auto add = [](const Changeset& c, const char* what) { g_trace.push_back(fmt::format("{} {}", what, index_of(c))); };
    cs.around_transaction([add](Changeset& c, const Changeset::Next& next) {
      add(c, "around_transaction start");
      auto r = next(c);
      add(c, "around_transaction end");
      return r;
    });
    cs.before_transaction([add](Changeset& c) -> Result<void> {
      add(c, "before_transaction");
      return {};
    });
    cs.around_action([add](Changeset& c, const Changeset::Next& next) {
      add(c, "around_action start");
      auto r = next(c);
      add(c, "around_action end");
      return r;
    });
    cs.before_action([add](Changeset& c) -> Result<void> {
      add(c, "before_action");
      return {};
    });
    cs.after_action([add](Changeset& c, Record r) -> Result<Record> {
      add(c, "after_action");
      return r;
    });
    cs.after_transaction([add](Changeset& c, Result<Record> r) -> Result<Record> {
      add(c, r ? "after_transaction ok" : "after_transaction error");
      return r;
    });
    return {};
  });
}

Domain blog() {
  return domain("blog")
      .resource(resource("Post")
                    .uuid_primary_key("id")
                    .attribute("title", type::string, {.allow_nil = false, .constraints = {.max_length = 20}})
                    .attribute("slug", type::string)
                    .attribute("status", type::atom, {.default_value = Atom{"draft"}})
                    .attribute("edits", type::integer, {.default_value = 0})
                    .identity("unique_slug", {"slug"})
                    .defaults({"read", "destroy", "create:*", "update:*"})
                    .create("traced", {.accept = {"title", "slug"}, .steps = {trace_hooks()}})
                    .update("publish", {.accept = AcceptList::none(),
                                        .steps = {validations::attribute_does_not_equal("status", Atom{"archived"}),
                                                  changes::set_attribute("status", Atom{"published"}),
                                                  changes::increment("edits")}})
                    .create("remember_context",
                            {.accept = {"title"},
                             .steps = {changes::change([](Changeset& cs) -> Result<void> {
                               std::string keys;
                               for (const auto& [key, value] : cs.context()) keys += key + " ";
                               g_trace.push_back(keys + index_of(cs));
                               if (const Value* bulk = find_field(cs.context(), "bulk_create"))
                                 g_trace.push_back(bulk->str());
                               return {};
                             })}})
                    .create("refuse_before_transaction",
                            {.accept = {"title"},
                             .steps = {changes::change([](Changeset& cs) -> Result<void> {
                               cs.before_transaction([](Changeset& c) -> Result<void> {
                                 if (c.attribute("title") == Value("late"))
                                   return fail(Error::conflict("Post", "the import window is closed"));
                                 return {};
                               });
                               cs.after_transaction([](Changeset& c, Result<Record> r) -> Result<Record> {
                                 g_trace.push_back(fmt::format("after_transaction {} {}", index_of(c), r ? "ok" : r.error().message));
                                 return r;
                               });
                               return {};
                             })}})
                    .create("rescued",
                            {.accept = {"title"},
                             .steps = {changes::change([](Changeset& cs) -> Result<void> {
                               cs.around_transaction([](Changeset& c, const Changeset::Next& next) {
                                 g_trace.push_back("around_transaction " + index_of(c));
                                 return next(c);
                               });
                               cs.after_transaction([](Changeset& c, Result<Record> r) -> Result<Record> {
                                 g_trace.push_back(fmt::format("after_transaction {} {}", index_of(c), r ? "ok" : r.error().message));
                                 if (r) return r;
                                 return c.engine().create("Post", {{"title", "rescued " + index_of(c)}});
                               });
                               return {};
                             })}})
                    .create("late_error",
                            {.accept = {"title"},
                             .steps = {changes::change([](Changeset& cs) -> Result<void> {
                               cs.around_transaction([](Changeset& c, const Changeset::Next& next) {
                                 c.add_error({"title", "late", "is found wanting by an around hook"});
                                 return next(c);
                               });
                               return {};
                             })}})
                    .create("refuse_in_transaction",
                            {.accept = {"title"},
                             .steps = {changes::change([](Changeset& cs) -> Result<void> {
                               cs.before_action([](Changeset& c) -> Result<void> {
                                 if (c.attribute("title") == Value("bad"))
                                   return fail(Error::invalid("Post", "refuse_in_transaction",
                                                              {{"title", "refused", "is refused in the transaction"}}));
                                 return {};
                               });
                               return {};
                             })}}))
      .build()
      .value();
}

// Remembers each notify call's positions: one call per committed transaction.
class Batches final : public Notifier {
 public:
  void notify(std::span<const StoredEvent> events) override {
    std::vector<std::uint64_t> positions;
    for (const auto& e : events) positions.push_back(e.event.position);
    calls.push_back(std::move(positions));
  }
  std::vector<std::vector<std::uint64_t>> calls;
};

struct Blog {
  TempDir dir;
  std::shared_ptr<Batches> notified = std::make_shared<Batches>();
  Engine engine = Engine::open(dir.path(), blog(), {.durability = Durability::no_sync, .notifiers = {notified}}).value();

  std::vector<std::string> titles() {
    std::vector<std::string> out;
    auto records = engine.read("Post", {.sort = {SortKey{"title"}}}).value();
    for (const auto& r : records) out.push_back(*r["title"].as_string());
    return out;
  }
};

std::vector<Fields> posts(std::vector<std::string> titles) {
  std::vector<Fields> out;
  for (auto& t : titles) out.push_back({{"title", t}});
  return out;
}

std::vector<std::string> titles_of(const std::vector<Record>& records) {
  std::vector<std::string> out;
  for (const auto& r : records) out.push_back(*r["title"].as_string());
  return out;
}

}  // namespace

TEST_CASE("bulk_create: one write transaction per batch, a bad input fails alone, reported with its index") {
  Blog b;
  std::string too_long(21, 'x');
  auto result = b.engine
                    .bulk_create("Post", posts({"a", "b", too_long, "d", "e"}),
                                 {.correlation_id = "import-7", .batch_size = 2, .return_records = true})
                    .value();
  CHECK(result.status == BulkStatus::partial_success);
  CHECK(result.count == 4);
  CHECK(result.error_count == 1);
  CHECK(titles_of(result.records) == std::vector<std::string>{"a", "b", "d", "e"});
  REQUIRE(result.errors.size() == 1);
  CHECK(result.errors[0].index == 2);
  CHECK(result.errors[0].describe() ==
        "input 2: invalid: Post.create: invalid input: title: must be at most 20 characters long");

  auto events = all_events(b.engine.log());
  REQUIRE(events.size() == 4);
  std::vector<std::uint64_t> tx;
  for (const auto& e : events) {
    tx.push_back(e.event.tx);
    CHECK(e.event.correlation_id == "import-7");
  }
  // Inputs 0 and 1 committed together, then 3 (2 failed), then 4.
  CHECK(tx == std::vector<std::uint64_t>{1, 1, 3, 4});
  CHECK(b.notified->calls == std::vector<std::vector<std::uint64_t>>{{1, 2}, {3}, {4}});
  CHECK(b.titles() == std::vector<std::string>{"a", "b", "d", "e"});
  CHECK(to_string(result.status) == std::string("partial_success"));
}

TEST_CASE("bulk_create: a record that fails inside the batch's transaction rolls back alone") {
  Blog b;
  SECTION("an identity taken by an earlier input of the same batch") {
    std::vector<Fields> inputs{{{"title", "a"}, {"slug", "s"}}, {{"title", "b"}, {"slug", "s"}}, {{"title", "c"}}};
    auto result = b.engine.bulk_create("Post", inputs).value();
    CHECK(result.count == 2);
    REQUIRE(result.errors.size() == 1);
    CHECK(result.errors[0].describe() ==
          "input 1: conflict: Post.create: identity unique_slug is taken: another Post has \"s\": slug: has already "
          "been taken");
    CHECK(b.titles() == std::vector<std::string>{"a", "c"});
  }
  SECTION("a before_action hook's error") {
    auto result = b.engine.bulk_create("Post", posts({"a", "bad", "c"}), {.action = "refuse_in_transaction"}).value();
    CHECK(result.status == BulkStatus::partial_success);
    REQUIRE(result.errors.size() == 1);
    CHECK(result.errors[0].describe() ==
          "input 1: invalid: Post.refuse_in_transaction: invalid input: title: is refused in the transaction");
    CHECK(b.titles() == std::vector<std::string>{"a", "c"});
  }
  // Nothing of the failed record in the log, the projection or the notifications.
  auto events = all_events(b.engine.log());
  REQUIRE(events.size() == 2);
  CHECK(events[0].event.position == 1);
  CHECK(events[1].event.position == 2);
  CHECK(events[0].event.tx == events[1].event.tx);
  CHECK(b.notified->calls == std::vector<std::vector<std::uint64_t>>{{1, 2}});
  CHECK(b.engine.verify().value().problems.empty());
}

TEST_CASE("bulk_create with stop_on_error: the failing batch is rolled back whole, later inputs never run") {
  Blog b;
  SECTION("a failure inside the transaction") {
    auto result = b.engine
                      .bulk_create("Post", posts({"a", "b", "c", "bad", "e"}),
                                   {.action = "refuse_in_transaction", .batch_size = 2, .return_records = true,
                                    .stop_on_error = true})
                      .value();
    CHECK(result.status == BulkStatus::error);
    CHECK(result.count == 2);  // the first batch, committed before the error
    CHECK(titles_of(result.records) == std::vector<std::string>{"a", "b"});
    CHECK(result.error_count == 1);
    REQUIRE(result.errors.size() == 1);
    CHECK(result.errors[0].index == 3);
    CHECK(result.errors[0].describe() ==
          "input 3: invalid: Post.refuse_in_transaction: invalid input: title: is refused in the transaction");
  }
  SECTION("an input that does not validate: its batch does not start") {
    g_trace.clear();
    std::string too_long(21, 'x');
    auto result = b.engine
                      .bulk_create("Post", posts({"a", "b", "c", too_long, "e"}),
                                   {.action = "traced", .batch_size = 2, .stop_on_error = true})
                      .value();
    CHECK(result.status == BulkStatus::error);
    CHECK(result.count == 2);
    REQUIRE(result.errors.size() == 1);
    CHECK(result.errors[0].describe() ==
          "input 3: invalid: Post.traced: invalid input: title: must be at most 20 characters long");
    // Inputs 0 and 1, eight hooks each; then input 3's around_transaction and
    // after_transaction, which hear its error (they run for an invalid changeset too).
    REQUIRE(g_trace.size() == 19);
    CHECK(std::vector<std::string>(g_trace.begin() + 16, g_trace.end()) ==
          std::vector<std::string>{"around_transaction start 3", "after_transaction error 3", "around_transaction end 3"});
    for (const auto& line : g_trace) CHECK(line.back() != '2');  // input 2's hooks never ran
  }
  CHECK(b.titles() == std::vector<std::string>{"a", "b"});
  CHECK(log_length(b.engine.log()) == 2);
  CHECK(b.notified->calls == std::vector<std::vector<std::uint64_t>>{{1, 2}});
}

TEST_CASE("bulk actions run every hook of the lifecycle, in order, around one transaction per batch") {
  Blog b;
  g_trace.clear();
  auto result = b.engine.bulk_create("Post", posts({"a", "b"}), {.action = "traced"}).value();
  CHECK(result.count == 2);
  CHECK(g_trace == std::vector<std::string>{
                       "around_transaction start 0", "around_transaction start 1", "before_transaction 0",
                       "before_transaction 1", "around_action start 0", "before_action 0", "after_action 0",
                       "around_action end 0", "around_action start 1", "before_action 1", "after_action 1",
                       "around_action end 1", "after_transaction ok 0", "after_transaction ok 1",
                       "around_transaction end 1", "around_transaction end 0"});
}

TEST_CASE("bulk_update by query, by ids and by records, bulk_destroy") {
  Blog b;
  b.engine.bulk_create("Post", posts({"a", "b", "c", "d"})).value();
  auto all = b.engine.read("Post", {.sort = {SortKey{"title"}}}).value();
  b.engine.update("Post", all[3].id(), {{"status", Atom{"archived"}}}).value();
  std::uint64_t before = log_length(b.engine.log());

  SECTION("by query: every record the filter selects, changes and validations per record") {
    auto result = b.engine
                      .bulk_update("Post", Query{.filter = ref("status") == Atom{"draft"}}, {},
                                   {.action = "publish", .return_records = true})
                      .value();
    CHECK(result.status == BulkStatus::success);
    CHECK(result.count == 3);
    for (const auto& r : result.records) {
      CHECK(r["status"] == Value(Atom{"published"}));
      CHECK(r["edits"] == Value(1));
      CHECK(r.version() == 2);
    }
    CHECK(b.engine.get("Post", all[3].id()).value()["status"] == Value(Atom{"archived"}));
    CHECK(log_length(b.engine.log()) == before + 3);
  }
  SECTION("by ids: an unknown id and an invalid record fail at their index") {
    Value missing = Uuid::v4();
    auto result = b.engine
                      .bulk_update("Post", std::vector<Value>{all[0].id(), missing, all[3].id(), all[1].id()}, {},
                                   {.action = "publish"})
                      .value();
    CHECK(result.status == BulkStatus::partial_success);
    CHECK(result.count == 2);
    REQUIRE(result.errors.size() == 2);
    CHECK(result.errors[0].describe() == "input 1: not_found: Post.publish: no Post with primary key " + missing.str());
    CHECK(result.errors[1].describe() == "input 2: invalid: Post.publish: invalid input: status: must not equal :archived");
    CHECK(log_length(b.engine.log()) == before + 2);
  }
  SECTION("bulk_destroy by records returns them as they were") {
    auto result = b.engine
                      .bulk_destroy("Post", std::vector<Record>{all[0], all[2]}, {.return_records = true})
                      .value();
    CHECK(result.count == 2);
    CHECK(result.records == std::vector<Record>{all[0], all[2]});
    CHECK(b.titles() == std::vector<std::string>{"b", "d"});
    auto by_query = b.engine.bulk_destroy("Post", Query{.filter = ref("title") == "b"}).value();
    CHECK(by_query.count == 1);
    CHECK(b.titles() == std::vector<std::string>{"d"});
  }
}

TEST_CASE("bulk options: notify off publishes nothing, return_errors off keeps the count only") {
  Blog b;
  std::string too_long(21, 'x');
  auto result =
      b.engine.bulk_create("Post", posts({"a", too_long}), {.return_errors = false, .notify = false}).value();
  CHECK(result.count == 1);
  CHECK(result.error_count == 1);
  CHECK(result.errors.empty());
  CHECK(result.records.empty());  // return_records is off by default
  CHECK(b.notified->calls.empty());
  CHECK(log_length(b.engine.log()) == 1);
  b.engine.create("Post", {{"title", "c"}}).value();
  CHECK(b.notified->calls == std::vector<std::vector<std::uint64_t>>{{2}});
}

TEST_CASE("bulk actions refuse what they cannot start, an empty list does nothing") {
  Blog b;
  CHECK(b.engine.bulk_create("Post", posts({"a"}), {.batch_size = 0}).error().describe() ==
        "framework: a bulk action's batch_size is at least 1");
  CHECK(b.engine.bulk_create("Nope", posts({"a"})).error().describe() == "framework: domain blog has no resource named Nope");
  CHECK(b.engine.bulk_update("Post", std::vector<Value>{}, {}, {.action = "traced"}).error().describe() ==
        "framework: Post.traced is a create action, not an update action");
  CHECK(b.engine.bulk_destroy("Post", Query{.as_of = AsOf{.position = 1}}).error().describe() ==
        "framework: bulk_destroy of Post acts on the current records; a query with as_of reads the past");
  auto none = b.engine.bulk_create("Post", {}).value();
  CHECK(none.status == BulkStatus::success);
  CHECK(none.count == 0);
  CHECK(log_length(b.engine.log()) == 0);
}

TEST_CASE("bulk actions with an idempotency key: a retry runs only what did not succeed") {
  Blog b;
  std::string too_long(21, 'x');
  auto first = b.engine
                   .bulk_create("Post", posts({"a", too_long, "c"}),
                                {.batch_size = 2, .return_records = true, .idempotency_key = "import-1"})
                   .value();
  CHECK(first.count == 2);
  auto events = all_events(b.engine.log());
  REQUIRE(events.size() == 2);
  CHECK(events[0].event.idempotency_key == "import-1/0");
  CHECK(events[1].event.idempotency_key == "import-1/2");

  auto retry = b.engine
                   .bulk_create("Post", posts({"a", "b", "c"}),
                                {.batch_size = 2, .return_records = true, .idempotency_key = "import-1"})
                   .value();
  CHECK(retry.status == BulkStatus::success);
  CHECK(retry.count == 3);
  CHECK(retry.records[0] == first.records[0]);
  CHECK(retry.records[2] == first.records[1]);
  CHECK(log_length(b.engine.log()) == 3);  // only "b" was created
  CHECK(b.titles() == std::vector<std::string>{"a", "b", "c"});
}

TEST_CASE("bulk_create: a batch that fills the map is run again once the store has grown") {
  TempDir dir;
  auto engine = Engine::open(dir.path(), blog(), {.durability = Durability::no_sync, .initial_map_size = 1 << 20}).value();
  std::vector<Fields> inputs;
  for (int i = 0; i < 3000; ++i) inputs.push_back({{"title", fmt::format("post {}", i)}, {"slug", fmt::format("s{}", i)}});
  auto result = engine.bulk_create("Post", inputs, {.batch_size = 1000}).value();
  CHECK(result.status == BulkStatus::success);
  CHECK(result.count == 3000);
  CHECK(engine.log().map_size() > std::size_t{1} << 20);
  CHECK(log_length(engine.log()) == 3000);
  CHECK(engine.verify().value().problems.empty());
}

TEST_CASE("bulk_create: a before_transaction hook's error fails its record before the transaction") {
  Blog b;
  g_trace.clear();
  SECTION("the others go on") {
    auto result = b.engine.bulk_create("Post", posts({"a", "late", "c"}), {.action = "refuse_before_transaction"}).value();
    CHECK(result.count == 2);
    REQUIRE(result.errors.size() == 1);
    CHECK(result.errors[0].describe() == "input 1: conflict: Post: the import window is closed");
    CHECK(g_trace == std::vector<std::string>{"after_transaction 0 ok", "after_transaction 1 the import window is closed",
                                              "after_transaction 2 ok"});
    CHECK(b.titles() == std::vector<std::string>{"a", "c"});
    CHECK(b.notified->calls == std::vector<std::vector<std::uint64_t>>{{1, 2}});
  }
  SECTION("with stop_on_error the batch does not start; after_transaction hooks hear why") {
    auto result = b.engine
                      .bulk_create("Post", posts({"a", "late", "c"}),
                                   {.action = "refuse_before_transaction", .stop_on_error = true})
                      .value();
    CHECK(result.status == BulkStatus::error);
    CHECK(result.count == 0);
    REQUIRE(result.errors.size() == 1);
    CHECK(result.errors[0].index == 1);
    // Input 0 had started (its before_transaction ran); input 2 never did.
    CHECK(g_trace == std::vector<std::string>{
                         "after_transaction 0 not run: the bulk action stopped at an earlier error",
                         "after_transaction 1 the import window is closed"});
    CHECK(log_length(b.engine.log()) == 0);
    CHECK(b.notified->calls.empty());
  }
}

TEST_CASE("bulk_create: an invalid input's around_transaction and after_transaction run, as a single call's do") {
  Blog b;
  g_trace.clear();
  SECTION("its hooks hear the error, before the batch's transaction; nothing of it is written") {
    auto result =
        b.engine.bulk_create("Post", {{{"title", "ok"}}, {{"title", "a title far longer than twenty"}}}, {.action = "traced"})
            .value();
    CHECK(result.status == BulkStatus::partial_success);
    CHECK(result.count == 1);
    REQUIRE(result.errors.size() == 1);
    CHECK(result.errors[0].describe() ==
          "input 1: invalid: Post.traced: invalid input: title: must be at most 20 characters long");
    CHECK(g_trace == std::vector<std::string>{
                         "around_transaction start 1", "after_transaction error 1", "around_transaction end 1",
                         "around_transaction start 0", "before_transaction 0", "around_action start 0",
                         "before_action 0", "after_action 0", "around_action end 0", "after_transaction ok 0",
                         "around_transaction end 0"});
    CHECK(b.titles() == std::vector<std::string>{"ok"});
    CHECK(b.notified->calls == std::vector<std::vector<std::uint64_t>>{{1}});
  }
  SECTION("its error is the changeset's once its around hooks ran, as a single call's is") {
    auto single = b.engine.create("Post", {}, {.action = "late_error"});
    REQUIRE_FALSE(single);
    auto result = b.engine.bulk_create("Post", {{}}, {.action = "late_error"}).value();
    REQUIRE(result.errors.size() == 1);
    CHECK(result.errors[0].error.describe() == single.error().describe());
    CHECK(result.errors[0].error.fields.size() == 2);
    CHECK(log_length(b.engine.log()) == 0);
  }
  for (bool stop : {false, true}) {
    SECTION(stop ? "an after_transaction hook that rescues it: the operation goes on, even with stop_on_error"
                 : "an after_transaction hook that rescues it: its result is the rescue's") {
      auto result =
          b.engine.bulk_create("Post", {{{"title", "a"}}, {}, {{"title", "c"}}}, {.action = "rescued", .stop_on_error = stop})
              .value();
      CHECK(result.status == BulkStatus::success);
      CHECK(result.count == 3);
      CHECK(g_trace == std::vector<std::string>{"around_transaction 1", "after_transaction 1 invalid input",
                                                "around_transaction 0", "around_transaction 2",
                                                "after_transaction 0 ok", "after_transaction 2 ok"});
      CHECK(b.titles() == std::vector<std::string>{"a", "c", "rescued 1"});
    }
  }
}

TEST_CASE("bulk_create with stop_on_error: a conflict of a record without hooks stops the operation too") {
  Blog b;
  std::vector<Fields> inputs{{{"title", "a"}, {"slug", "x"}}, {{"title", "b"}, {"slug", "y"}},
                             {{"title", "c"}, {"slug", "x"}}, {{"title", "d"}}};
  auto result = b.engine.bulk_create("Post", inputs, {.batch_size = 2, .stop_on_error = true}).value();
  CHECK(result.status == BulkStatus::error);
  CHECK(result.count == 2);
  REQUIRE(result.errors.size() == 1);
  CHECK(result.errors[0].index == 2);
  CHECK(result.errors[0].error.cls == ErrorClass::conflict);
  CHECK(b.titles() == std::vector<std::string>{"a", "b"});
  CHECK(b.notified->calls == std::vector<std::vector<std::uint64_t>>{{1, 2}});
  CHECK(b.engine.verify().value().problems.empty());
}

TEST_CASE("bulk_create: records that fail together in one batch each fail alone, in input order") {
  Blog b;
  std::vector<Fields> inputs{{{"title", "a"}, {"slug", "x"}}, {{"title", "b"}, {"slug", "x"}},
                             {{"title", "c"}}, {{"title", "d"}, {"slug", "x"}}, {{"title", "e"}}};
  auto result = b.engine.bulk_create("Post", inputs, {.return_records = true}).value();
  CHECK(result.status == BulkStatus::partial_success);
  CHECK(titles_of(result.records) == std::vector<std::string>{"a", "c", "e"});
  REQUIRE(result.errors.size() == 2);
  CHECK(result.errors[0].index == 1);
  CHECK(result.errors[1].index == 3);
  auto events = all_events(b.engine.log());
  REQUIRE(events.size() == 3);
  for (const auto& e : events) CHECK(e.event.tx == 1);  // one transaction: the batch
  CHECK(b.notified->calls == std::vector<std::vector<std::uint64_t>>{{1, 2, 3}});
}

TEST_CASE("bulk_create: each changeset's context is the caller's, sorted, with its own bulk index") {
  Blog b;
  g_trace.clear();
  // The caller's own bulk_create entry, not a map, is replaced by the input's index.
  auto result = b.engine
                    .bulk_create("Post", posts({"a", "b", "c"}),
                                 {.action = "remember_context",
                                  .context = {{"zeta", 1}, {"bulk_create", "mine"}, {"alpha", 2}},
                                  .batch_size = 2})
                    .value();
  CHECK(result.status == BulkStatus::success);
  CHECK(g_trace == std::vector<std::string>{"alpha bulk_create zeta 0", "{index: 0}", "alpha bulk_create zeta 1",
                                            "{index: 1}", "alpha bulk_create zeta 2", "{index: 2}"});
  // A map there is merged with the index, as Ash deep-merges context.
  g_trace.clear();
  REQUIRE(b.engine.bulk_create("Post", posts({"d"}),
                               {.action = "remember_context", .context = {{"bulk_create", Map{{"batch", "nightly"}}}}}));
  CHECK(g_trace == std::vector<std::string>{"bulk_create 0", "{batch: \"nightly\", index: 0}"});
}
