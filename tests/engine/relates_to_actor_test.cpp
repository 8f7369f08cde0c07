// relates_to_actor_via: a filter check over a relationship path that leads to the actor,
// through belongs_to, has_many and many_to_many, in reads as a filter and in creates
// against the record as it would be (its relationships followed as the actor reads them).
#include "support/engine_helpers.hpp"
#include "support/temp_dir.hpp"

#include <ashlar/ashlar.hpp>

#include <catch2/catch.hpp>

#include <set>

using namespace ashlar;
using namespace ashlar::dsl;
using ashlar::test::log_length;
using ashlar::test::TempDir;

namespace {

Domain org_domain() {
  return domain("org")
      .resource(resource("Team")
                    .uuid_primary_key("id")
                    .attribute("name", type::string)
                    .has_many("users", "User")
                    .defaults({"read", "create:*"})
                    .policy(action_type(ActionType::read), {authorize_if(relates_to_actor_via("users"))})
                    .policy(action_type(ActionType::create), {authorize_if(always())}))
      .resource(resource("User")
                    .uuid_primary_key("id")
                    .attribute("name", type::string)
                    .belongs_to("team", "Team")
                    .defaults({"read", "create:*"}))
      .resource(resource("Project")
                    .uuid_primary_key("id")
                    .attribute("name", type::string)
                    .belongs_to("owner", "User")
                    .many_to_many("members", "User", {.through = "Membership"})
                    .defaults({"read", "create:*"})
                    .policy(action_type(ActionType::read),
                            {authorize_if(relates_to_actor_via("owner")), authorize_if(relates_to_actor_via("members"))})
                    .policy(action_type(ActionType::create), {authorize_if(relates_to_actor_via("owner"))}))
      .resource(resource("Membership")
                    .belongs_to("project", "Project", {.allow_nil = false, .primary_key = true})
                    .belongs_to("user", "User", {.allow_nil = false, .primary_key = true})
                    .defaults({"read", "create:*"}))
      .resource(resource("Task")
                    .uuid_primary_key("id")
                    .attribute("title", type::string)
                    .belongs_to("project", "Project")
                    .defaults({"read", "create:*"})
                    .policy(action_type(ActionType::read), {authorize_if(relates_to_actor_via({"project", "members"}))})
                    .policy(action_type(ActionType::create),
                            {forbid_unless(relates_to_actor_via("project.owner")), authorize_if(always())},
                            "owners add tasks"))
      .build()
      .value();
}

Value as_actor(const Record& user) { return Value(Map{{"id", user.id()}}); }

// Ann and Ben in team red, Cy in team blue. Ann owns "apollo" (Ben a member), Cy owns
// "zeus" (no members); one task in each.
struct Org {
  TempDir dir;
  Engine engine{Engine::open(dir.path(), org_domain(), {.durability = Durability::no_sync}).value()};
  CallOptions system{.authorize = false};
  Record red = engine.create("Team", {{"name", "red"}}, system).value();
  Record blue = engine.create("Team", {{"name", "blue"}}, system).value();
  Record ann = engine.create("User", {{"name", "ann"}, {"team_id", red.id()}}, system).value();
  Record ben = engine.create("User", {{"name", "ben"}, {"team_id", red.id()}}, system).value();
  Record cy = engine.create("User", {{"name", "cy"}, {"team_id", blue.id()}}, system).value();
  Record apollo = engine.create("Project", {{"name", "apollo"}, {"owner_id", ann.id()}}, system).value();
  Record zeus = engine.create("Project", {{"name", "zeus"}, {"owner_id", cy.id()}}, system).value();

  Org() {
    engine.create("Membership", {{"project_id", apollo.id()}, {"user_id", ben.id()}}, system).value();
    engine.create("Task", {{"title", "launch"}, {"project_id", apollo.id()}}, system).value();
    engine.create("Task", {{"title", "thunder"}, {"project_id", zeus.id()}}, system).value();
  }

  std::set<std::string> read(const std::string& resource, const Value& actor, const std::string& field = "name") {
    std::set<std::string> out;
    for (const auto& r : engine.read(resource, {.actor = actor}).value()) out.insert(*r[field].as_string());
    return out;
  }
};

using Names = std::set<std::string>;

}  // namespace

TEST_CASE("relates_to_actor_via: reads keep the records whose path leads to the actor") {
  Org o;
  // belongs_to: the owner; many_to_many: a member.
  CHECK(o.read("Project", as_actor(o.ann)) == Names{"apollo"});
  CHECK(o.read("Project", as_actor(o.ben)) == Names{"apollo"});
  CHECK(o.read("Project", as_actor(o.cy)) == Names{"zeus"});
  CHECK(o.read("Project", Value()).empty());
  // has_many: a team any of whose users is the actor.
  CHECK(o.read("Team", as_actor(o.ann)) == Names{"red"});
  CHECK(o.read("Team", as_actor(o.cy)) == Names{"blue"});
  // belongs_to then many_to_many: the tasks of projects the actor is a member of (the
  // owner of apollo is not one of its members; cy's project has none).
  CHECK(o.read("Task", as_actor(o.ben), "title") == Names{"launch"});
  CHECK(o.read("Task", as_actor(o.ann), "title").empty());
  CHECK(o.read("Task", as_actor(o.cy), "title").empty());
  // A get of a record the path does not lead from is NotFound.
  CHECK(o.engine.get("Project", o.apollo.id(), {.actor = as_actor(o.ben)}));
  auto hidden = o.engine.get("Project", o.zeus.id(), {.actor = as_actor(o.ben)});
  REQUIRE_FALSE(hidden);
  CHECK(hidden.error().cls == ErrorClass::not_found);
}

TEST_CASE("relates_to_actor_via: a create is decided on the record as it would be, nothing appended when refused") {
  Org o;
  std::uint64_t before = log_length(o.engine.log());
  // belongs_to on the record itself: the owner it is created with.
  CHECK(o.engine.create("Project", {{"name", "mine"}, {"owner_id", o.ben.id()}}, {.actor = as_actor(o.ben)}));
  auto theirs = o.engine.create("Project", {{"name", "theirs"}, {"owner_id", o.cy.id()}}, {.actor = as_actor(o.ben)});
  REQUIRE_FALSE(theirs);
  CHECK(theirs.error().describe() == "forbidden: Project.create: policy 2 forbids it: none of its checks decided");
  CHECK(log_length(o.engine.log()) == before + 1);

  // Through the related record: a task of the actor's own project vs another's.
  before = log_length(o.engine.log());
  CHECK(o.engine.create("Task", {{"title", "ours"}, {"project_id", o.apollo.id()}}, {.actor = as_actor(o.ann)}));
  CHECK(log_length(o.engine.log()) == before + 1);
  before = log_length(o.engine.log());
  const std::string refusal =
      "forbidden: Task.create: policy 2 \"owners add tasks\" forbids it: "
      "forbid_unless relates_to_actor_via(project.owner) does not hold";
  // Ben reads apollo (a member) but does not own it; cy's project is not even readable
  // to him; a task with no project leads nowhere.
  for (const Fields& fields : {Fields{{"title", "x"}, {"project_id", o.apollo.id()}},
                               Fields{{"title", "x"}, {"project_id", o.zeus.id()}}, Fields{{"title", "x"}}}) {
    auto refused = o.engine.create("Task", fields, {.actor = as_actor(o.ben)});
    REQUIRE_FALSE(refused);
    CHECK(refused.error().cls == ErrorClass::forbidden);
    CHECK(refused.error().code == "forbidden");
    CHECK(refused.error().describe() == refusal);
  }
  auto anonymous = o.engine.create("Task", {{"title", "x"}, {"project_id", o.apollo.id()}}, {});
  REQUIRE_FALSE(anonymous);
  CHECK(anonymous.error().describe() == refusal);
  CHECK(log_length(o.engine.log()) == before);
  CHECK(o.engine.create("Task", {{"title", "x"}, {"project_id", o.zeus.id()}}, {.actor = as_actor(o.cy)}));
}

TEST_CASE("relates_to_actor_via: the actor's key can be named") {
  TempDir dir;
  auto d = domain("d")
               .resource(resource("User").uuid_primary_key("id").defaults({"read", "create:*"}))
               .resource(resource("Note")
                             .uuid_primary_key("id")
                             .belongs_to("author", "User")
                             .defaults({"read", "create:*"})
                             .policy(always(), {authorize_if(relates_to_actor_via("author", "user_id"))}))
               .build()
               .value();
  auto engine = Engine::open(dir.path(), d, {.durability = Durability::no_sync}).value();
  Value u = engine.create("User", {}).value().id();
  CHECK(engine.create("Note", {{"author_id", u}}, {.actor = Value(Map{{"user_id", u}})}));
  CHECK_FALSE(engine.create("Note", {{"author_id", u}}, {.actor = Value(Map{{"id", u}})}));
}

TEST_CASE("relates_to_actor_via: mistakes are reported when the domain is built") {
  auto built = domain("d")
                   .resource(resource("User").uuid_primary_key("id").has_many("pins", "Pin").defaults({"read"}))
                   .resource(resource("Pin")
                                 .belongs_to("user", "User", {.allow_nil = false, .primary_key = true})
                                 .attribute("slot", type::integer, {.primary_key = true})
                                 .belongs_to("owner", "User")
                                 .defaults({"read"}))
                   .resource(resource("Doc")
                                 .uuid_primary_key("id")
                                 .belongs_to("owner", "User")
                                 .defaults({"read"})
                                 .policy(relates_to_actor_via("owner"), {authorize_if(always())})
                                 .policy(always(), {authorize_if(relates_to_actor_via("nowhere")),
                                                    authorize_if(relates_to_actor_via("owner.pins")),
                                                    authorize_if(relates_to_actor_via("owner.team"))}))
                   .build();
  REQUIRE_FALSE(built);
  std::vector<FieldError> expected{
      {"Doc.policy 2", "unknown_attribute", "relates_to_actor_via(nowhere): Doc has no relationship nowhere"},
      {"Doc.policy 2", "invalid_policy",
       "relates_to_actor_via(owner.pins): Pin has no one-attribute primary key to compare with the actor"},
      {"Doc.policy 2", "unknown_attribute", "relates_to_actor_via(owner.team): User has no relationship team"},
      {"Doc.policy 1", "invalid_policy",
       "relates_to_actor_via(owner) is a filter check; a condition must be decided without the record"},
  };
  REQUIRE(built.error().fields.size() == expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    INFO(built.error().fields[i].field << " | " << built.error().fields[i].code << " | " << built.error().fields[i].message);
    CHECK(built.error().fields[i] == expected[i]);
  }
}
