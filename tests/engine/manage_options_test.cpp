// manage_relationship's decision table, option by option, on a has_many (Box.items) and
// a many_to_many (Box.labels through BoxLabel) relationship: what each option does to
// the records related now, to the others, and which actions it runs.
#include "support/log_contents.hpp"
#include "support/temp_dir.hpp"

#include <ashlar/ashlar.hpp>

#include <catch2/catch.hpp>

#include <fmt/format.h>

#include <algorithm>

using namespace ashlar;
using namespace ashlar::dsl;
using ashlar::test::TempDir;

namespace {

// Items and labels alike: a unique name, a note, and named actions to tell them apart in
// the log.
ResourceBuilder thing(const char* name) {
  return resource(name)
      .uuid_primary_key("id")
      .attribute("name", type::string, {.allow_nil = false})
      .attribute("note", type::string)
      .identity("unique_name", {"name"})
      .defaults({"read", "destroy", "create:*", "update:*"})
      .create("make", {.accept = {"name"}, .steps = {changes::set_attribute("note", Expr(Value("made")))}})
      .update("annotate", {.accept = {"note"}})
      .update("attach", {})
      .destroy("scrap");
}

// Box.manage manages both relationships with the same options.
Domain boxes(const manage::Options& o) {
  return domain("boxes")
      .resource(thing("Item").belongs_to("box", "Box"))
      .resource(thing("Label"))
      .resource(resource("BoxLabel")
                    .belongs_to("box", "Box", {.allow_nil = false, .primary_key = true})
                    .belongs_to("label", "Label", {.allow_nil = false, .primary_key = true})
                    .attribute("how", type::string)
                    .defaults({"read", "destroy", "create:*", "update:*"})
                    .create("link", {.accept = {"how"}, .steps = {changes::set_attribute("how", Expr(Value("linked")))}}))
      .resource(resource("Box")
                    .uuid_primary_key("id")
                    .has_many("items", "Item")
                    .many_to_many("labels", "Label", {.through = "BoxLabel"})
                    .defaults({"read", "destroy", "create:*", "update:*"})
                    .update("manage", {.arguments = {argument("items", type::array(type::map)),
                                                      argument("labels", type::array(type::map))},
                                       .steps = {changes::manage_relationship("items", o),
                                                 changes::manage_relationship("labels", o)}}))
      .build()
      .value();
}

// A box with A and B related, C existing but not related; then `input` given to one
// relationship.
struct Scene {
  TempDir dir;
  Engine engine;
  std::string rel;       // "items" or "labels"
  std::string resource;  // "Item" or "Label"
  Record box;
  std::uint64_t start = 0;

  Scene(const manage::Options& o, std::string relationship)
      : engine(Engine::open(dir.path(), boxes(o), {.durability = Durability::no_sync}).value()),
        rel(std::move(relationship)),
        resource(rel == "items" ? "Item" : "Label"),
        box(engine.create("Box", {}).value()) {
    for (const char* name : {"A", "B", "C"}) {
      Fields f{{"name", name}};
      if (rel == "items" && std::string(name) != "C") f.emplace_back("box_id", box.id());
      Record r = engine.create(resource, f).value();
      if (rel == "labels" && std::string(name) != "C")
        engine.create("BoxLabel", {{"box_id", box.id()}, {"label_id", r.id()}}).value();
    }
    start = test::log_length(engine.log());
  }

  Result<Record> run(std::initializer_list<Map> items) {
    Array input;
    for (const auto& m : items) input.emplace_back(m);
    return engine.update("Box", box.id(), {{rel, Value(input)}}, {.action = "manage"});
  }
  std::vector<std::string> related() {
    auto got = engine.get("Box", box.id(), {.load = {Load(rel)}}).value();
    std::vector<std::string> out;
    for (const auto& r : got.related(rel)) out.push_back(*r["name"].as_string());
    std::sort(out.begin(), out.end());
    return out;
  }
  std::vector<std::string> all() {
    std::vector<std::string> out;
    for (const auto& r : engine.read(resource).value()) out.push_back(*r["name"].as_string());
    std::sort(out.begin(), out.end());
    return out;
  }
  Value note(const char* name) { return engine.get_by(resource, "unique_name", {{"name", name}}).value()["note"]; }
  // "Resource.action" of each event the managing call wrote after the Box's own.
  std::vector<std::string> nested_actions() {
    std::vector<std::string> out;
    auto events = test::all_events(engine.log(), start + 1);
    for (std::size_t i = 1; i < events.size(); ++i) out.push_back(events[i].event.resource + "." + events[i].event.action);
    return out;
  }
  std::string join_action(const char* has_many, const char* many_to_many) const {
    return rel == "items" ? has_many : many_to_many;
  }
};

const char* const kRelationships[] = {"items", "labels"};

}  // namespace

TEST_CASE("manage_relationship on_match: ignore, update, update through an action, unrelate, error") {
  for (const char* rel : kRelationships) {
    CAPTURE(rel);
    {
      Scene s({.on_match = manage::Match::ignore}, rel);
      REQUIRE(s.run({{{"name", "A"}, {"note", "x"}}}));
      CHECK(s.note("A").is_null());
      CHECK(s.nested_actions().empty());
      CHECK(s.related() == std::vector<std::string>{"A", "B"});
    }
    {
      Scene s({.use_identities = {"unique_name"}, .on_match = manage::Match::update}, rel);
      REQUIRE(s.run({{{"name", "A"}, {"note", "x"}}}));
      CHECK(s.note("A") == Value("x"));
      CHECK(s.nested_actions() == std::vector<std::string>{s.resource + ".update"});
    }
    {
      Scene s({.use_identities = {"unique_name"}, .on_match = manage::OnMatch{manage::Match::update, "annotate"}}, rel);
      REQUIRE(s.run({{{"name", "A"}, {"note", "y"}}}));
      CHECK(s.note("A") == Value("y"));
      CHECK(s.nested_actions() == std::vector<std::string>{s.resource + ".annotate"});
    }
    {
      Scene s({.use_identities = {"unique_name"}, .on_match = manage::Match::unrelate}, rel);
      REQUIRE(s.run({{{"name", "A"}}}));
      CHECK(s.related() == std::vector<std::string>{"B"});
      CHECK(s.all() == std::vector<std::string>{"A", "B", "C"});  // unrelated, not destroyed
      CHECK(s.nested_actions() == std::vector<std::string>{s.join_action("Item.update", "BoxLabel.destroy")});
    }
    {
      Scene s({.use_identities = {"unique_name"}, .on_match = manage::Match::error}, rel);
      auto r = s.run({{{"name", "B"}}});
      REQUIRE_FALSE(r);
      REQUIRE(r.error().fields.size() == 1);
      CHECK(r.error().fields[0].field == std::string(rel) + "[0]");
      CHECK(r.error().fields[0].code == "already_related");
      CHECK(test::log_length(s.engine.log()) == s.start);
    }
  }
}

TEST_CASE("manage_relationship on_lookup: ignore, relate, relate through an action") {
  for (const char* rel : kRelationships) {
    CAPTURE(rel);
    {
      // Not looked up, so on_no_match (ignore here) decides: C stays unrelated.
      Scene s({.use_identities = {"unique_name"}, .on_lookup = manage::Lookup::ignore}, rel);
      REQUIRE(s.run({{{"name", "C"}}}));
      CHECK(s.related() == std::vector<std::string>{"A", "B"});
      CHECK(s.nested_actions().empty());
    }
    {
      Scene s({.use_identities = {"unique_name"}, .on_lookup = manage::Lookup::relate}, rel);
      REQUIRE(s.run({{{"name", "C"}}}));
      CHECK(s.related() == std::vector<std::string>{"A", "B", "C"});
      CHECK(s.nested_actions() == std::vector<std::string>{s.join_action("Item.update", "BoxLabel.create")});
    }
    {
      Scene s({.use_identities = {"unique_name"},
               .on_lookup = manage::OnLookup{manage::Lookup::relate, rel == std::string("items") ? "attach" : "link"}},
              rel);
      REQUIRE(s.run({{{"name", "C"}}}));
      CHECK(s.related() == std::vector<std::string>{"A", "B", "C"});
      CHECK(s.nested_actions() == std::vector<std::string>{s.join_action("Item.attach", "BoxLabel.link")});
    }
  }
}

TEST_CASE("manage_relationship on_no_match: ignore, create, create through an action, error") {
  for (const char* rel : kRelationships) {
    CAPTURE(rel);
    {
      Scene s({.on_no_match = manage::NoMatch::ignore}, rel);
      REQUIRE(s.run({{{"name", "D"}}}));
      CHECK(s.all() == std::vector<std::string>{"A", "B", "C"});
    }
    {
      Scene s({.on_no_match = manage::NoMatch::create}, rel);
      REQUIRE(s.run({{{"name", "D"}}}));
      CHECK(s.related() == std::vector<std::string>{"A", "B", "D"});
      CHECK(s.note("D").is_null());
      CHECK(s.nested_actions() == (rel == std::string("items") ? std::vector<std::string>{"Item.create"}
                                                               : std::vector<std::string>{"Label.create", "BoxLabel.create"}));
    }
    {
      Scene s({.on_no_match = manage::OnNoMatch{manage::NoMatch::create, "make"}}, rel);
      REQUIRE(s.run({{{"name", "D"}}}));
      CHECK(s.related() == std::vector<std::string>{"A", "B", "D"});
      CHECK(s.note("D") == Value("made"));
    }
    {
      Scene s({.on_no_match = manage::NoMatch::error}, rel);
      auto r = s.run({{{"name", "D"}}, {{"name", "E"}}});
      REQUIRE_FALSE(r);
      REQUIRE(r.error().fields.size() == 2);  // both at once
      FieldError expected{std::string(rel) + "[1]", "no_match", fmt::format("matches no {} related through {}", s.resource, rel)};
      CHECK(r.error().fields[1] == expected);
      CHECK(test::log_length(s.engine.log()) == s.start);
    }
  }
}

TEST_CASE("manage_relationship on_missing: ignore, unrelate, destroy, destroy through an action") {
  for (const char* rel : kRelationships) {
    CAPTURE(rel);
    {
      Scene s({.on_missing = manage::Missing::ignore}, rel);
      REQUIRE(s.run({}));
      CHECK(s.related() == std::vector<std::string>{"A", "B"});
    }
    {
      Scene s({.on_missing = manage::Missing::unrelate}, rel);
      REQUIRE(s.run({{{"name", "A"}}}));  // no key: matches nothing, so A and B are both missing
      CHECK(s.related().empty());
      CHECK(s.all() == std::vector<std::string>{"A", "B", "C"});
    }
    {
      Scene s({.use_identities = {"unique_name"}, .on_missing = manage::Missing::destroy}, rel);
      REQUIRE(s.run({{{"name", "A"}}}));
      CHECK(s.related() == std::vector<std::string>{"A"});
      CHECK(s.all() == std::vector<std::string>{"A", "C"});
      CHECK(s.nested_actions() == (rel == std::string("items") ? std::vector<std::string>{"Item.destroy"}
                                                               : std::vector<std::string>{"BoxLabel.destroy", "Label.destroy"}));
    }
    {
      Scene s({.use_identities = {"unique_name"}, .on_missing = manage::OnMissing{manage::Missing::destroy, "scrap"}}, rel);
      REQUIRE(s.run({{{"name", "B"}}}));
      CHECK(s.all() == std::vector<std::string>{"B", "C"});
      CHECK(s.nested_actions().back() == s.resource + ".scrap");
    }
  }
}

TEST_CASE("manage_relationship types are the guide's defaults, and an option beside a type replaces its default") {
  for (const char* rel : kRelationships) {
    CAPTURE(rel);
    {
      // append: relate C, ignore A, leave B; D is an error.
      Scene s({.type = manage::Type::append, .use_identities = {"unique_name"}}, rel);
      REQUIRE(s.run({{{"name", "A"}, {"note", "x"}}, {{"name", "C"}}}));
      CHECK(s.related() == std::vector<std::string>{"A", "B", "C"});
      CHECK(s.note("A").is_null());
      CHECK_FALSE(s.run({{{"name", "D"}}}));
    }
    {
      // append_and_remove: relate C, unrelate B.
      Scene s({.type = manage::Type::append_and_remove, .use_identities = {"unique_name"}}, rel);
      REQUIRE(s.run({{{"name", "A"}}, {{"name", "C"}}}));
      CHECK(s.related() == std::vector<std::string>{"A", "C"});
      CHECK(s.all() == std::vector<std::string>{"A", "B", "C"});
    }
    {
      // remove: unrelate A; C, not related, is an error (no lookup).
      Scene s({.type = manage::Type::remove, .use_identities = {"unique_name"}}, rel);
      REQUIRE(s.run({{{"name", "A"}}}));
      CHECK(s.related() == std::vector<std::string>{"B"});
      CHECK_FALSE(s.run({{{"name", "C"}}}));
    }
    {
      // direct_control: update A, create D, destroy B.
      Scene s({.type = manage::Type::direct_control, .use_identities = {"unique_name"}}, rel);
      REQUIRE(s.run({{{"name", "A"}, {"note", "x"}}, {{"name", "D"}}}));
      CHECK(s.related() == std::vector<std::string>{"A", "D"});
      CHECK(s.note("A") == Value("x"));
      CHECK(s.all() == std::vector<std::string>{"A", "C", "D"});
    }
    {
      // create: create D, ignore A and B.
      Scene s({.type = manage::Type::create, .use_identities = {"unique_name"}}, rel);
      REQUIRE(s.run({{{"name", "A"}, {"note", "x"}}, {{"name", "D"}}}));
      CHECK(s.related() == std::vector<std::string>{"A", "B", "D"});
      CHECK(s.note("A").is_null());
    }
    {
      // append_and_remove with on_missing destroy in place of unrelate.
      Scene s({.type = manage::Type::append_and_remove, .use_identities = {"unique_name"}, .on_missing = manage::Missing::destroy},
              rel);
      REQUIRE(s.run({{{"name", "A"}}}));
      CHECK(s.all() == std::vector<std::string>{"A", "C"});
    }
  }
}

TEST_CASE("manage_relationship on a no_attributes relationship: relating and unrelating have no effect") {
  TempDir dir;
  auto d = domain("d")
            .resource(resource("Employee")
                          .uuid_primary_key("id")
                          .attribute("name", type::string)
                          .identity("unique_name", {"name"})
                          .defaults({"read", "destroy", "create:*", "update:*"}))
            .resource(resource("Org")
                          .uuid_primary_key("id")
                          .has_many("employees", "Employee", {.no_attributes = true})
                          .defaults({"read", "create:*", "update:*"})
                          .update("staff", {.arguments = {argument("employees", type::array(type::map))},
                                            .steps = {changes::manage_relationship(
                                                "employees", {.type = manage::Type::append_and_remove,
                                                              .use_identities = {"unique_name"},
                                                              .on_no_match = manage::NoMatch::create})}}))
            .build();
  REQUIRE(d);
  Engine engine = Engine::open(dir.path(), *d, {.durability = Durability::no_sync}).value();
  Record org = engine.create("Org", {}).value();
  Record ann = engine.create("Employee", {{"name", "ann"}}).value();
  std::uint64_t before = test::log_length(engine.log());
  // Every employee is related (no attributes, no filter): ann matches; bob is created;
  // relating and unrelating write nothing.
  REQUIRE(engine.update("Org", org.id(), {{"employees", Value(Array{Value(Map{{"name", "bob"}})})}}, {.action = "staff"}));
  auto events = test::all_events(engine.log(), before + 1);
  std::vector<std::string> kinds;
  for (const auto& e : events) kinds.push_back(e.event.resource + "." + e.event.action);
  CHECK(kinds == std::vector<std::string>{"Org.staff", "Employee.create"});
  CHECK(engine.read("Employee").value().size() == 2);
  (void)ann;
}
