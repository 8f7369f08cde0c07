// Context multitenancy: each tenant's records of a resource live in databases of their
// own, and every read path reads only the call's tenant's; tenants are listed and their
// databases dropped explicitly; rebuild, verify, history and time travel find them.
#include "support/engine_helpers.hpp"
#include "support/temp_dir.hpp"

#include <ashlar/ashlar.hpp>
#include <ashlar/store_reader.hpp>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <set>

using namespace ashlar;
using namespace ashlar::dsl;
using ashlar::test::log_length;
using ashlar::test::TempDir;

namespace {

const MultitenancyDecl kContext{.strategy = Multitenancy::context};

// Organizations are shared; projects and their tasks are kept per tenant.
Domain saas() {
  auto defaults = std::vector<std::string>{"read", "destroy", "create:*", "update:*"};
  return domain("saas")
      .resource(resource("Org")
                    .attribute("slug", type::string, {.allow_nil = false, .primary_key = true})
                    .defaults(defaults))
      .resource(resource("Project")
                    .uuid_primary_key("id")
                    .attribute("name", type::string)
                    .attribute("code", type::string)
                    .has_many("tasks", "Task")
                    .aggregate("task_count", AggregateKind::count, "tasks")
                    .identity("unique_name", {"name"})
                    .multitenancy(kContext)
                    .defaults(defaults)
                    .create("upsert", {.accept = {"name", "code"},
                                       .upsert = true,
                                       .upsert_identity = "unique_name",
                                       .upsert_fields = {"code"}}))
      .resource(resource("Task")
                    .uuid_primary_key("id")
                    .attribute("title", type::string)
                    .belongs_to("project", "Project")
                    .multitenancy(kContext)
                    .defaults(defaults))
      .build()
      .value();
}

Options quiet(unsigned tenant_databases = 4096) {
  Options o;
  o.durability = Durability::no_sync;
  o.tenant_databases = tenant_databases;
  return o;
}

Query in(const std::string& tenant) {
  Query q;
  q.tenant = tenant;
  return q;
}

CallOptions as(const std::string& tenant) { return CallOptions{.tenant = tenant}; }

std::set<std::string> names(const std::vector<Record>& records, const char* attribute = "name") {
  std::set<std::string> out;
  for (const auto& r : records) out.insert(*r[attribute].as_string());
  return out;
}

std::vector<std::string> database_names(const Log& log, std::string_view prefix) {
  auto txn = log.read().value();
  return txn.database_names(prefix).value();
}

// Two tenants with a project named alike, each with its own tasks.
struct Store {
  TempDir dir;
  Engine engine = Engine::open(dir.path(), saas(), quiet()).value();
  Record acme = engine.create("Project", {{"name", "Apollo"}, {"code", "A1"}}, as("acme")).value();
  Record globex = engine.create("Project", {{"name", "Apollo"}, {"code", "G1"}}, as("globex")).value();
  Store() {
    for (const char* title : {"design", "build"})
      engine.create("Task", {{"title", title}, {"project_id", acme.id()}}, as("acme")).value();
    engine.create("Task", {{"title", "plan"}, {"project_id", globex.id()}}, as("globex")).value();
  }
};

}  // namespace

TEST_CASE("context: the strategy names no attribute and is never global") {
  auto built = [](MultitenancyDecl decl) {
    return domain("d")
        .resource(resource("Doc").uuid_primary_key("id").attribute("org", type::string).multitenancy(decl).defaults({"read"}))
        .build();
  };
  CHECK(built(kContext));
  auto named = built({.strategy = Multitenancy::context, .attribute = "org"});
  REQUIRE_FALSE(named);
  REQUIRE(named.error().fields.size() == 1);
  CHECK(named.error().fields[0].field == "Doc.multitenancy");
  CHECK(named.error().fields[0].code == "invalid_multitenancy");
  CHECK(named.error().fields[0].message ==
        "the context strategy names no attribute: each tenant's records live in databases of their own");
  auto global = built({.strategy = Multitenancy::context, .global = true});
  REQUIRE_FALSE(global);
  REQUIRE(global.error().fields.size() == 1);
  CHECK(global.error().fields[0].message ==
        "the context strategy cannot be global: every record lives in a tenant's databases");

  auto back = domain_from_json(domain_to_json(saas())).value();
  CHECK(back.resource("Project")->multitenancy().strategy == Multitenancy::context);
  CHECK(back.resource("Org")->multitenancy().strategy == Multitenancy::none);
}

TEST_CASE("context: every call on the resource needs a tenant") {
  Store s;
  auto head = log_length(s.engine.log());
  auto check = [](const Error& e, const char* action) {
    CHECK(e.cls == ErrorClass::invalid);
    CHECK(e.code == "tenant_required");
    CHECK(e.resource == "Project");
    CHECK(e.action == action);
    CHECK(e.message == "tenant is required");
    REQUIRE(e.fields.size() == 1);
    CHECK(e.fields[0].field == "tenant");
    CHECK(e.fields[0].message == "Project keeps each tenant's records apart; every call on it gives a tenant");
  };
  check(s.engine.read("Project").error(), "read");
  check(s.engine.get("Project", s.acme.id()).error(), "read");
  check(s.engine.get_by("Project", "unique_name", {{"name", "Apollo"}}).error(), "get_by");
  check(s.engine.create("Project", {{"name", "Zeus"}}).error(), "create");
  check(s.engine.update("Project", s.acme.id(), {{"code", "X"}}).error(), "update");
  check(s.engine.destroy("Project", s.acme.id()).error(), "destroy");
  check(s.engine.history("Project", s.acme.id()).error(), "history");
  // A tenant names databases, so it is bounded.
  auto long_tenant = s.engine.create("Project", {{"name", "Zeus"}}, as(std::string(129, 't')));
  REQUIRE_FALSE(long_tenant);
  REQUIRE(long_tenant.error().fields.size() == 1);
  CHECK(long_tenant.error().fields[0].code == "too_long");
  CHECK(long_tenant.error().fields[0].message == "is 129 bytes; a tenant of Project is at most 128");
  CHECK(log_length(s.engine.log()) == head);
}

TEST_CASE("context: a tenant's records live in databases of its own") {
  Store s;
  CHECK(database_names(s.engine.log(), "rec/Project") ==
        std::vector<std::string>{"rec/Project@acme", "rec/Project@globex"});
  CHECK(database_names(s.engine.log(), "uniq/Project") ==
        std::vector<std::string>{"uniq/Project@acme/unique_name", "uniq/Project@globex/unique_name"});
  CHECK(database_names(s.engine.log(), "idx/Task") ==
        std::vector<std::string>{"idx/Task@acme/project_id", "idx/Task@globex/project_id"});
  // Tenants are text of the user's: escaped, they never collide or reach into a name.
  s.engine.create("Project", {{"name", "Odd"}}, as("a/b c%")).value();
  s.engine.create("Project", {{"name", "Odd"}}, as("a")).value();
  CHECK(database_names(s.engine.log(), "rec/Project@a") ==
        std::vector<std::string>{"rec/Project@a", "rec/Project@a%2Fb%20c%25", "rec/Project@acme"});
  CHECK(names(s.engine.read("Project", in("a/b c%")).value()) == std::set<std::string>{"Odd"});
  // Every event is in the one log, with its tenant.
  std::set<std::string> tenants;
  for (const auto& e : ashlar::test::all_events(s.engine.log())) tenants.insert(e.event.tenant);
  CHECK(tenants == std::set<std::string>{"acme", "globex", "a/b c%", "a"});
}

TEST_CASE("context: reads, gets, loads, aggregates and filters see the call's tenant alone") {
  Store s;
  auto acme = s.engine.read("Project", in("acme")).value();
  REQUIRE(acme.size() == 1);
  CHECK(acme[0].id() == s.acme.id());
  CHECK(names(s.engine.read("Task", in("acme")).value(), "title") == std::set<std::string>{"design", "build"});
  CHECK(s.engine.read("Task", in("initech")).value().empty());  // a tenant with no databases yet

  auto hidden = s.engine.get("Project", s.globex.id(), in("acme"));
  REQUIRE_FALSE(hidden);
  CHECK(hidden.error().cls == ErrorClass::not_found);
  CHECK(s.engine.get("Project", s.globex.id(), in("globex")).value()["code"] == Value("G1"));

  // Identities are looked up in the tenant's own table.
  CHECK(s.engine.get_by("Project", "unique_name", {{"name", "Apollo"}}, in("acme")).value().id() == s.acme.id());
  CHECK(s.engine.get_by("Project", "unique_name", {{"name", "Apollo"}}, in("globex")).value().id() == s.globex.id());
  CHECK(s.engine.get_by("Project", "unique_name", {{"name", "Apollo"}}, in("initech")).error().cls ==
        ErrorClass::not_found);

  Query loads = in("acme");
  loads.load = {Load{"tasks"}, Load{"task_count"}};
  auto loaded = s.engine.read("Project", loads).value();
  REQUIRE(loaded.size() == 1);
  CHECK(loaded[0]["task_count"] == Value(std::int64_t{2}));
  CHECK(names(loaded[0].related("tasks"), "title") == std::set<std::string>{"design", "build"});

  // A relationship path in a filter follows the tenant's own records.
  Query through = in("globex");
  through.filter = ref("project.name") == Expr(Value("Apollo"));
  CHECK(names(s.engine.read("Task", through).value(), "title") == std::set<std::string>{"plan"});
  Query counted = in("globex");
  counted.filter = ref("task_count") == Expr(Value(std::int64_t{1}));
  CHECK(s.engine.read("Project", counted).value().size() == 1);

  // Engine::load reads in the tenant it is given.
  auto again = s.engine.load({s.acme}, {Load{"tasks"}}, {}, "acme").value();
  CHECK(again[0].related("tasks").size() == 2);
}

TEST_CASE("context: another tenant's record is not found to writes, and nothing is appended") {
  Store s;
  auto head = log_length(s.engine.log());
  auto update = s.engine.update("Project", s.globex.id(), {{"code", "X"}}, as("acme"));
  REQUIRE_FALSE(update);
  CHECK(update.error().cls == ErrorClass::not_found);
  auto destroy = s.engine.destroy("Project", s.globex.id(), as("acme"));
  REQUIRE_FALSE(destroy);
  CHECK(destroy.error().cls == ErrorClass::not_found);
  CHECK(log_length(s.engine.log()) == head);
  CHECK(s.engine.get("Project", s.globex.id(), in("globex")).value()["code"] == Value("G1"));

  // Its own record updates, and its version follows the record's events.
  auto updated = s.engine.update("Project", s.acme.id(), {{"code", "A2"}}, as("acme")).value();
  CHECK(updated["code"] == Value("A2"));
  CHECK(s.engine.destroy("Project", s.acme.id(), as("acme")));
  CHECK(s.engine.read("Project", in("acme")).value().empty());
  CHECK(s.engine.read("Project", in("globex")).value().size() == 1);
}

TEST_CASE("context: identities are unique per tenant, and upserts find the tenant's record") {
  Store s;
  auto taken = s.engine.create("Project", {{"name", "Apollo"}}, as("acme"));
  REQUIRE_FALSE(taken);
  CHECK(taken.error().cls == ErrorClass::conflict);
  CHECK(taken.error().code == "identity_taken");
  CHECK(s.engine.create("Project", {{"name", "Apollo"}}, as("initech")));

  auto upserted = s.engine.create("Project", {{"name", "Apollo"}, {"code", "A9"}},
                                  CallOptions{.action = "upsert", .tenant = "globex"}).value();
  CHECK(upserted.id() == s.globex.id());
  CHECK(upserted["code"] == Value("A9"));
  CHECK(s.engine.get("Project", s.acme.id(), in("acme")).value()["code"] == Value("A1"));
}

TEST_CASE("context: history and time travel are the tenant's") {
  Store s;
  s.engine.update("Project", s.acme.id(), {{"code", "A2"}}, as("acme")).value();
  auto history = s.engine.history("Project", s.acme.id(), "acme").value();
  REQUIRE(history.size() == 2);
  CHECK(history[1].event.tenant == "acme");
  auto other = s.engine.history("Project", s.acme.id(), "globex");
  REQUIRE_FALSE(other);
  CHECK(other.error().cls == ErrorClass::not_found);

  Query then = in("acme");
  then.as_of = AsOf{.position = history[0].event.position};
  auto past = s.engine.read("Project", then).value();
  REQUIRE(past.size() == 1);
  CHECK(past[0]["code"] == Value("A1"));
  Query theirs = in("globex");
  theirs.as_of = AsOf{.position = log_length(s.engine.log())};
  CHECK(names(s.engine.read("Project", theirs).value(), "code") == std::set<std::string>{"G1"});
  auto get_then = s.engine.get("Project", s.acme.id(), then).value();
  CHECK(get_then["code"] == Value("A1"));
  CHECK(s.engine.get("Project", s.acme.id(), theirs).error().cls == ErrorClass::not_found);
}

TEST_CASE("context: tenants are listed, and a tenant's databases are dropped and rebuilt") {
  Store s;
  CHECK(s.engine.tenants("Project").value() == std::vector<std::string>{"acme", "globex"});
  auto not_context = s.engine.tenants("Org");
  REQUIRE_FALSE(not_context);
  CHECK(not_context.error().cls == ErrorClass::framework);
  CHECK(not_context.error().message == "Org is not multitenant by context: its records are not kept per tenant");

  auto head = log_length(s.engine.log());
  CHECK(s.engine.drop_tenant_projections("Project", "acme").value());
  CHECK_FALSE(s.engine.drop_tenant_projections("Project", "acme").value());  // nothing left
  CHECK_FALSE(s.engine.drop_tenant_projections("Project", "initech").value());  // never had any
  CHECK(log_length(s.engine.log()) == head);  // the log keeps every event
  CHECK(s.engine.tenants("Project").value() == std::vector<std::string>{"globex"});
  CHECK(s.engine.read("Project", in("acme")).value().empty());
  CHECK(s.engine.get("Project", s.acme.id(), in("acme")).error().cls == ErrorClass::not_found);
  CHECK(s.engine.read("Task", in("acme")).value().size() == 2);  // another resource's tables stay
  CHECK(s.engine.history("Project", s.acme.id(), "acme").value().size() == 1);

  // The dropped tables differ from a replay of the log, until a rebuild folds them again.
  auto dropped = s.engine.verify().value();
  CHECK_FALSE(dropped.ok());
  auto rebuilt = s.engine.rebuild().value();
  CHECK(rebuilt.complete);
  CHECK(s.engine.verify().value().ok());
  CHECK(s.engine.tenants("Project").value() == std::vector<std::string>{"acme", "globex"});
  CHECK(s.engine.get("Project", s.acme.id(), in("acme")).value()["code"] == Value("A1"));
  CHECK(s.engine.get_by("Project", "unique_name", {{"name", "Apollo"}}, in("acme")).value().id() == s.acme.id());
}

TEST_CASE("context: rebuild and verify with several tenants, and the store reopened") {
  TempDir dir;
  std::vector<Value> ids;
  {
    auto engine = Engine::open(dir.path(), saas(), quiet()).value();
    for (int t = 0; t < 5; ++t)
      for (int i = 0; i < 3; ++i)
        ids.push_back(engine.create("Project", {{"name", fmt::format("p{}", i)}}, as(fmt::format("t{}", t))).value().id());
    engine.destroy("Project", ids[0], as("t0")).value();
    CHECK(engine.verify().value().ok());
    CHECK(engine.rebuild().value().complete);
    CHECK(engine.verify().value().ok());
  }
  auto engine = Engine::open(dir.path(), saas(), quiet()).value();
  CHECK(engine.tenants("Project").value() ==
        std::vector<std::string>{"t0", "t1", "t2", "t3", "t4"});
  CHECK(engine.read("Project", in("t0")).value().size() == 2);
  CHECK(engine.read("Project", in("t4")).value().size() == 3);
  CHECK(engine.get("Project", ids[4], in("t1")).value().id() == ids[4]);
  CHECK(engine.get("Project", ids[4], in("t2")).error().cls == ErrorClass::not_found);
  // A tenant whose tables the store already holds takes its next records there.
  engine.create("Project", {{"name", "p9"}}, as("t3")).value();
  CHECK(engine.read("Project", in("t3")).value().size() == 4);
  CHECK(engine.verify().value().ok());
}

TEST_CASE("context: a read-only store reader scopes as the engine does") {
  Store s;
  auto reader = StoreReader::open(s.dir.path()).value();
  CHECK(names(reader.read("Project", in("acme")).value(), "code") == std::set<std::string>{"A1"});
  CHECK(reader.read("Project").error().code == "tenant_required");
  CHECK(reader.get("Project", s.globex.id(), in("acme")).error().cls == ErrorClass::not_found);
}

TEST_CASE("context: a new tenant past the store's databases is refused, naming it") {
  TempDir dir;
  // Few databases to spare: each Project tenant takes two (records, unique_name).
  auto engine = Engine::open(dir.path(), saas(), quiet(0)).value();
  std::optional<Error> refused;
  std::string last;
  for (int t = 0; t < 64 && !refused; ++t) {
    last = fmt::format("t{}", t);
    auto made = engine.create("Project", {{"name", "x"}}, as(last));
    if (!made) refused = made.error();
  }
  REQUIRE(refused);
  CHECK(refused->code == "store_full");
  CHECK(refused->message == fmt::format("tenant {} of Project needs databases of its own, and the store may open no "
                                        "more (raise Options::tenant_databases); nothing was written",
                                        last));
  CHECK(engine.read("Project", in(last)).value().empty());
  // The tenants that have their databases go on.
  CHECK(engine.create("Project", {{"name", "y"}}, as("t0")));
  CHECK(engine.read("Project", in("t0")).value().size() == 2);
  CHECK(engine.verify().value().ok());
}

TEST_CASE("context: an identity added by a model change holds each tenant's stored records at open") {
  TempDir dir;
  auto notes = [](bool unique_title) {
    auto note = resource("Note").uuid_primary_key("id").attribute("title", type::string).multitenancy(kContext);
    if (unique_title) note.identity("unique_title", {"title"});
    return domain("notes").resource(note.defaults({"read", "destroy", "create:*", "update:*"})).build().value();
  };
  {
    auto engine = Engine::open(dir.path(), notes(false), quiet()).value();
    REQUIRE(engine.create("Note", {{"title", "plan"}}, as("acme")));
    REQUIRE(engine.create("Note", {{"title", "plan"}}, as("beta")));
  }
  auto engine = Engine::open(dir.path(), notes(true), quiet()).value();
  std::uint64_t before = log_length(engine.log());
  auto taken = engine.create("Note", {{"title", "plan"}}, as("acme"));
  REQUIRE_FALSE(taken);
  CHECK(taken.error().code == "identity_taken");
  CHECK(log_length(engine.log()) == before);
  CHECK(engine.get_by("Note", "unique_title", {{"title", "plan"}}, in("beta")).value()["title"] == Value("plan"));
  CHECK(engine.create("Note", {{"title", "plan"}}, as("gamma")));  // unique per tenant
  CHECK(engine.verify().value().ok());
}
