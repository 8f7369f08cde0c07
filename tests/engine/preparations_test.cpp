// Preparations: read actions' own and the resource's, run in the order declared on the
// caller's query, able to narrow it, sort, limit, load, or fail the read.
#include "support/temp_dir.hpp"

#include <ashlar/ashlar.hpp>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <tuple>

using namespace ashlar;
using namespace ashlar::dsl;
using ashlar::test::TempDir;

namespace {

std::vector<std::string> g_trace;

// Records that it ran, and what the query looked like when it did.
ActionStep traced(std::string label) {
  return preparations::prepare([label](Query& q, const PrepareContext& c) -> Result<void> {
    g_trace.push_back(fmt::format("{} {}.{} limit {}", label, c.resource, c.action,
                                  q.limit ? std::to_string(*q.limit) : "none"));
    return {};
  });
}

// Only the actor's notes; a read without an actor is Forbidden.
ActionStep owned_by_actor() {
  return preparations::prepare([](Query& q, const PrepareContext& c) -> Result<void> {
    if (c.actor->is_null()) {
      Error e;
      e.cls = ErrorClass::forbidden;
      e.message = "only a signed-in actor may read its own notes";
      return fail(std::move(e));
    }
    Expr mine = ref("owner") == *c.actor;
    q.filter = q.filter ? *q.filter && mine : mine;
    return {};
  });
}

Domain notes() {
  return domain("notes")
      .resource(resource("Author")
                    .uuid_primary_key("id")
                    .attribute("name", type::string, {.allow_nil = false})
                    .has_many("notes", "Note")
                    .defaults({"read", "create:*"})
                    .read("with_notes", {.steps = {preparations::build({.sort = "name", .load = "notes"})}}))
      .resource(resource("Note")
                    .uuid_primary_key("id")
                    .attribute("owner", type::string, {.allow_nil = false})
                    .attribute("title", type::string, {.allow_nil = false})
                    .attribute("priority", type::integer, {.default_value = 0})
                    .belongs_to("author", "Author")
                    .defaults({"read", "create:*"})
                    .read("mine", {.steps = {traced("first"), owned_by_actor(),
                                             preparations::build({.sort = "-priority", .limit = 2}),
                                             traced("second")}})
                    .read("at_least", {.arguments = {argument("min_priority", type::integer, {.default_value = 5})},
                                       .steps = {preparations::prepare(
                                           [](Query& q, const PrepareContext& c) -> Result<void> {
                                             const Value* min = find_field(*c.arguments, "min_priority");
                                             q.filter = ref("priority") >= *min;
                                             return {};
                                           })}})
                    .read("badly_sorted", {.steps = {preparations::build({.sort = "-"})}})
                    .prepare(traced("resource")))
      .build()
      .value();
}

struct Notes {
  TempDir dir;
  Engine engine = Engine::open(dir.path(), notes(), {.durability = Durability::no_sync}).value();

  Notes() {
    auto author = engine.create("Author", {{"name", "Ann"}}).value();
    for (auto [owner, title, priority] : {std::tuple{"ann", "a1", 1}, std::tuple{"ann", "a2", 7},
                                          std::tuple{"ann", "a3", 5}, std::tuple{"bob", "b1", 9}})
      engine
          .create("Note", {{"owner", owner}, {"title", title}, {"priority", priority}, {"author_id", author.id()}})
          .value();
    g_trace.clear();
  }
};

std::vector<std::string> titles(const std::vector<Record>& records) {
  std::vector<std::string> out;
  for (const auto& r : records) out.push_back(*r["title"].as_string());
  return out;
}

}  // namespace

TEST_CASE("preparations run in the order declared, the action's before the resource's, each on the query the last left") {
  Notes n;
  auto mine = n.engine.read("Note", {.action = "mine", .actor = "ann"}).value();
  CHECK(titles(mine) == std::vector<std::string>{"a2", "a3"});  // ann's, highest priority first, two of them
  CHECK(g_trace == std::vector<std::string>{"first Note.mine limit none", "second Note.mine limit 2",
                                            "resource Note.mine limit 2"});

  // The caller's query is what they prepare: its filter stays and-ed with theirs.
  g_trace.clear();
  auto low = n.engine.read("Note", {.action = "mine", .filter = ref("priority") < 6, .actor = "ann"}).value();
  CHECK(titles(low) == std::vector<std::string>{"a3", "a1"});

  // Every read action of the resource runs the resource's preparations.
  g_trace.clear();
  CHECK(n.engine.read("Note").value().size() == 4);
  CHECK(g_trace == std::vector<std::string>{"resource Note.read limit none"});
}

TEST_CASE("a preparation sees the cast arguments and the actor, and its error fails the read") {
  Notes n;
  CHECK(titles(n.engine.read("Note", {.action = "at_least", .sort = {SortKey{"title"}}}).value()) ==
        std::vector<std::string>{"a2", "a3", "b1"});
  CHECK(titles(n.engine.read("Note", {.action = "at_least", .args = {{"min_priority", 8}}}).value()) ==
        std::vector<std::string>{"b1"});

  g_trace.clear();
  auto anonymous = n.engine.read("Note", {.action = "mine"});
  REQUIRE_FALSE(anonymous.has_value());
  CHECK(anonymous.error().describe() == "forbidden: Note.mine: only a signed-in actor may read its own notes");
  CHECK(g_trace == std::vector<std::string>{"first Note.mine limit none"});  // nothing after the failing one

  auto bad_sort = n.engine.read("Note", {.action = "badly_sorted"});
  REQUIRE_FALSE(bad_sort.has_value());
  CHECK(bad_sort.error().resource == "Note");
  CHECK(bad_sort.error().action == "badly_sorted");
  CHECK_THAT(bad_sort.error().message, Catch::StartsWith("prepare build(sort: \"-\"): "));
}

TEST_CASE("prepare build loads relationships and sorts for the caller") {
  Notes n;
  n.engine.create("Author", {{"name", "Abe"}}).value();
  auto authors = n.engine.read("Author", {.action = "with_notes"}).value();
  REQUIRE(authors.size() == 2);
  CHECK(*authors[0]["name"].as_string() == "Abe");
  CHECK(authors[0].related("notes").empty());
  CHECK(*authors[1]["name"].as_string() == "Ann");
  CHECK(authors[1].related("notes").size() == 4);
}

TEST_CASE("preparations belong to read actions, changes and validations to the others") {
  auto built = domain("d")
                   .resource(resource("Note")
                                 .uuid_primary_key("id")
                                 .attribute("title", type::string)
                                 .create("make", {.accept = {"title"}, .steps = {preparations::build({.limit = 1})}})
                                 .read("list", {.steps = {validations::present({"title"})}}))
                   .build();
  REQUIRE_FALSE(built.has_value());
  std::vector<std::string> problems;
  for (const auto& f : built.error().fields) problems.push_back(f.field + ": " + f.message);
  CHECK(problems == std::vector<std::string>{
                        "Note.actions.make: is not a read action; preparations prepare reads (changes and "
                        "validations belong to the others)",
                        "Note.actions.list: is a read action; it takes preparations, not changes or validations"});
}
