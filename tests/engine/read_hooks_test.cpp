// Read hooks (Ash's Query.before_action/after_action/around_action): added by preparations
// or by the caller, run around the read itself in Ash's order, able to change the query,
// replace the results, or fail the read.
#include "support/temp_dir.hpp"

#include <ashlar/ashlar.hpp>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <stdexcept>

using namespace ashlar;
using namespace ashlar::dsl;
using ashlar::test::TempDir;

namespace {

std::vector<std::string> g_trace;

std::vector<std::string> titles(const std::vector<Record>& records) {
  std::vector<std::string> out;
  for (const auto& r : records) out.push_back(*r["title"].as_string());
  return out;
}

// around (start) and (end), before_action narrowing to open tasks, after_action keeping
// the first two and saying how many it saw.
ActionStep traced_hooks() {
  return preparations::prepare([](Query& q, const PrepareContext&) -> Result<void> {
    g_trace.push_back("prepare");
    q.around_action.push_back([](Query& query, const Query::Next& next) -> Result<std::vector<Record>> {
      g_trace.push_back("around start");
      auto records = next(query);
      g_trace.push_back(records ? fmt::format("around end {}", records->size()) : "around end (failed)");
      return records;
    });
    q.before_action.push_back([](Query& query) -> Result<void> {
      g_trace.push_back("before");
      Expr open = ref("done") == false;
      query.filter = query.filter ? *query.filter && open : open;
      return {};
    });
    q.after_action.push_back([](const Query&, std::vector<Record> records) -> Result<std::vector<Record>> {
      g_trace.push_back(fmt::format("after {}", records.size()));
      if (records.size() > 2) records.erase(records.begin() + 2, records.end());
      return records;
    });
    return {};
  });
}

Domain tasks() {
  return domain("tasks")
      .resource(resource("Project")
                    .uuid_primary_key("id")
                    .attribute("name", type::string, {.allow_nil = false})
                    .identity("unique_name", {"name"})
                    .has_many("tasks", "Task")
                    .defaults({"read", "create:*"})
                    .read("busy", {.steps = {preparations::prepare([](Query& q, const PrepareContext&) -> Result<void> {
                      q.load.push_back(Load("tasks"));
                      q.after_action.push_back(
                          [](const Query&, std::vector<Record> projects) -> Result<std::vector<Record>> {
                            std::erase_if(projects, [](const Record& p) { return p.related("tasks").empty(); });
                            return projects;
                          });
                      return {};
                    })}}))
      .resource(resource("Task")
                    .uuid_primary_key("id")
                    .attribute("title", type::string, {.allow_nil = false})
                    .attribute("done", type::boolean, {.default_value = false})
                    .attribute("rank", type::integer, {.default_value = 0})
                    .belongs_to("project", "Project")
                    .defaults({"read", "create:*", "update:*"})
                    .read("open", {.sort = "rank", .steps = {traced_hooks()}})
                    .read("failing", {.steps = {preparations::prepare([](Query& q, const PrepareContext&) -> Result<void> {
                      q.around_action.push_back([](Query& query, const Query::Next& next) -> Result<std::vector<Record>> {
                        g_trace.push_back("around start");
                        auto records = next(query);
                        if (records) g_trace.push_back("around end");
                        return records;
                      });
                      q.before_action.push_back([](Query&) -> Result<void> {
                        g_trace.push_back("before");
                        return fail(Error::invalid("", "", {{"title", "frozen", "the board is frozen"}}));
                      });
                      q.after_action.push_back([](const Query&, std::vector<Record> r) -> Result<std::vector<Record>> {
                        g_trace.push_back("after");
                        return r;
                      });
                      return {};
                    })}})
                    .read("throwing", {.steps = {preparations::prepare([](Query& q, const PrepareContext&) -> Result<void> {
                      q.after_action.push_back([](const Query&, std::vector<Record>) -> Result<std::vector<Record>> {
                        throw std::runtime_error("boom");
                      });
                      return {};
                    })}})
                    .read("cached", {.steps = {preparations::prepare([](Query& q, const PrepareContext&) -> Result<void> {
                      q.around_action.push_back([](Query&, const Query::Next&) -> Result<std::vector<Record>> {
                        g_trace.push_back("served from the cache");
                        return std::vector<Record>{};
                      });
                      q.before_action.push_back([](Query&) -> Result<void> {
                        g_trace.push_back("before");
                        return {};
                      });
                      return {};
                    })}})
                    .read("late", {.steps = {preparations::prepare([](Query& q, const PrepareContext&) -> Result<void> {
                      q.before_action.push_back([](Query& query) -> Result<void> {
                        query.around_action.push_back(
                            [](Query& inner, const Query::Next& next) { return next(inner); });
                        return {};
                      });
                      return {};
                    })}}))
      .build()
      .value();
}

struct Board {
  TempDir dir;
  Engine engine = Engine::open(dir.path(), tasks(), {.durability = Durability::no_sync}).value();
  Record project = engine.create("Project", {{"name", "ashlar"}}).value();

  Board() {
    int rank = 0;
    for (auto [title, done] : {std::pair{"t1", false}, std::pair{"t2", true}, std::pair{"t3", false},
                               std::pair{"t4", false}})
      engine.create("Task", {{"title", title}, {"done", done}, {"rank", ++rank}, {"project_id", project.id()}}).value();
    engine.create("Project", {{"name", "idle"}}).value();
    g_trace.clear();
  }
};

}  // namespace

TEST_CASE("read hooks run in Ash's order around the read: around start, before_action, the read, after_action, around end") {
  Board b;
  auto open = b.engine.read("Task", {.action = "open"}).value();
  // before_action narrowed the query to open tasks (t1, t3, t4), after_action kept two.
  CHECK(titles(open) == std::vector<std::string>{"t1", "t3"});
  CHECK(g_trace == std::vector<std::string>{"prepare", "around start", "before", "after 3", "around end 2"});

  // The caller's own filter is still there for before_action to narrow.
  g_trace.clear();
  CHECK(titles(b.engine.read("Task", {.action = "open", .filter = ref("rank") > 2}).value()) ==
        std::vector<std::string>{"t3", "t4"});
  CHECK(g_trace == std::vector<std::string>{"prepare", "around start", "before", "after 2", "around end 2"});
}

TEST_CASE("a read hook's error fails the read: after_action and around_action's end do not run") {
  Board b;
  auto failed = b.engine.read("Task", {.action = "failing"});
  REQUIRE_FALSE(failed.has_value());
  CHECK(failed.error().describe() == "invalid: Task.failing: invalid input: title: the board is frozen");
  CHECK(g_trace == std::vector<std::string>{"around start", "before"});

  auto threw = b.engine.read("Task", {.action = "throwing"});
  REQUIRE_FALSE(threw.has_value());
  CHECK(threw.error().code == "user_code");
  CHECK(threw.error().describe() == "unknown: Task.throwing: an after_action hook threw: boom");
}

TEST_CASE("an around_action hook may answer without running the read") {
  Board b;
  CHECK(b.engine.read("Task", {.action = "cached"}).value().empty());
  CHECK(g_trace == std::vector<std::string>{"served from the cache"});  // no before_action: the read never ran
}

TEST_CASE("after_action sees the loads the read made and its records are what the read returns") {
  Board b;
  auto busy = b.engine.read("Project", {.action = "busy"}).value();
  REQUIRE(busy.size() == 1);
  CHECK(*busy[0]["name"].as_string() == "ashlar");
  CHECK(busy[0].related("tasks").size() == 4);
}

TEST_CASE("the caller's query takes hooks too, in Engine::read, get, get_by and bulk actions") {
  Board b;
  int calls = 0;
  auto count_and_keep = [&calls](const Query&, std::vector<Record> records) -> Result<std::vector<Record>> {
    ++calls;
    return records;
  };
  CHECK(b.engine.read("Project", {.after_action = {count_and_keep}}).value().size() == 2);
  CHECK(calls == 1);

  // get by primary key takes the whole read when the query has hooks.
  Query hide_all{.after_action = {[](const Query&, std::vector<Record>) -> Result<std::vector<Record>> {
    return std::vector<Record>{};
  }}};
  auto hidden = b.engine.get("Project", b.project.id(), hide_all);
  REQUIRE_FALSE(hidden.has_value());
  CHECK(hidden.error().cls == ErrorClass::not_found);
  CHECK(b.engine.get("Project", b.project.id(), {.after_action = {count_and_keep}}).has_value());
  CHECK(calls == 2);
  auto by_name = b.engine.get_by("Project", "unique_name", {{"name", "ashlar"}}, hide_all);
  REQUIRE_FALSE(by_name.has_value());
  CHECK(by_name.error().describe() == "not_found: Project: no Project with unique_name \"ashlar\"");

  // A bulk update acts on the records its query's hooks return.
  Query first_two{.sort = {SortKey{"rank"}},
                  .after_action = {[](const Query&, std::vector<Record> records) -> Result<std::vector<Record>> {
                    if (records.size() > 2) records.erase(records.begin() + 2, records.end());
                    return records;
                  }}};
  auto updated = b.engine.bulk_update("Task", first_two, {{"done", true}}).value();
  CHECK(updated.count == 2);
  CHECK(titles(b.engine.read("Task", {.filter = ref("done") == true, .sort = {SortKey{"rank"}}}).value()) ==
        std::vector<std::string>{"t1", "t2"});
}

TEST_CASE("hooks added too late, a load's query with hooks and an after_action returning another resource's records are refused") {
  Board b;
  auto late = b.engine.read("Task", {.action = "late"});
  REQUIRE_FALSE(late.has_value());
  CHECK(late.error().describe() ==
        "framework: Task.late: a before_action hook added an around_action hook after the around_action hooks had "
        "started; add it in a preparation");

  auto with_hooks = b.engine.read("Project", {.load = {Load("tasks", {.before_action = {[](Query&) -> Result<void> {
                                                return {};
                                              }}})}});
  REQUIRE_FALSE(with_hooks.has_value());
  CHECK(with_hooks.error().describe() ==
        "framework: load tasks: a load's query takes no before_action, after_action or around_action hooks; they "
        "run on reads");

  // A hook may narrow the read, not change who reads it or what it reads as.
  auto elevated = b.engine.read("Task", {.before_action = {[](Query& q) -> Result<void> {
                                           q.actor = Value("root");
                                           return {};
                                         }}});
  REQUIRE_FALSE(elevated.has_value());
  CHECK(elevated.error().describe() ==
        "framework: Task.read: a read hook changed the query's actor; its action, arguments, actor, tenant, "
        "authorize and as_of are settled once the preparations have run");
  auto around = b.engine.read("Task", {.around_action = {[](Query& q, const Query::Next& next) {
                                         Query as_of = q;
                                         as_of.as_of = AsOf{.position = 1};
                                         return next(as_of);
                                       }}});
  REQUIRE_FALSE(around.has_value());
  CHECK_THAT(around.error().message, Catch::Contains("a read hook changed the query's as_of"));

  Engine& engine = b.engine;
  auto swapped = b.engine.read("Task", {.after_action = {[&engine](const Query&, std::vector<Record>) {
                                        return engine.read("Project");
                                      }}});
  REQUIRE_FALSE(swapped.has_value());
  CHECK(swapped.error().describe() ==
        "framework: Task.read: an after_action hook returned a Project record; a read of Task returns Task records");
}
