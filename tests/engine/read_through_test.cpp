// Related records are read through the destination's read action (its primary one, or the
// read_action a relationship names): a record that action hides is absent from loads,
// aggregates, relationship paths in filters, and cascades.
#include "support/engine_helpers.hpp"
#include "support/temp_dir.hpp"

#include <ashlar/ashlar.hpp>

#include <catch2/catch.hpp>
#include <fmt/format.h>

using namespace ashlar;
using namespace ashlar::dsl;
using ashlar::test::all_events;
using ashlar::test::log_length;
using ashlar::test::TempDir;

namespace {

ActionStep archive() { return changes::set_attribute("archived_at", now()); }

Domain work() {
  return domain("work")
      .resource(resource("Project")
                    .uuid_primary_key("id")
                    .attribute("name", type::string, {.allow_nil = false})
                    .attribute("archived_at", type::utc_datetime, {.writable = false})
                    .has_many("tasks", "Task")
                    .has_many("all_tasks", "Task", {.read_action = "everything"})
                    .aggregate("task_count", AggregateKind::count, "tasks")
                    .read("read", {.primary = true, .filter = is_nil(ref("archived_at"))})
                    .defaults({"create:*"})
                    .update("adopt", {.accept = AcceptList::none(),
                                      .arguments = {argument("tasks", type::array(type::uuid))},
                                      .steps = {changes::manage_relationship("tasks", "tasks",
                                                                             {.type = manage::Type::append})}})
                    .destroy("archive", {.steps = {archive(), changes::cascade_destroy("tasks", {.action = "archive"})},
                                         .soft = true}))
      .resource(resource("Task")
                    .uuid_primary_key("id")
                    .attribute("title", type::string, {.allow_nil = false})
                    .attribute("archived_at", type::utc_datetime, {.writable = false})
                    .belongs_to("project", "Project")
                    // The primary read hides archived tasks through a preparation.
                    .read("read", {.primary = true,
                                   .steps = {preparations::build({.filter = is_nil(ref("archived_at"))})}})
                    .read("everything")
                    .defaults({"create:*", "update:*"})
                    .destroy("archive", {.steps = {archive()}, .soft = true}))
      .build()
      .value();
}

struct Work {
  TempDir dir;
  Engine engine = Engine::open(dir.path(), work(), {.durability = Durability::no_sync}).value();
  Record project = engine.create("Project", {{"name", "Apollo"}}).value();
  Record live = engine.create("Task", {{"title", "fuel"}, {"project_id", project.id()}}).value();
  Record archived = archive_task("crew");

  Record archive_task(const char* title) {
    auto t = engine.create("Task", {{"title", title}, {"project_id", project.id()}}).value();
    return engine.destroy("Task", t.id(), {.action = "archive"}).value();
  }
  std::vector<std::string> titles(const std::vector<Record>& tasks) {
    std::vector<std::string> out;
    for (const auto& t : tasks) out.push_back(*t["title"].as_string());
    std::sort(out.begin(), out.end());
    return out;
  }
};

}  // namespace

TEST_CASE("a relationship load reads the destination through its primary read action") {
  Work w;
  auto p = w.engine.get("Project", w.project.id(), {.load = {"tasks", "task_count"}}).value();
  CHECK(w.titles(p.related("tasks")) == std::vector<std::string>{"fuel"});
  CHECK(p["task_count"] == Value(1));
}

TEST_CASE("aggregates in filters count only what the destination's read action returns") {
  Work w;
  CHECK(w.engine.read("Project", {.filter = count("tasks") == 1}).value().size() == 1);
  CHECK(w.engine.read("Project", {.filter = exists("tasks", ref("title") == "crew")}).value().empty());
  CHECK(w.engine.read("Project", {.filter = ref("task_count") == 2}).value().empty());
}

TEST_CASE("a relationship path in a filter reads through the destination's read action") {
  Work w;
  CHECK(w.engine.read("Task", {.filter = ref("project.name") == "Apollo"}).value().size() == 1);
  w.engine.destroy("Project", w.project.id(), {.action = "archive"}).value();
  // The project is archived, so its primary read hides it, and the path finds nothing.
  CHECK(w.engine.read("Task", {.action = "everything", .filter = ref("project.name") == "Apollo"}).value().empty());
  CHECK(w.engine.read("Task", {.action = "everything", .filter = is_nil(ref("project.name"))}).value().size() == 2);
}

TEST_CASE("a relationship that names a read_action reads through that action") {
  Work w;
  auto p = w.engine.get("Project", w.project.id(), {.load = {"all_tasks", "tasks"}}).value();
  CHECK(w.titles(p.related("all_tasks")) == std::vector<std::string>{"crew", "fuel"});
  CHECK(w.titles(p.related("tasks")) == std::vector<std::string>{"fuel"});
  CHECK(w.engine.read("Project", {.filter = count("all_tasks") == 2}).value().size() == 1);
}

TEST_CASE("a load whose query names a read action reads through that one") {
  Work w;
  auto p = w.engine.get("Project", w.project.id(), {.load = {Load("tasks", {.action = "everything"})}}).value();
  CHECK(w.titles(p.related("tasks")) == std::vector<std::string>{"crew", "fuel"});
  auto back = w.engine.get("Project", w.project.id(), {.load = {Load("all_tasks", {.action = "read"})}}).value();
  CHECK(w.titles(back.related("all_tasks")) == std::vector<std::string>{"fuel"});
  auto loaded = w.engine.load({w.engine.get("Project", w.project.id()).value()}, {Load("tasks", {.action = "everything"})});
  CHECK(w.titles(loaded.value()[0].related("tasks")) == std::vector<std::string>{"crew", "fuel"});
  auto unknown = w.engine.get("Project", w.project.id(), {.load = {Load("tasks", {.action = "everythin"})}});
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().describe() == "framework: load tasks: Task has no read action named everythin");
}

TEST_CASE("cascade_destroy acts only on the records the destination's read action returns") {
  Work w;
  auto archived_at = w.archived["archived_at"];
  REQUIRE_FALSE(archived_at.is_null());
  auto before = log_length(w.engine.log());
  w.engine.destroy("Project", w.project.id(), {.action = "archive"}).value();
  std::vector<std::string> what;
  for (const auto& s : all_events(w.engine.log(), before + 1))
    what.push_back(s.event.resource + " " + s.event.action + " " + s.event.key.front().second.str());
  CHECK(what == std::vector<std::string>{"Project archive " + w.project.id().str(),
                                         "Task archive " + w.live.id().str()});
  // The task archived before keeps the time it was archived at.
  auto again = w.engine.get("Task", w.archived.id(), {.action = "everything"}).value();
  CHECK(again["archived_at"] == archived_at);
}

TEST_CASE("a read_action that is not a read action of the destination is a mistake in the model") {
  auto built = domain("d")
                   .resource(resource("A").uuid_primary_key("id").has_many("bs", "B", {.read_action = "nope"})
                                 .has_many("cs", "B", {.read_action = "create"})
                                 .defaults({"read"}))
                   .resource(resource("B").uuid_primary_key("id").belongs_to("a", "A").defaults({"read", "create:*"}))
                   .build();
  REQUIRE_FALSE(built.has_value());
  CHECK(built.error().fields ==
        std::vector<FieldError>{{"A.bs", "unknown_action", "read_action: B has no read action named nope"},
                                {"A.cs", "unknown_action", "read_action: B has no read action named create"}});
}

TEST_CASE("a stored model keeps the read_action a relationship names") {
  auto stored = domain_from_json(domain_to_json(work())).value();
  CHECK(stored.resource("Project")->relationship("all_tasks")->read_action == "everything");
  CHECK(stored.resource("Project")->relationship("tasks")->read_action.empty());
}

TEST_CASE("read actions' filters that reach each other through relationships are an error, not an endless read") {
  auto d = domain("loop")
               .resource(resource("A")
                             .uuid_primary_key("id")
                             .has_many("bs", "B")
                             .read("read", {.primary = true, .filter = count("bs") >= 0})
                             .defaults({"create:*"}))
               .resource(resource("B")
                             .uuid_primary_key("id")
                             .attribute("n", type::integer)
                             .belongs_to("a", "A")
                             .read("read", {.primary = true, .filter = is_nil(ref("a.id")) == false})
                             .defaults({"create:*"}))
               .build()
               .value();
  TempDir dir;
  auto engine = Engine::open(dir.path(), d, {.durability = Durability::no_sync}).value();
  auto a = engine.create("A", {}).value();
  engine.create("B", {{"a_id", a.id()}}).value();
  auto loaded = engine.get("A", a.id(), {.load = {"bs"}});
  REQUIRE_FALSE(loaded.has_value());
  CHECK(loaded.error().cls == ErrorClass::framework);
  CHECK(loaded.error().message ==
        "reading B through B.read nests more than 16 read actions' filters; do they reach each other through "
        "relationships?");
}

TEST_CASE("manage_relationship looks records up through the destination's primary read action") {
  Work w;
  auto other = w.engine.create("Project", {{"name", "Gemini"}}).value();
  auto before = log_length(w.engine.log());
  // The archived task is not there to the primary read, so there is nothing to relate.
  auto hidden = w.engine.update("Project", other.id(), {{"tasks", Array{w.archived.id()}}}, {.action = "adopt"});
  REQUIRE_FALSE(hidden);
  CHECK(hidden.error().describe() ==
        fmt::format("invalid: Project.adopt: invalid input: tasks[0]: no Task with id {}", w.archived.id().str()));
  CHECK(log_length(w.engine.log()) == before);
  CHECK(w.engine.get("Task", w.archived.id(), {.action = "everything"}).value()["project_id"] == w.project.id());
  // The live one is.
  REQUIRE(w.engine.update("Project", other.id(), {{"tasks", Array{w.live.id()}}}, {.action = "adopt"}));
  CHECK(w.engine.get("Task", w.live.id()).value()["project_id"] == other.id());
}

TEST_CASE("a many_to_many reads its join records through the join resource's primary read action") {
  TempDir dir;
  auto d = domain("press")
               .resource(resource("Tag").uuid_primary_key("id").attribute("name", type::string).defaults({"read", "create:*"}))
               .resource(resource("PostTag")
                             .belongs_to("post", "Post", {.allow_nil = false, .primary_key = true})
                             .belongs_to("tag", "Tag", {.allow_nil = false, .primary_key = true})
                             .attribute("removed", type::boolean, {.default_value = false})
                             .read("read", {.primary = true, .filter = ref("removed") == false})
                             .defaults({"create:*", "update:*"}))
               .resource(resource("Post")
                             .uuid_primary_key("id")
                             .attribute("title", type::string)
                             .many_to_many("tags", "Tag", {.through = "PostTag"})
                             .aggregate("tag_count", AggregateKind::count, "tags")
                             .defaults({"read", "create:*"}))
               .build()
               .value();
  Engine e = Engine::open(dir.path(), d, {.durability = Durability::no_sync}).value();
  auto post = e.create("Post", {{"title", "p"}}).value();
  auto kept = e.create("Tag", {{"name", "kept"}}).value();
  auto gone = e.create("Tag", {{"name", "gone"}}).value();
  e.create("PostTag", {{"post_id", post.id()}, {"tag_id", kept.id()}}).value();
  e.create("PostTag", {{"post_id", post.id()}, {"tag_id", gone.id()}, {"removed", true}}).value();
  REQUIRE(e.read("PostTag").value().size() == 1);

  auto loaded = e.get("Post", post.id(), {.load = {"tags", "tag_count"}}).value();
  REQUIRE(loaded.related("tags").size() == 1);
  CHECK(loaded.related("tags")[0]["name"] == Value("kept"));
  CHECK(loaded["tag_count"] == Value(1));
  CHECK(e.read("Post", {.filter = exists("tags", ref("name") == "gone")}).value().empty());
}
