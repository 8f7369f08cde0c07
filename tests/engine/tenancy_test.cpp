// Attribute multitenancy, after Ash's: the tenant a call gives scopes every read path
// (reads, gets, loads, aggregates, relationship paths in filters), sets the tenant
// attribute on create, hides another tenant's records from updates and destroys, makes
// identities unique per tenant, and travels with nested and bulk actions and events.
#include "support/engine_helpers.hpp"
#include "support/temp_dir.hpp"

#include <ashlar/ashlar.hpp>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <set>

using namespace ashlar;
using namespace ashlar::dsl;
using ashlar::test::all_events;
using ashlar::test::log_length;
using ashlar::test::TempDir;

namespace {

const MultitenancyDecl kByOrg{.strategy = Multitenancy::attribute, .attribute = "org_id"};

// Organizations (not multitenant) relate to their projects with no attributes, as the
// guide's note has it; projects and tasks belong to a tenant by org_id.
Domain saas() {
  auto defaults = std::vector<std::string>{"read", "destroy", "create:*", "update:*"};
  return domain("saas")
      .resource(resource("Org")
                    .attribute("slug", type::string, {.allow_nil = false, .primary_key = true})
                    .has_many("projects", "Project", {.no_attributes = true})
                    .defaults(defaults))
      .resource(resource("Project")
                    .uuid_primary_key("id")
                    .attribute("org_id", type::string)
                    .attribute("name", type::string)
                    .attribute("code", type::string)
                    .has_many("tasks", "Task")
                    .aggregate("task_count", AggregateKind::count, "tasks")
                    .identity("unique_name", {"name"})
                    .identity("unique_code", {"code"}, {.all_tenants = true})
                    .multitenancy(kByOrg)
                    .defaults(defaults)
                    .create("launch", {.accept = {"name"},
                                       .arguments = {argument("tasks", type::array(type::map))},
                                       .steps = {changes::manage_relationship(
                                           "tasks", "tasks", {.type = manage::Type::direct_control})}})
                    .action("tally", {.returns = type::integer,
                                      .run = [](ActionInput& input) -> Result<Value> {
                                        auto all = input.engine().read("Project", {.tenant = input.to_opts().tenant});
                                        if (!all) return fail(all.error());
                                        return Value(static_cast<std::int64_t>(all->size()));
                                      }})
                    .create("upsert", {.accept = {"name", "code"},
                                       .upsert = true,
                                       .upsert_identity = "unique_name",
                                       .upsert_fields = {"code"}}))
      .resource(resource("Task")
                    .uuid_primary_key("id")
                    .attribute("org_id", type::string)
                    .attribute("title", type::string)
                    .belongs_to("project", "Project")
                    .multitenancy(kByOrg)
                    .defaults(defaults))
      .resource(resource("Template")
                    .uuid_primary_key("id")
                    .attribute("org_id", type::string)
                    .attribute("name", type::string)
                    .multitenancy({.strategy = Multitenancy::attribute, .attribute = "org_id", .global = true})
                    .defaults(defaults))
      .build()
      .value();
}

struct Store {
  TempDir dir;
  Engine engine = Engine::open(dir.path(), saas(), {.durability = Durability::no_sync}).value();
};

CallOptions in(const char* tenant) { return CallOptions{.tenant = tenant}; }

Query scoped(const char* tenant, Query q = {}) {
  q.tenant = tenant;
  return q;
}

std::set<std::string> names(const std::vector<Record>& records, const char* attribute = "name") {
  std::set<std::string> out;
  for (const auto& r : records) out.insert(*r[attribute].as_string());
  return out;
}

void check_tenant_required(const Result<Record>& r, const char* resource, const char* action) {
  REQUIRE_FALSE(r);
  CHECK(r.error().cls == ErrorClass::invalid);
  CHECK(r.error().code == "tenant_required");
  CHECK(r.error().resource == resource);
  CHECK(r.error().action == action);
  CHECK(r.error().message == "tenant is required");
  REQUIRE(r.error().fields.size() == 1);
  CHECK(r.error().fields[0].field == "tenant");
  CHECK(r.error().fields[0].message == fmt::format("{} is multitenant by org_id; every call on it gives a tenant", resource));
}

}  // namespace

TEST_CASE("a multitenant resource names an attribute that can hold a tenant") {
  auto built = [](const char* attribute, Type type) {
    return domain("d")
        .resource(resource("Doc")
                      .uuid_primary_key("id")
                      .attribute("org", type)
                      .multitenancy({.strategy = Multitenancy::attribute, .attribute = attribute})
                      .defaults({"read"}))
        .build();
  };
  auto unknown = built("org_id", type::string);
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().cls == ErrorClass::framework);
  REQUIRE(unknown.error().fields.size() == 1);
  CHECK(unknown.error().fields[0].field == "Doc.multitenancy");
  CHECK(unknown.error().fields[0].code == "unknown_attribute");
  CHECK(unknown.error().fields[0].message == "org_id is not an attribute of Doc");

  auto map = built("org", type::map);
  REQUIRE_FALSE(map);
  REQUIRE(map.error().fields.size() == 1);
  CHECK(map.error().fields[0].code == "invalid_tenant_attribute");
  CHECK(map.error().fields[0].message == "org is a map; a tenant attribute is a string, integer, uuid or atom");

  for (Type ok : {type::string, type::integer, type::uuid, type::atom}) CHECK(built("org", ok));
}

TEST_CASE("the stored model keeps multitenancy and which identities are per tenant") {
  Domain d = saas();
  const Resource& project = *d.resource("Project");
  CHECK(project.identity("unique_name")->attributes == std::vector<std::string>{"org_id", "name"});
  CHECK(project.identity("unique_code")->attributes == std::vector<std::string>{"code"});
  CHECK(project.identity("unique_code")->all_tenants);
  CHECK(d.resource("Org")->tenant_attribute() == nullptr);

  std::string json = domain_to_json(d);
  CHECK(json.find(R"("multitenancy":{"attribute":"org_id","global":false,"strategy":"attribute"})") != std::string::npos);
  CHECK(json.find(R"("all_tenants":true)") != std::string::npos);
  auto back = domain_from_json(json);
  REQUIRE(back);
  CHECK(incompatibilities(d, *back).empty());
  // Read back it writes what it was read from (functions, such as defaults, are not stored).
  std::string again = domain_to_json(*back);
  CHECK(domain_to_json(domain_from_json(again).value()) == again);
  CHECK(again.find(R"("multitenancy":{"attribute":"org_id","global":false,"strategy":"attribute"})") != std::string::npos);
  const Resource& read_back = *back->resource("Project");
  CHECK(read_back.multitenancy().strategy == Multitenancy::attribute);
  CHECK(read_back.tenant_attribute()->name == "org_id");
  CHECK(read_back.identity("unique_name")->attributes == std::vector<std::string>{"org_id", "name"});
  CHECK(read_back.identity("unique_code")->all_tenants);
  CHECK(back->resource("Template")->multitenancy().global);

  auto bad = domain_from_json(
      R"({"format":1,"domain":"d","resources":[{"name":"A","attributes":[],"actions":[],)"
      R"("multitenancy":{"strategy":"attribute","attribute":"org_id","global":false}}]})");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message ==
        "the stored model does not decode: A is multitenant by org_id, which is not one of its attributes");
}

TEST_CASE("a call on a multitenant resource without a tenant is Invalid, and appends nothing") {
  Store s;
  auto& e = s.engine;
  auto project = e.create("Project", {{"name", "Apollo"}}, in("acme")).value();
  std::uint64_t before = log_length(e.log());

  check_tenant_required(e.create("Project", {{"name", "Gemini"}}), "Project", "create");
  check_tenant_required(e.update("Project", project.id(), {{"name", "Gemini"}}), "Project", "update");
  check_tenant_required(e.destroy("Project", project.id()), "Project", "destroy");
  check_tenant_required(e.get("Project", project.id()), "Project", "read");
  auto tally = e.run_action("Project", "tally", {});
  REQUIRE_FALSE(tally);
  CHECK(tally.error().code == "tenant_required");
  CHECK(tally.error().action == "tally");
  CHECK(e.run_action("Project", "tally", {}, in("acme")).value() == Value(1));
  auto read = e.read("Project");
  REQUIRE_FALSE(read);
  CHECK(read.error().code == "tenant_required");
  CHECK(read.error().action == "read");
  // A load of a multitenant destination needs one too (Org is not multitenant itself).
  e.create("Org", {{"slug", "acme"}}).value();
  auto loaded = e.read("Org", {.load = {"projects"}});
  REQUIRE_FALSE(loaded);
  CHECK(loaded.error().code == "tenant_required");
  CHECK(loaded.error().resource == "Project");
  auto bulk = e.bulk_create("Project", {{{"name", "Gemini"}}});
  REQUIRE(bulk);
  REQUIRE(bulk->errors.size() == 1);
  CHECK(bulk->errors[0].error.code == "invalid_input");
  CHECK(bulk->errors[0].error.fields.at(0).code == "tenant_required");
  CHECK(log_length(e.log()) == before + 1);  // only the Org
}

TEST_CASE("a create takes the tenant attribute from the call's tenant, and the event records it") {
  Store s;
  auto& e = s.engine;
  auto made = e.create("Project", {{"name", "Apollo"}}, in("acme")).value();
  CHECK(made["org_id"] == Value("acme"));
  auto events = all_events(e.log());
  REQUIRE(events.size() == 1);
  CHECK(events[0].event.tenant == "acme");

  CHECK(e.create("Project", {{"name", "Gemini"}, {"org_id", "acme"}}, in("acme")));
  auto other = e.create("Project", {{"name", "Mercury"}, {"org_id", "globex"}}, in("acme"));
  REQUIRE_FALSE(other);
  CHECK(other.error().cls == ErrorClass::invalid);
  REQUIRE(other.error().fields.size() == 1);
  CHECK(other.error().fields[0].field == "org_id");
  CHECK(other.error().fields[0].code == "tenant_mismatch");
  CHECK(log_length(e.log()) == 2);

  auto moved = e.update("Project", made.id(), {{"org_id", "globex"}}, in("acme"));
  REQUIRE_FALSE(moved);
  CHECK(moved.error().fields.at(0).code == "tenant_mismatch");
  CHECK(e.get("Project", made.id(), scoped("acme")).value()["org_id"] == Value("acme"));
  CHECK(log_length(e.log()) == 2);
}

TEST_CASE("reads, gets, loads, aggregates and relationship paths see only the call's tenant") {
  Store s;
  auto& e = s.engine;
  auto apollo = e.create("Project", {{"name", "Apollo"}}, in("acme")).value();
  auto vostok = e.create("Project", {{"name", "Vostok"}}, in("globex")).value();
  e.create("Task", {{"title", "a1"}, {"project_id", apollo.id()}}, in("acme")).value();
  e.create("Task", {{"title", "a2"}, {"project_id", apollo.id()}}, in("acme")).value();
  e.create("Task", {{"title", "g1"}, {"project_id", vostok.id()}}, in("globex")).value();
  // An acme task pointing at globex's project: the project is not there for acme.
  auto stray = e.create("Task", {{"title", "a3"}, {"project_id", vostok.id()}}, in("acme")).value();

  CHECK(names(e.read("Project", scoped("acme")).value()) == std::set<std::string>{"Apollo"});
  CHECK(names(e.read("Project", scoped("globex")).value()) == std::set<std::string>{"Vostok"});
  CHECK(e.read("Project", scoped("initech")).value().empty());

  SECTION("a get of another tenant's record is NotFound, never Forbidden") {
    auto got = e.get("Project", vostok.id(), scoped("acme"));
    REQUIRE_FALSE(got);
    CHECK(got.error().cls == ErrorClass::not_found);
    CHECK(got.error().code == "not_found");
    CHECK(e.get("Project", vostok.id(), scoped("globex")));
  }
  SECTION("loads and aggregates count the tenant's related records") {
    auto vostok_for_globex = e.get("Project", vostok.id(), scoped("globex", {.load = {"tasks", "task_count"}})).value();
    CHECK(names(vostok_for_globex.related("tasks"), "title") == std::set<std::string>{"g1"});
    CHECK(vostok_for_globex["task_count"] == Value(1));
    auto loaded = e.load({stray}, {"project"}, {}, "acme").value();
    CHECK(loaded[0].related("project").empty());
    auto in_globex = e.load({stray}, {"project"}, {}, "globex").value();
    REQUIRE(in_globex[0].related("project").size() == 1);
  }
  SECTION("filters through relationships and aggregates") {
    auto by_path = e.read("Task", scoped("acme", {.filter = ref("project.name") == "Vostok"})).value();
    CHECK(by_path.empty());
    auto counted = e.read("Project", scoped("globex", {.filter = ref("task_count") >= 1})).value();
    CHECK(names(counted) == std::set<std::string>{"Vostok"});
    auto busy = e.read("Project", scoped("globex", {.filter = ref("task_count") >= 2})).value();
    CHECK(busy.empty());  // the stray acme task is not globex's
  }
  SECTION("a resource related with no attributes is filtered by the tenant alone") {
    e.create("Org", {{"slug", "acme"}}).value();
    auto org = e.get("Org", "acme", scoped("acme", {.load = {"projects"}})).value();
    CHECK(names(org.related("projects")) == std::set<std::string>{"Apollo"});
  }
}

TEST_CASE("another tenant's record cannot be updated or destroyed: NotFound, nothing appended") {
  Store s;
  auto& e = s.engine;
  auto vostok = e.create("Project", {{"name", "Vostok"}}, in("globex")).value();
  std::uint64_t before = log_length(e.log());
  auto updated = e.update("Project", vostok.id(), {{"name", "Mine"}}, in("acme"));
  REQUIRE_FALSE(updated);
  CHECK(updated.error().cls == ErrorClass::not_found);
  CHECK(updated.error().message.rfind("no Project with primary key ", 0) == 0);
  auto destroyed = e.destroy("Project", vostok.id(), in("acme"));
  REQUIRE_FALSE(destroyed);
  CHECK(destroyed.error().cls == ErrorClass::not_found);
  auto bulk = e.bulk_destroy("Project", std::vector<Value>{vostok.id()}, {.tenant = "acme"}).value();
  REQUIRE(bulk.errors.size() == 1);
  CHECK(bulk.errors[0].error.cls == ErrorClass::not_found);
  auto by_record = e.bulk_update("Project", std::vector<Record>{vostok}, {{"name", "Mine"}}, {.tenant = "acme"}).value();
  REQUIRE(by_record.errors.size() == 1);
  CHECK(by_record.errors[0].error.cls == ErrorClass::not_found);
  CHECK(log_length(e.log()) == before);
  CHECK(e.get("Project", vostok.id(), scoped("globex")).value()["name"] == Value("Vostok"));
}

TEST_CASE("a record's history is read in its tenant") {
  Store s;
  auto& e = s.engine;
  auto vostok = e.create("Project", {{"name", "Vostok"}}, in("globex")).value();
  e.update("Project", vostok.id(), {{"name", "Vostok 2"}}, in("globex")).value();
  auto theirs = e.history("Project", vostok.id(), "globex").value();
  REQUIRE(theirs.size() == 2);
  CHECK(theirs[1].event.tenant == "globex");
  auto hidden = e.history("Project", vostok.id(), "acme");
  REQUIRE_FALSE(hidden);
  CHECK(hidden.error().cls == ErrorClass::not_found);
  auto never = e.history("Project", Uuid::v4(), "acme");
  REQUIRE_FALSE(never);
  // Worded as for a key that never had a record.
  CHECK(hidden.error().message == "no Project with primary key " + vostok.id().str() + " has ever existed");
  CHECK(never.error().message.rfind("no Project with primary key ", 0) == 0);
  auto missing = e.history("Project", vostok.id());
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code == "tenant_required");
}

TEST_CASE("identities are unique per tenant unless declared for all tenants") {
  Store s;
  auto& e = s.engine;
  auto acme = e.create("Project", {{"name", "Apollo"}, {"code", "X1"}}, in("acme")).value();
  auto globex = e.create("Project", {{"name", "Apollo"}}, in("globex"));
  REQUIRE(globex);
  auto twice = e.create("Project", {{"name", "Apollo"}}, in("acme"));
  REQUIRE_FALSE(twice);
  CHECK(twice.error().code == "identity_taken");
  // The error names what the caller gave, not the tenant it gave it in.
  CHECK(twice.error().message == "identity unique_name is taken: another Project has \"Apollo\"");
  CHECK(twice.error().fields == std::vector<FieldError>{{"name", "identity_taken", "has already been taken"}});
  auto code = e.create("Project", {{"name", "Gemini"}, {"code", "X1"}}, in("globex"));
  REQUIRE_FALSE(code);
  CHECK(code.error().code == "identity_taken");

  CHECK(e.get_by("Project", "unique_name", {{"name", "Apollo"}}, scoped("globex")).value().id() == globex->id());
  CHECK(e.get_by("Project", "unique_name", {{"name", "Apollo"}}, scoped("acme")).value().id() == acme.id());
  auto hidden = e.get_by("Project", "unique_code", {{"code", "X1"}}, scoped("globex"));
  REQUIRE_FALSE(hidden);
  CHECK(hidden.error().cls == ErrorClass::not_found);
  // Named by what was asked, not by the tenant it was looked up in.
  auto none = e.get_by("Project", "unique_name", {{"name", "Nope"}}, scoped("acme"));
  REQUIRE_FALSE(none);
  CHECK(none.error().describe() == "not_found: Project: no Project with unique_name \"Nope\"");

  SECTION("an upsert finds the record of its own tenant") {
    auto up = e.create("Project", {{"name", "Apollo"}, {"code", "X2"}}, {.action = "upsert", .tenant = "globex"}).value();
    CHECK(up.id() == globex->id());
    CHECK(e.get("Project", acme.id(), scoped("acme")).value()["code"] == Value("X1"));
    auto fresh = e.create("Project", {{"name", "Apollo"}}, {.action = "upsert", .tenant = "initech"}).value();
    CHECK(fresh.id() != acme.id());
    CHECK(fresh["org_id"] == Value("initech"));
  }
}

TEST_CASE("a global resource called without a tenant reads and writes every tenant's records") {
  Store s;
  auto& e = s.engine;
  e.create("Template", {{"name", "a"}}, in("acme")).value();
  e.create("Template", {{"name", "g"}}, in("globex")).value();
  auto shared = e.create("Template", {{"name", "s"}, {"org_id", "globex"}}).value();
  CHECK(names(e.read("Template").value()) == std::set<std::string>{"a", "g", "s"});
  CHECK(names(e.read("Template", scoped("acme")).value()) == std::set<std::string>{"a"});
  CHECK(names(e.read("Template", scoped("globex")).value()) == std::set<std::string>{"g", "s"});
  CHECK(e.update("Template", shared.id(), {{"name", "t"}}));
  auto hidden = e.destroy("Template", shared.id(), in("acme"));
  REQUIRE_FALSE(hidden);
  CHECK(hidden.error().cls == ErrorClass::not_found);
}

TEST_CASE("bulk and nested actions carry the call's tenant") {
  Store s;
  auto& e = s.engine;
  auto bulk = e.bulk_create("Project", {{{"name", "A"}}, {{"name", "B"}}}, {.tenant = "acme", .return_records = true});
  REQUIRE(bulk);
  REQUIRE(bulk->records.size() == 2);
  for (const auto& r : bulk->records) CHECK(r["org_id"] == Value("acme"));
  e.create("Project", {{"name", "C"}}, in("globex")).value();

  auto launched = e.create("Project", {{"name", "L"}, {"tasks", Array{Value(Map{{"title", "t1"}})}}},
                           {.action = "launch", .tenant = "globex"})
                      .value();
  auto tasks = e.read("Task", scoped("globex")).value();
  REQUIRE(tasks.size() == 1);
  CHECK(tasks[0]["org_id"] == Value("globex"));
  CHECK(tasks[0]["project_id"] == launched.id());
  for (const auto& ev : all_events(e.log())) CHECK_FALSE(ev.event.tenant.empty());

  auto destroyed = e.bulk_destroy("Project", Query{}, {.tenant = "acme"}).value();
  CHECK(destroyed.errors.empty());
  CHECK(e.read("Project", scoped("acme")).value().empty());
  CHECK(names(e.read("Project", scoped("globex")).value()) == std::set<std::string>{"C", "L"});
}

TEST_CASE("the tenant attribute is indexed, and a tenant's read finds its records through the index") {
  Domain d = saas();
  CHECK(d.resource("Project")->indexed("org_id"));
  CHECK(d.resource("Task")->indexed("org_id"));
  CHECK(d.resource("Template")->indexed("org_id"));
  CHECK_FALSE(d.resource("Org")->indexed("slug"));  // not multitenant: its key needs no index
  CHECK(domain_from_json(domain_to_json(d)).value().resource("Task")->indexed("org_id"));

  Store s;
  auto& e = s.engine;
  auto a1 = e.create("Project", {{"name", "A1"}}, in("acme")).value();
  auto a2 = e.create("Project", {{"name", "A2"}}, in("acme")).value();
  e.create("Project", {{"name", "G1"}}, in("globex")).value();
  e.update("Project", a1.id(), {{"name", "A1b"}}, in("acme")).value();
  e.destroy("Project", a2.id(), in("acme")).value();
  for (int i = 0; i < 5; ++i) e.create("Project", {{"name", fmt::format("I{}", i)}}, in("initech")).value();
  const auto& lookups = e.log().counters().lookups;
  auto before = lookups.load();
  CHECK(names(e.read("Project", scoped("acme")).value()) == std::set<std::string>{"A1b"});
  CHECK(lookups.load() - before == 1 + 1);  // one index lookup and one get, not a scan of every tenant's
  CHECK(names(e.read("Project", scoped("globex")).value()) == std::set<std::string>{"G1"});
  auto filtered = e.read("Project", scoped("globex", {.filter = ref("name") == "A1b"})).value();
  CHECK(filtered.empty());  // the caller's filter and the tenant's scope both hold
  auto verified = e.verify().value();
  CHECK(verified.problems == std::vector<std::string>{});
}

TEST_CASE("a store written before its resource was multitenant is indexed by tenant when opened with it") {
  auto doc = [](bool multitenant) {
    auto r = resource("Doc")
                 .uuid_primary_key("id")
                 .attribute("org_id", type::string)
                 .attribute("title", type::string)
                 .defaults({"read", "destroy", "create:*", "update:*"});
    if (multitenant) r.multitenancy(kByOrg);
    return domain("d").resource(r).build().value();
  };
  TempDir dir;
  {
    Engine before = Engine::open(dir.path(), doc(false), {.durability = Durability::no_sync}).value();
    before.create("Doc", {{"org_id", "acme"}, {"title", "a"}}).value();
    before.create("Doc", {{"org_id", "globex"}, {"title", "g"}}).value();
  }
  Engine after = Engine::open(dir.path(), doc(true), {.durability = Durability::no_sync}).value();
  CHECK(names(after.read("Doc", scoped("acme")).value(), "title") == std::set<std::string>{"a"});
  CHECK(names(after.read("Doc", scoped("globex")).value(), "title") == std::set<std::string>{"g"});
  CHECK(after.verify().value().problems == std::vector<std::string>{});
}

TEST_CASE("a read policy with a path through a multitenant resource decides updates, destroys and history in the call's tenant") {
  auto d = domain("teams")
               .resource(resource("Project")
                             .uuid_primary_key("id")
                             .attribute("org_id", type::string)
                             .attribute("name", type::string)
                             .has_many("members", "Member")
                             .multitenancy(kByOrg)
                             .defaults({"read", "destroy", "create:*", "update:*"})
                             .policy(action_type(ActionType::read),
                                     {authorize_if(expr(exists("members", ref("user_id") == actor("id"))))})
                             .policy(always(), {authorize_if(actor_present())}))
               .resource(resource("Member")
                             .uuid_primary_key("id")
                             .attribute("org_id", type::string)
                             .attribute("user_id", type::uuid)
                             .belongs_to("project", "Project")
                             .multitenancy(kByOrg)
                             .defaults({"read", "create:*"}))
               .build()
               .value();
  TempDir dir;
  auto engine = Engine::open(dir.path(), d, {.durability = Durability::no_sync}).value();
  Uuid alice = Uuid::v4(), bob = Uuid::v4();
  Value as_alice(Map{{"id", Value(alice)}}), as_bob(Map{{"id", Value(bob)}});
  auto project = engine.create("Project", {{"name", "Roadmap"}}, {.actor = as_alice, .tenant = "acme"}).value();
  engine.create("Member", {{"user_id", Value(alice)}, {"project_id", project.id()}}, {.tenant = "acme"}).value();

  auto renamed = engine.update("Project", project.id(), {{"name", "Plan"}}, {.actor = as_alice, .tenant = "acme"});
  REQUIRE(renamed);
  CHECK(renamed->get("name") == Value("Plan"));
  CHECK(engine.history("Project", project.id(), {.actor = as_alice, .tenant = "acme"}).value().size() == 2);
  std::uint64_t head = log_length(engine.log());
  // Bob is no member: the project is not there for him, in acme or elsewhere.
  CHECK(engine.update("Project", project.id(), {{"name", "x"}}, {.actor = as_bob, .tenant = "acme"}).error().code ==
        "not_found");
  CHECK(engine.update("Project", project.id(), {{"name", "x"}}, {.actor = as_alice, .tenant = "globex"}).error().code ==
        "not_found");
  CHECK(engine.destroy("Project", project.id(), {.actor = as_bob, .tenant = "acme"}).error().code == "not_found");
  CHECK(log_length(engine.log()) == head);
  CHECK(engine.destroy("Project", project.id(), {.actor = as_alice, .tenant = "acme"}));
}

TEST_CASE("an upsert condition that does not hold in a tenant names the identity's values, not the tenant") {
  TempDir dir;
  auto d = domain("saas")
               .resource(resource("Project")
                             .uuid_primary_key("id")
                             .attribute("org_id", type::string)
                             .attribute("name", type::string)
                             .attribute("status", type::atom, {.default_value = Value(Atom{"open"})})
                             .identity("unique_name", {"name"})
                             .multitenancy(kByOrg)
                             .defaults({"read", "create:*", "update:*"})
                             .create("reopen", {.accept = {"name"},
                                                .upsert = true,
                                                .upsert_identity = "unique_name",
                                                .upsert_condition = ref("status") == Atom{"open"}}))
               .build()
               .value();
  Engine e = Engine::open(dir.path(), d, {.durability = Durability::no_sync}).value();
  auto apollo = e.create("Project", {{"name", "Apollo"}}, in("acme")).value();
  e.update("Project", apollo.id(), {{"status", Atom{"closed"}}}, in("acme")).value();
  auto before = log_length(e.log());
  auto stale = e.create("Project", {{"name", "Apollo"}}, {.action = "reopen", .tenant = "acme"});
  REQUIRE_FALSE(stale);
  CHECK(stale.error().describe() ==
        "conflict: Project.reopen: a Project with unique_name Apollo exists, and the upsert condition does not hold for "
        "it: name: the stored record does not meet the upsert condition");
  CHECK(log_length(e.log()) == before);
  // Another tenant's Apollo is its own.
  CHECK(e.create("Project", {{"name", "Apollo"}}, {.action = "reopen", .tenant = "globex"}));
}

TEST_CASE("manage_relationship finds records by an identity unique per tenant, in the call's tenant") {
  TempDir dir;
  auto defaults = std::vector<std::string>{"read", "destroy", "create:*", "update:*"};
  manage::Options by_name{.type = manage::Type::append_and_remove,
                          .value_is_key = "name",
                          .on_lookup = manage::Lookup::relate,
                          .on_no_match = manage::NoMatch::create};
  auto d = domain("press")
               .resource(resource("Tag")
                             .uuid_primary_key("id")
                             .attribute("org_id", type::string)
                             .attribute("name", type::string, {.allow_nil = false})
                             .identity("unique_name", {"name"})
                             .multitenancy(kByOrg)
                             .defaults(defaults))
               .resource(resource("PostTag")
                             .attribute("org_id", type::string)
                             .belongs_to("post", "Post", {.allow_nil = false, .primary_key = true})
                             .belongs_to("tag", "Tag", {.allow_nil = false, .primary_key = true})
                             .multitenancy(kByOrg)
                             .defaults(defaults))
               .resource(resource("Post")
                             .uuid_primary_key("id")
                             .attribute("org_id", type::string)
                             .attribute("title", type::string)
                             .many_to_many("tags", "Tag", {.through = "PostTag"})
                             .multitenancy(kByOrg)
                             .defaults(defaults)
                             .update("retag", {.arguments = {argument("tags", type::array(type::string))},
                                               .steps = {changes::manage_relationship("tags", "tags", by_name)}}))
               .build()
               .value();
  Engine e = Engine::open(dir.path(), d, {.durability = Durability::no_sync}).value();
  auto tag_names = [&](const Value& post, const char* tenant) {
    auto loaded = e.get("Post", post, {.load = {"tags"}, .tenant = tenant}).value();
    return names(loaded.related("tags"));
  };
  auto p1 = e.create("Post", {{"title", "one"}}, in("acme")).value();
  auto p2 = e.create("Post", {{"title", "two"}}, in("acme")).value();
  auto p3 = e.create("Post", {{"title", "three"}}, in("globex")).value();

  REQUIRE(e.update("Post", p1.id(), {{"tags", Array{"cpp"}}}, {.action = "retag", .tenant = "acme"}));
  // The same name again, on the same post and on another: the tag acme has, not a new one.
  REQUIRE(e.update("Post", p1.id(), {{"tags", Array{"cpp", "db"}}}, {.action = "retag", .tenant = "acme"}));
  REQUIRE(e.update("Post", p2.id(), {{"tags", Array{"cpp"}}}, {.action = "retag", .tenant = "acme"}));
  // Another tenant's cpp is its own.
  REQUIRE(e.update("Post", p3.id(), {{"tags", Array{"cpp"}}}, {.action = "retag", .tenant = "globex"}));
  CHECK(tag_names(p1.id(), "acme") == std::set<std::string>{"cpp", "db"});
  CHECK(tag_names(p2.id(), "acme") == std::set<std::string>{"cpp"});
  CHECK(tag_names(p3.id(), "globex") == std::set<std::string>{"cpp"});
  CHECK(e.read("Tag", scoped("acme")).value().size() == 2);
  CHECK(e.read("Tag", scoped("globex")).value().size() == 1);

  // Removed by name as well.
  REQUIRE(e.update("Post", p1.id(), {{"tags", Array{"db"}}}, {.action = "retag", .tenant = "acme"}));
  CHECK(tag_names(p1.id(), "acme") == std::set<std::string>{"db"});
  CHECK(e.read("PostTag", scoped("acme")).value().size() == 2);
}
