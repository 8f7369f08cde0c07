// Soft destroys (an update that archives the record) and cascade_destroy of related
// records in the same transaction.
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

Domain projects() {
  auto archive = [] { return changes::set_attribute("archived_at", now()); };
  return domain("work")
      .resource(resource("Project")
                    .uuid_primary_key("id")
                    .attribute("name", type::string, {.allow_nil = false})
                    .attribute("archived_at", type::utc_datetime, {.writable = false})
                    .update_timestamp("updated_at")
                    .has_many("tasks", "Task")
                    .has_one("brief", "Brief")
                    // The base filter hides archived projects from every read through it.
                    .read("read", {.primary = true, .filter = is_nil(ref("archived_at"))})
                    .read("archived", {.filter = !is_nil(ref("archived_at"))})
                    .defaults({"create:*", "update:*"})
                    .destroy("destroy", {.primary = true,
                                         .steps = {changes::cascade_destroy("tasks"), changes::cascade_destroy("brief")}})
                    .destroy("archive", {.steps = {archive(), changes::cascade_destroy("tasks", {.action = "archive"})},
                                         .soft = true})
                    .destroy("purge", {.steps = {changes::cascade_destroy("tasks", {.after_action = false})}}))
      .resource(resource("Task")
                    .uuid_primary_key("id")
                    .attribute("title", type::string, {.allow_nil = false})
                    .attribute("locked", type::boolean, {.default_value = false})
                    .attribute("archived_at", type::utc_datetime, {.writable = false})
                    .belongs_to("project", "Project")
                    .defaults({"read", "create:*", "update:*"})
                    .destroy("destroy", {.primary = true,
                                         .steps = {validations::attribute_does_not_equal("locked", true)
                                                       .with_message("is locked; unlock the task first")}})
                    .destroy("archive", {.steps = {archive()}, .soft = true}))
      .resource(resource("Brief")
                    .uuid_primary_key("id")
                    .attribute("text", type::string)
                    .belongs_to("project", "Project")
                    .defaults({"read", "destroy", "create:*"}))
      .build()
      .value();
}

struct Work {
  TempDir dir;
  std::vector<StoredEvent> published;
  Engine engine = Engine::open(dir.path(), projects(),
                               {.durability = Durability::no_sync,
                                .notifiers = {std::make_shared<CallbackNotifier>(
                                    [this](const StoredEvent& e) { published.push_back(e); })}})
                      .value();
  Record project = engine.create("Project", {{"name", "Apollo"}}).value();
  Record other = engine.create("Project", {{"name", "Gemini"}}).value();
  Record t1 = task("fuel", project);
  Record t2 = task("crew", project);
  Record t3 = task("capsule", other);
  Record brief = engine.create("Brief", {{"text", "to the moon"}, {"project_id", project.id()}}).value();

  Record task(const char* title, const Record& p) {
    return engine.create("Task", {{"title", title}, {"project_id", p.id()}}).value();
  }
  std::size_t count(const char* resource) { return engine.read(resource).value().size(); }
};

}  // namespace

TEST_CASE("a soft destroy is an update: the record stays, archived, and reads through the base filter skip it") {
  Work w;
  auto other = w.engine.create("Project", {{"name", "Mercury"}}).value();  // no tasks
  auto before = log_length(w.engine.log());
  auto archived = w.engine.destroy("Project", other.id(), {.action = "archive"});
  REQUIRE(archived.has_value());
  CHECK_FALSE((*archived)["archived_at"].is_null());  // the record as archived
  CHECK(archived->version() == 2);

  auto events = all_events(w.engine.log(), before + 1);
  REQUIRE(events.size() == 1);
  const Event& e = events[0].event;
  CHECK(e.type == ActionType::update);  // replay and subscribers see a change, not a removal
  CHECK(e.action == "archive");
  CHECK(e.version == 2);
  std::vector<std::string> changed;
  for (const auto& [name, value] : e.changes) changed.push_back(name);
  CHECK(changed == std::vector<std::string>{"archived_at", "updated_at"});
  CHECK(*find_field(e.changes, "archived_at") == Value(DateTime{e.time_micros}));

  // The primary read's base filter hides it; the `archived` read finds it.
  CHECK(w.count("Project") == 2);
  auto hidden = w.engine.get("Project", other.id());
  REQUIRE_FALSE(hidden.has_value());
  CHECK(hidden.error().cls == ErrorClass::not_found);
  auto found = w.engine.read("Project", {.action = "archived"}).value();
  REQUIRE(found.size() == 1);
  CHECK(found[0]["name"] == Value("Mercury"));
  CHECK(w.engine.history("Project", other.id()).value().size() == 2);
  // The stored model says which destroys are soft.
  auto stored = domain_from_json(domain_to_json(projects())).value();
  CHECK(stored.resource("Project")->action("archive")->soft);
  CHECK_FALSE(stored.resource("Project")->action("destroy")->soft);
}

TEST_CASE("cascade_destroy destroys related records in the same transaction, each with its own event") {
  Work w;
  auto before = log_length(w.engine.log());
  auto published_before = w.published.size();
  auto destroyed = w.engine.destroy("Project", w.project.id(), {.correlation_id = "req-1"});
  REQUIRE(destroyed.has_value());
  CHECK((*destroyed)["name"] == Value("Apollo"));

  auto events = all_events(w.engine.log(), before + 1);
  std::vector<std::string> what;
  for (const auto& s : events) {
    what.push_back(s.event.resource + " " + to_string(s.event.type));
    CHECK(s.event.tx == events[0].event.position);
    CHECK(s.event.correlation_id == "req-1");
  }
  // The project's own event first: the cascade runs in an after_action hook.
  CHECK(what == std::vector<std::string>{"Project destroy", "Task destroy", "Task destroy", "Brief destroy"});
  CHECK(w.published.size() == published_before + 4);
  auto tasks = w.engine.read("Task").value();
  REQUIRE(tasks.size() == 1);  // the other project's task is untouched
  CHECK(tasks[0].id() == w.t3.id());
  CHECK(w.count("Brief") == 0);
}

TEST_CASE("when one related destroy fails, the whole cascade fails and nothing is kept or published") {
  Work w;
  w.engine.update("Task", w.t2.id(), {{"locked", true}}).value();
  auto before = log_length(w.engine.log());
  auto published_before = w.published.size();
  auto refused = w.engine.destroy("Project", w.project.id());
  REQUIRE_FALSE(refused.has_value());
  // The related record's own error, naming its resource and action.
  CHECK(refused.error().describe() == "invalid: Task.destroy: invalid input: locked: is locked; unlock the task first");
  CHECK(log_length(w.engine.log()) == before);
  CHECK(w.published.size() == published_before);
  CHECK(w.count("Project") == 2);
  CHECK(w.count("Task") == 3);
  CHECK(w.count("Brief") == 1);
}

TEST_CASE("a soft destroy cascades through the related records' soft destroy") {
  Work w;
  auto before = log_length(w.engine.log());
  w.engine.destroy("Project", w.project.id(), {.action = "archive"}).value();
  auto events = all_events(w.engine.log(), before + 1);
  std::vector<std::string> what;
  for (const auto& s : events) {
    what.push_back(s.event.resource + " " + s.event.action + " " + to_string(s.event.type));
    CHECK(s.event.tx == events[0].event.position);
  }
  CHECK(what == std::vector<std::string>{"Project archive update", "Task archive update", "Task archive update"});
  auto tasks = w.engine.read("Task", {.filter = ref("project_id") == Expr(w.project.id())}).value();
  REQUIRE(tasks.size() == 2);
  for (const auto& t : tasks) CHECK_FALSE(t["archived_at"].is_null());
  CHECK(w.count("Task") == 3);  // archived, not gone
}

TEST_CASE("cascade_destroy with after_action = false destroys the related records first") {
  Work w;
  auto before = log_length(w.engine.log());
  w.engine.destroy("Project", w.project.id(), {.action = "purge"}).value();
  std::vector<std::string> what;
  for (const auto& s : all_events(w.engine.log(), before + 1)) what.push_back(s.event.resource);
  CHECK(what == std::vector<std::string>{"Task", "Task", "Project"});
}

TEST_CASE("soft is for destroy actions, cascade_destroy for has_many and has_one relationships") {
  auto soft_create = domain("d").resource(resource("R").uuid_primary_key("id").create("make", {.soft = true})).build();
  REQUIRE_FALSE(soft_create.has_value());
  CHECK(soft_create.error().fields ==
        std::vector<FieldError>{{"R.actions.make", "soft_not_allowed", "only destroy actions can be soft"}});

  TempDir dir;
  auto d = domain("d")
               .resource(resource("R")
                             .uuid_primary_key("id")
                             .belongs_to("parent", "R")
                             .defaults({"read", "create:*"})
                             .destroy("destroy", {.primary = true, .steps = {changes::cascade_destroy("parent")}}))
               .build()
               .value();
  auto engine = Engine::open(dir.path(), d).value();
  auto r = engine.create("R", {}).value();
  auto bad = engine.destroy("R", r.id());
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().fields == std::vector<FieldError>{{"", "change_failed",
                                                       "cascade_destroy(parent) needs a has_many or has_one relationship of R"}});
  CHECK(log_length(engine.log()) == 1);
}

TEST_CASE("after soft destroys and cascades, the projections equal a replay of the log") {
  Work w;
  w.engine.destroy("Project", w.other.id(), {.action = "archive"}).value();
  w.engine.destroy("Project", w.project.id()).value();
  auto report = w.engine.verify().value();
  CHECK(report.problems == std::vector<std::string>{});
  auto rebuilt = w.engine.rebuild();
  REQUIRE(rebuilt.has_value());
  CHECK(w.engine.read("Project", {.action = "archived"}).value().size() == 1);
  CHECK(w.engine.read("Task").value().size() == 1);
}
