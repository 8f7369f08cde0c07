// Policies, after Ash's policy authorizer: checks deciding both ways, the order they
// decide in, bypasses, reads that leave out what the actor may not see (in gets, loads,
// aggregates and relationship paths too), and writes refused with nothing appended.
#include "support/engine_helpers.hpp"
#include "support/temp_dir.hpp"

#include <ashlar/ashlar.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <set>

using namespace ashlar;
using namespace ashlar::dsl;
using ashlar::test::log_length;
using ashlar::test::TempDir;

namespace {

const Uuid kAlice = Uuid::v4();
const Uuid kBob = Uuid::v4();
const Uuid kCarol = Uuid::v4();

Value user(const Uuid& id, const char* role = "member") {
  return Value(Map{{"id", Value(id)}, {"role", Value(Atom{role})}});
}

// ---- One resource, one policy: how each check decides ----------------------------------

Domain doc_domain(PolicyCondition condition, std::vector<PolicyStep> steps) {
  return domain("docs")
      .resource(resource("Doc")
                    .uuid_primary_key("id")
                    .attribute("title", type::string)
                    .attribute("owner_id", type::uuid)
                    .attribute("score", type::integer)
                    .defaults({"read", "destroy", "create:*", "update:*"})
                    .create("import", {.accept = {"title"}})
                    .policy(std::move(condition), std::move(steps)))
      .build()
      .value();
}

// The create's result under one policy that applies to every request.
Result<Record> create_under(std::vector<PolicyStep> steps, const Value& actor, Fields inputs = {{"title", "a"}},
                            std::string action = {}) {
  TempDir dir;
  auto engine = Engine::open(dir.path(), doc_domain(always(), std::move(steps)), {.durability = Durability::no_sync}).value();
  auto created = engine.create("Doc", inputs, {.action = std::move(action), .actor = actor});
  if (!created) CHECK(log_length(engine.log()) == 0);
  return created;
}

bool allowed(std::vector<PolicyStep> steps, const Value& actor, Fields inputs = {{"title", "a"}}, std::string action = {}) {
  auto r = create_under(std::move(steps), actor, std::move(inputs), std::move(action));
  if (!r) {
    CHECK(r.error().cls == ErrorClass::forbidden);
    CHECK(r.error().code == "forbidden");
  }
  return r.has_value();
}

}  // namespace

TEST_CASE("policies: every built-in check decides both ways") {
  Value alice = user(kAlice);
  CHECK(allowed({authorize_if(always())}, Value()));
  CHECK_FALSE(allowed({authorize_if(never())}, alice));

  CHECK(allowed({authorize_if(actor_present())}, alice));
  CHECK_FALSE(allowed({authorize_if(actor_present())}, Value()));

  CHECK(allowed({authorize_if(actor_attribute_equals("role", Atom{"admin"}))}, user(kAlice, "admin")));
  CHECK_FALSE(allowed({authorize_if(actor_attribute_equals("role", Atom{"admin"}))}, alice));
  CHECK_FALSE(allowed({authorize_if(actor_attribute_equals("role", Atom{"admin"}))}, Value()));
  // A nested key, and a value of another kind that does not compare: not equal.
  Value nested(Map{{"org", Value(Map{{"plan", Value("pro")}})}});
  CHECK(allowed({authorize_if(actor_attribute_equals("org.plan", "pro"))}, nested));
  CHECK_FALSE(allowed({authorize_if(actor_attribute_equals("org.plan", 3))}, nested));

  CHECK(allowed({authorize_if(action_type(ActionType::create))}, Value()));
  CHECK_FALSE(allowed({authorize_if(action_type(ActionType::update))}, Value()));

  CHECK(allowed({authorize_if(action("import"))}, Value(), {{"title", "a"}}, "import"));
  CHECK_FALSE(allowed({authorize_if(action("import"))}, Value()));

  CHECK(allowed({authorize_if(changing_attributes({"score"}))}, Value(), {{"score", 3}}));
  CHECK_FALSE(allowed({authorize_if(changing_attributes({"score"}))}, Value(), {{"title", "a"}}));

  // A filter check on a create holds for the record as it would be.
  Fields mine{{"title", "a"}, {"owner_id", Value(kAlice)}};
  CHECK(allowed({authorize_if(expr(ref("owner_id") == actor("id")))}, alice, mine));
  CHECK_FALSE(allowed({authorize_if(expr(ref("owner_id") == actor("id")))}, user(kBob), mine));
  CHECK_FALSE(allowed({authorize_if(expr(ref("owner_id") == actor("id")))}, Value(), mine));

  auto is_alice = [](const PolicyRequest& q) -> Result<bool> {
    const Map* m = q.actor.as_map();
    const Value* id = m ? find_field(*m, "id") : nullptr;
    return id && *id == Value(kAlice);
  };
  CHECK(allowed({authorize_if(custom("is_alice", is_alice))}, alice));
  CHECK_FALSE(allowed({authorize_if(custom("is_alice", is_alice))}, user(kBob)));

  auto titled = [](const PolicyRequest&) -> Result<Expr> { return ref("title") == "ok"; };
  CHECK(allowed({authorize_if(custom_filter("titled_ok", titled))}, Value(), {{"title", "ok"}}));
  CHECK_FALSE(allowed({authorize_if(custom_filter("titled_ok", titled))}, Value(), {{"title", "no"}}));
}

TEST_CASE("policies: a custom check that fails or throws fails the request with its error") {
  auto failing = create_under({authorize_if(custom("flaky", [](const PolicyRequest&) -> Result<bool> {
                                return fail(Error::unknown("directory unavailable"));
                              }))},
                              Value());
  REQUIRE_FALSE(failing);
  CHECK(failing.error().describe() == "unknown: Doc.create: directory unavailable");
  auto throwing = create_under({authorize_if(custom_filter("boom", [](const PolicyRequest&) -> Result<Expr> {
                                 throw std::runtime_error("boom");
                               }))},
                               Value());
  REQUIRE_FALSE(throwing);
  CHECK(throwing.error().code == codes::kUserCode);
  CHECK(throwing.error().describe() == "unknown: Doc.create: policy check boom threw: boom");
}

TEST_CASE("policies: the first check that decides wins, and each outcome decides its way") {
  CHECK_FALSE(allowed({forbid_if(always()), authorize_if(always())}, Value()));
  CHECK(allowed({forbid_if(never()), authorize_if(always())}, Value()));
  CHECK(allowed({authorize_unless(never())}, Value()));
  CHECK_FALSE(allowed({authorize_unless(always())}, Value()));
  CHECK_FALSE(allowed({forbid_unless(actor_present()), authorize_if(always())}, Value()));
  CHECK(allowed({forbid_unless(actor_present()), authorize_if(always())}, user(kAlice)));
  // Nothing decided: the policy forbids.
  CHECK_FALSE(allowed({authorize_if(never()), forbid_if(never())}, Value()));
  CHECK_FALSE(allowed({}, Value()));
}

TEST_CASE("policies: the Forbidden error names the policy and the check that decided") {
  auto r = create_under({forbid_unless(actor_present()), authorize_if(always())}, Value());
  REQUIRE_FALSE(r);
  CHECK(r.error().describe() == "forbidden: Doc.create: policy 1 forbids it: forbid_unless actor_present() does not hold");
  CHECK(r.error().code == codes::kForbidden);

  r = create_under({forbid_if(changing_attributes({"score", "title"}))}, Value());
  REQUIRE_FALSE(r);
  CHECK(r.error().message == "policy 1 forbids it: forbid_if changing_attributes([:score, :title]) holds");

  r = create_under({authorize_if(expr(ref("owner_id") == actor("id")))}, user(kBob), {{"owner_id", Value(kAlice)}});
  REQUIRE_FALSE(r);
  // What decided, never the record's values.
  CHECK(r.error().message == "policy 1 forbids it: none of its checks decided (authorize_if expr(owner_id == ^actor(:id)) does not hold)");
  CHECK(r.error().describe().find(Value(kAlice).str()) == std::string::npos);
}

TEST_CASE("policies: every policy that applies must authorize, none applying forbids") {
  TempDir dir;
  auto d = domain("d")
               .resource(resource("Doc")
                             .uuid_primary_key("id")
                             .attribute("title", type::string)
                             .defaults({"read", "destroy", "create:*", "update:*"})
                             .policy(action_type(ActionType::create), {authorize_if(actor_present())}, "signed in")
                             .policy({action_type(ActionType::create), actor_attribute_equals("role", Atom{"guest"})},
                                     {forbid_if(always())}, "no guests")
                             .policy(action_type(ActionType::read), {authorize_if(actor_attribute_equals("role", Atom{"reader"}))},
                                     "readers"))
               .build()
               .value();
  auto engine = Engine::open(dir.path(), d, {.durability = Durability::no_sync}).value();
  CHECK(engine.create("Doc", {{"title", "a"}}, {.actor = user(kAlice)}));
  auto guest = engine.create("Doc", {{"title", "a"}}, {.actor = user(kBob, "guest")});
  REQUIRE_FALSE(guest);
  CHECK(guest.error().message == "policy 2 \"no guests\" forbids it: forbid_if always() holds");
  auto id = engine.read("Doc", {.authorize = false}).value().at(0).id();
  // No policy is about updates.
  auto update = engine.update("Doc", id, {{"title", "b"}}, {.actor = user(kAlice, "reader")});
  REQUIRE_FALSE(update);
  CHECK(update.error().describe() == "forbidden: Doc.update: no policy applies to Doc.update");
  // Only readers read: for others a read returns nothing, a get or an update by id finds nothing.
  CHECK(engine.read("Doc", {.actor = user(kAlice)}).value().empty());
  CHECK(engine.get("Doc", id, {.actor = user(kAlice)}).error().cls == ErrorClass::not_found);
  CHECK(engine.update("Doc", id, {{"title", "b"}}, {.actor = user(kAlice)}).error().cls == ErrorClass::not_found);
  // authorize = false: the policies are not asked.
  CHECK(engine.update("Doc", id, {{"title", "b"}}, {.actor = user(kAlice), .authorize = false}));
  CHECK(engine.read("Doc", {.authorize = false}).value().size() == 1);
  CHECK(engine.get("Doc", id, {.authorize = false}));
}

TEST_CASE("policies: a bypass that authorizes answers for the policies after it, not those before") {
  TempDir dir;
  auto d = domain("d")
               .resource(resource("Doc")
                             .uuid_primary_key("id")
                             .attribute("title", type::string)
                             .defaults({"read", "destroy", "create:*", "update:*"})
                             .policy(always(), {forbid_if(actor_attribute_equals("role", Atom{"banned"})),
                                                authorize_if(always())}, "not banned")
                             .bypass(actor_attribute_equals("role", Atom{"admin"}), {authorize_if(always())}, "admins")
                             .policy(always(), {authorize_if(never())}, "nobody"))
               .build()
               .value();
  auto engine = Engine::open(dir.path(), d, {.durability = Durability::no_sync}).value();
  CHECK(engine.create("Doc", {{"title", "a"}}, {.actor = user(kAlice, "admin")}));
  auto member = engine.create("Doc", {{"title", "a"}}, {.actor = user(kAlice)});
  REQUIRE_FALSE(member);
  CHECK(member.error().message == "policy 3 \"nobody\" forbids it: none of its checks decided (authorize_if never() does not hold)");
  CHECK(engine.read("Doc", {.actor = user(kAlice, "admin")}).value().size() == 1);
  CHECK(engine.read("Doc", {.actor = user(kAlice)}).value().empty());

  // A bypass alone that does not authorize forbids.
  TempDir dir2;
  auto only = domain("d")
                  .resource(resource("Doc")
                                .uuid_primary_key("id")
                                .attribute("title", type::string)
                                .defaults({"read", "create:*"})
                                .bypass(actor_present(), {authorize_if(actor_attribute_equals("role", Atom{"admin"}))}))
                  .build()
                  .value();
  auto e2 = Engine::open(dir2.path(), only, {.durability = Durability::no_sync}).value();
  auto refused = e2.create("Doc", {{"title", "a"}}, {.actor = user(kAlice)});
  REQUIRE_FALSE(refused);
  CHECK(refused.error().message == "no policy applies to Doc.create, and bypass 1 did not authorize");
  CHECK(e2.create("Doc", {{"title", "a"}}, {.actor = user(kAlice, "admin")}));
  CHECK(e2.create("Doc", {{"title", "a"}}).error().message == "no policy applies to Doc.create");
}

// ---- Projects, their members and tasks ----------------------------------------------------

namespace {

Domain projects_domain() {
  Check owner = expr(ref("owner_id") == actor("id"));
  Check member = expr(exists("memberships", ref("user_id") == actor("id")));
  return domain("work")
      .resource(resource("Project")
                    .uuid_primary_key("id")
                    .attribute("name", type::string)
                    .attribute("owner_id", type::uuid)
                    .has_many("memberships", "Membership")
                    .has_many("tasks", "Task")
                    .aggregate("task_count", AggregateKind::count, "tasks")
                    .defaults({"read", "destroy", "create:*", "update:*"})
                    .update("adopt", {.accept = AcceptList::none(),
                                      .arguments = {argument("tasks", type::array(type::uuid))},
                                      .steps = {changes::manage_relationship("tasks", {.type = manage::Type::append})}})
                    .action("rename_all", {.returns = type::integer,
                                           .arguments = {argument("name", type::string)},
                                           .transaction = true,
                                           .run = [](ActionInput& input) -> Result<Value> {
                                             auto all = input.engine().read("Project", {.authorize = false}).value();
                                             std::int64_t n = 0;
                                             for (const auto& p : all) {
                                               ASHLAR_TRY(done, input.engine().update("Project", p.id(),
                                                   {{"name", input.argument("name")}}, input.to_opts()));
                                               (void)done;
                                               ++n;
                                             }
                                             return Value(n);
                                           }})
                    .bypass(actor_attribute_equals("role", Atom{"admin"}), {authorize_if(always())}, "admins")
                    .policy(action_type(ActionType::read), {authorize_if(owner), authorize_if(member)}, "owners and members read")
                    .policy(action_type(ActionType::create), {authorize_if(owner)})
                    .policy(action_type(ActionType::update),
                            {forbid_if(changing_attributes({"owner_id"})), authorize_if(owner)}, "owners edit")
                    .policy(action_type(ActionType::destroy), {authorize_if(owner)}, "owners destroy")
                    .policy(action("rename_all"), {authorize_if(actor_present())}))
      .resource(resource("Membership")
                    .uuid_primary_key("id")
                    .attribute("user_id", type::uuid)
                    .belongs_to("project", "Project")
                    .defaults({"read", "destroy", "create:*", "update:*"}))
      .resource(resource("Task")
                    .uuid_primary_key("id")
                    .attribute("title", type::string)
                    .attribute("secret", type::boolean, {.default_value = false})
                    .belongs_to("project", "Project")
                    .defaults({"read", "destroy", "create:*", "update:*"})
                    .policy(action_type(ActionType::read),
                            {authorize_if(expr(ref("secret") == false)),
                             authorize_if(expr(ref("project.owner_id") == actor("id")))})
                    .policy(action_type(ActionType::update), {authorize_if(actor_present())}))
      .build()
      .value();
}

struct Work {
  TempDir dir;
  std::vector<std::uint64_t> published;
  Engine engine = Engine::open(dir.path(), projects_domain(), ashlar::test::recording_options(published)).value();
  Value alpha, beta;  // alpha: alice's, bob a member; beta: carol's

  Work() {
    CallOptions system{.authorize = false};
    alpha = engine.create("Project", {{"name", "alpha"}, {"owner_id", Value(kAlice)}}, system).value().id();
    beta = engine.create("Project", {{"name", "beta"}, {"owner_id", Value(kCarol)}}, system).value().id();
    engine.create("Membership", {{"project_id", alpha}, {"user_id", Value(kBob)}}).value();
    engine.create("Task", {{"title", "open"}, {"project_id", alpha}}, system).value();
    engine.create("Task", {{"title", "hidden"}, {"secret", true}, {"project_id", alpha}}, system).value();
  }

  std::set<std::string> names(const Value& actor, Query q = {}) {
    q.actor = actor;
    std::set<std::string> out;
    for (const auto& r : engine.read("Project", q).value()) out.insert(*r["name"].as_string());
    return out;
  }
};

}  // namespace

TEST_CASE("policies: a read leaves out the records the actor may not read, a get of one is NotFound") {
  Work w;
  using Names = std::set<std::string>;
  CHECK(w.names(user(kAlice)) == Names{"alpha"});
  CHECK(w.names(user(kBob)) == Names{"alpha"});  // through exists(memberships, ...)
  CHECK(w.names(user(kCarol)) == Names{"beta"});
  CHECK(w.names(Value()).empty());
  CHECK(w.names(user(kBob, "admin")) == Names{"alpha", "beta"});
  CHECK(w.names(Value(), {.authorize = false}) == Names{"alpha", "beta"});
  // The query's own filter and the policy's both apply.
  CHECK(w.names(user(kAlice, "admin"), {.filter = ref("name") == "beta"}) == Names{"beta"});
  CHECK(w.names(user(kAlice), {.filter = ref("name") == "beta"}).empty());
  // The policy's filter comes first: the caller's filter never runs on a hidden record,
  // so its errors (which quote values) cannot speak of one. This filter fails on beta.
  Expr probe = dsl::if_(ref("name") == "beta", Expr(1) / (string_length(ref("name")) - 4) > 0, Expr(false));
  CHECK(w.names(user(kAlice), {.filter = probe}).empty());
  CHECK_FALSE(w.engine.read("Project", {.filter = probe, .actor = user(kAlice, "admin")}));

  CHECK(w.engine.get("Project", w.alpha, {.actor = user(kBob)}));
  auto hidden = w.engine.get("Project", w.beta, {.actor = user(kBob)});
  REQUIRE_FALSE(hidden);
  CHECK(hidden.error().cls == ErrorClass::not_found);
  CHECK(w.engine.get("Project", w.beta, {.actor = user(kBob), .authorize = false}));
}

TEST_CASE("policies: a hidden record's key and history are not told by get_by or a get as of the past") {
  TempDir dir;
  auto d = domain("d")
               .resource(resource("Doc")
                             .uuid_primary_key("id")
                             .attribute("title", type::string)
                             .attribute("owner_id", type::uuid)
                             .identity("unique_title", {"title"})
                             .defaults({"read", "destroy", "create:*", "update:*"})
                             .policy(action_type(ActionType::read), {authorize_if(expr(ref("owner_id") == actor("id")))}))
               .build()
               .value();
  auto engine = Engine::open(dir.path(), d, {.durability = Durability::no_sync}).value();
  Value id = engine.create("Doc", {{"title", "secret"}, {"owner_id", Value(kAlice)}}, {.authorize = false}).value().id();

  // By identity: the same error as a title nobody holds, never the hidden record's key.
  auto nobody = engine.get_by("Doc", "unique_title", {{"title", "nobody"}}, {.actor = user(kBob)});
  auto hidden = engine.get_by("Doc", "unique_title", {{"title", "secret"}}, {.actor = user(kBob)});
  REQUIRE_FALSE(nobody);
  REQUIRE_FALSE(hidden);
  CHECK(hidden.error().cls == ErrorClass::not_found);
  std::string expected = nobody.error().message;
  expected.replace(expected.find("nobody"), 6, "secret");
  CHECK(hidden.error().message == expected);
  CHECK(engine.get_by("Doc", "unique_title", {{"title", "secret"}}, {.actor = user(kAlice)}));

  // As of the past: not where the hidden record stood then.
  auto then = engine.get("Doc", id, {.actor = user(kBob), .as_of = AsOf{.position = 1}});
  REQUIRE_FALSE(then);
  CHECK(then.error().message == "no Doc with primary key " + id.str());
  auto unauthorized = engine.get("Doc", id, {.as_of = AsOf{.position = 1}, .authorize = false});
  CHECK(unauthorized);
}

TEST_CASE("policies: loads, aggregates and relationship paths count only what the actor may read") {
  Work w;
  // Bob (a member, not the owner) sees the open task only; Alice (the owner) both.
  auto bobs = w.engine.get("Project", w.alpha, {.load = {"tasks", "task_count"}, .actor = user(kBob)}).value();
  REQUIRE(bobs.related("tasks").size() == 1);
  CHECK(bobs.related("tasks")[0]["title"] == Value("open"));
  CHECK(bobs.get("task_count") == Value(1));
  auto alices = w.engine.get("Project", w.alpha, {.load = {"tasks", "task_count"}, .actor = user(kAlice)}).value();
  CHECK(alices.related("tasks").size() == 2);
  CHECK(alices.get("task_count") == Value(2));

  // In filters: an aggregate and an exists over what the actor may not read.
  CHECK(w.names(user(kBob), {.filter = exists("tasks", ref("title") == "hidden")}).empty());
  CHECK(w.names(user(kAlice), {.filter = exists("tasks", ref("title") == "hidden")}) == std::set<std::string>{"alpha"});
  CHECK(w.names(user(kBob), {.filter = dsl::count("tasks") == 1}) == std::set<std::string>{"alpha"});

  // A relationship path through a record the actor may not read is nil: Carol reads the
  // open task, but not its project.
  CHECK(w.engine.read("Task", {.actor = user(kCarol)}).value().size() == 1);
  CHECK(w.engine.read("Task", {.filter = ref("project.name") == "alpha", .actor = user(kCarol)}).value().empty());
  CHECK(w.engine.read("Task", {.filter = ref("project.name") == "alpha", .actor = user(kBob)}).value().size() == 1);

  // Engine::load, with the actor given.
  auto plain = w.engine.get("Project", w.alpha, {.authorize = false}).value();
  auto loaded = w.engine.load({plain}, {"tasks"}, user(kBob)).value();
  CHECK(loaded.at(0).related("tasks").size() == 1);
}

TEST_CASE("policies: a refused create, update or destroy is Forbidden and appends nothing") {
  Work w;
  std::uint64_t head = log_length(w.engine.log());
  std::size_t told = w.published.size();

  auto create = w.engine.create("Project", {{"name", "gamma"}, {"owner_id", Value(kAlice)}}, {.actor = user(kBob)});
  REQUIRE_FALSE(create);
  CHECK(create.error().describe() == "forbidden: Project.create: policy 3 forbids it: none of its checks decided (authorize_if "
        "expr(owner_id == ^actor(:id)) does not hold)");

  // Bob, a member of alpha, reads it but may not edit or destroy it.
  auto update = w.engine.update("Project", w.alpha, {{"name", "mine"}}, {.actor = user(kBob)});
  REQUIRE_FALSE(update);
  CHECK(update.error().describe() ==
        "forbidden: Project.update: policy 4 \"owners edit\" forbids it: none of its checks decided (forbid_if "
        "changing_attributes([:owner_id]) does not hold; authorize_if expr(owner_id == ^actor(:id)) does not hold)");
  CHECK(update.error().code == "forbidden");

  auto takeover = w.engine.update("Project", w.alpha, {{"owner_id", Value(kBob)}}, {.actor = user(kAlice)});
  REQUIRE_FALSE(takeover);
  CHECK(takeover.error().message == "policy 4 \"owners edit\" forbids it: forbid_if changing_attributes([:owner_id]) holds");

  auto destroy = w.engine.destroy("Project", w.alpha, {.actor = user(kBob)});
  REQUIRE_FALSE(destroy);
  CHECK(destroy.error().message ==
        "policy 5 \"owners destroy\" forbids it: none of its checks decided (authorize_if expr(owner_id == ^actor(:id)) "
        "does not hold)");

  // Alice may not read Carol's beta: by id it is not there for her, as an id nobody
  // holds is not, in every way of reaching it, before any change or hook runs.
  std::string missing = "no Project with primary key " + w.beta.str();
  for (auto hidden : {w.engine.update("Project", w.beta, {{"name", "mine"}}, {.actor = user(kAlice)}),
                      w.engine.destroy("Project", w.beta, {.actor = user(kAlice)}),
                      w.engine.update("Project", w.beta, {{"name", "mine"}},
                                      {.actor = user(kAlice), .expected_version = 7})}) {
    REQUIRE_FALSE(hidden);
    CHECK(hidden.error().code == "not_found");
    CHECK(hidden.error().message == missing);
  }
  auto for_update = w.engine.for_update("Project", w.beta, {}, {.actor = user(kAlice)});
  REQUIRE_FALSE(for_update);
  CHECK(for_update.error().message == missing);
  CHECK(w.engine.for_destroy("Project", w.beta, {.actor = user(kAlice)}).error().message == missing);

  CHECK(log_length(w.engine.log()) == head);
  CHECK(w.published.size() == told);
  auto beta = w.engine.get("Project", w.beta, {.authorize = false}).value();
  CHECK(beta["name"] == Value("beta"));
  CHECK(beta.version() == 1);

  // The owner may; the same calls then append.
  CHECK(w.engine.update("Project", w.alpha, {{"name", "alpha2"}}, {.actor = user(kAlice)}));
  CHECK(w.engine.destroy("Project", w.beta, {.actor = user(kCarol)}));
  CHECK(log_length(w.engine.log()) == head + 2);
}

TEST_CASE("policies: generic actions, and the actions they call with the same actor") {
  Work w;
  std::uint64_t head = log_length(w.engine.log());
  auto anonymous = w.engine.run_action("Project", "rename_all", {{"name", "x"}});
  REQUIRE_FALSE(anonymous);
  CHECK(anonymous.error().describe() == "forbidden: Project.rename_all: policy 6 forbids it: none of its checks decided "
        "(authorize_if actor_present() does not hold)");
  // Alice may run it, but the nested update of Carol's project is refused: the whole
  // transaction rolls back.
  auto alice = w.engine.run_action("Project", "rename_all", {{"name", "x"}}, {.actor = user(kAlice)});
  REQUIRE_FALSE(alice);
  CHECK(alice.error().cls == ErrorClass::not_found);  // by id, Carol's is not there for her
  CHECK(alice.error().resource == "Project");
  CHECK(alice.error().action == "update");
  CHECK(log_length(w.engine.log()) == head);
  // An admin renames both.
  CHECK(w.engine.run_action("Project", "rename_all", {{"name", "x"}}, {.actor = user(kAlice, "admin")}).value() == Value(2));
  CHECK(log_length(w.engine.log()) == head + 2);
}

TEST_CASE("policies: bulk actions decide each record on its own") {
  Work w;
  std::uint64_t head = log_length(w.engine.log());
  auto updated = w.engine.bulk_update("Project", std::vector<Value>{w.alpha, w.beta}, {{"name", "renamed"}},
                                      {.actor = user(kAlice)}).value();
  CHECK(updated.status == BulkStatus::partial_success);
  REQUIRE(updated.errors.size() == 1);
  CHECK(updated.errors[0].index == 1);
  CHECK(updated.errors[0].error.code == "not_found");  // by id: Carol's is not there for Alice
  CHECK(log_length(w.engine.log()) == head + 1);
  // Records given are trusted to exist: the one she may not change is Forbidden.
  auto records = w.engine.read("Project", {.sort = {SortKey::asc("name")}, .authorize = false}).value();
  auto given = w.engine.bulk_update("Project", records, {{"name", "renamed"}}, {.actor = user(kAlice)}).value();
  REQUIRE(given.errors.size() == 1);
  CHECK(given.errors[0].error.code == "forbidden");
  CHECK(log_length(w.engine.log()) == head + 2);

  // By query: the query reads what the actor may read, so Carol's project is not even tried.
  auto destroyed = w.engine.bulk_destroy("Project", Query{}, {.actor = user(kBob)}).value();
  CHECK(destroyed.status == BulkStatus::error);  // bob reads alpha but may not destroy it
  REQUIRE(destroyed.errors.size() == 1);
  CHECK(destroyed.errors[0].error.message ==
        "policy 5 \"owners destroy\" forbids it: none of its checks decided (authorize_if expr(owner_id == ^actor(:id)) "
        "does not hold)");
  CHECK(log_length(w.engine.log()) == head + 2);

  auto created = w.engine.bulk_create("Project", {{{"name", "g"}, {"owner_id", Value(kBob)}}, {{"name", "h"}, {"owner_id", Value(kAlice)}}},
                                      {.actor = user(kBob)}).value();
  CHECK(created.status == BulkStatus::partial_success);
  REQUIRE(created.errors.size() == 1);
  CHECK(created.errors[0].index == 1);
  // authorize = false: every record.
  auto all = w.engine.bulk_update("Project", Query{}, {{"name", "z"}}, {.authorize = false}).value();
  CHECK(all.status == BulkStatus::success);
}

TEST_CASE("policies: mistakes in policies are reported when the domain is built") {
  auto built = domain("d")
                   .resource(resource("Doc")
                                 .uuid_primary_key("id")
                                 .attribute("title", type::string)
                                 .has_many("notes", "Note")
                                 .defaults({"read", "create:*"})
                                 .policy(expr(ref("title") == "a"), {authorize_if(always())})
                                 .policy(action("publish"), {authorize_if(changing_attributes({"colour"}))}, "named")
                                 .policy(always(), {authorize_if(expr(ref("colour") == actor("id"))),
                                                    forbid_if(expr(exists("comments", ref("x") == 1)))})
                                 .policy(always(), {authorize_if(expr(parent(ref("title")) == "a")),
                                                    authorize_if(expr(parent(count("notes")) > 1))}))
                   .resource(resource("Note").uuid_primary_key("id").belongs_to("doc", "Doc").defaults({"read"}))
                   .build();
  REQUIRE_FALSE(built);
  CHECK(built.error().cls == ErrorClass::framework);
  std::vector<FieldError> expected{
      {"Doc.policy 1", "invalid_policy",
       "expr(title == \"a\") is a filter check; a condition must be decided without the record"},
      {"Doc.policy 2 \"named\"", "unknown_action", "action(:publish): Doc has no action publish"},
      {"Doc.policy 2 \"named\"", "unknown_attribute", "changing_attributes([:colour]): Doc has no attribute colour"},
      {"Doc.policy 3", "unknown_attribute", "expr(colour == ^actor(:id)): Doc has no attribute colour"},
      {"Doc.policy 3", "unknown_attribute", "expr(exists(comments, x == 1)): Doc has no relationship comments"},
      {"Doc.policy 4", "invalid_policy", "expr(parent(title) == \"a\"): parent(...) has no parent record in a policy"},
      {"Doc.policy 4", "invalid_policy", "expr(parent(count(notes)) > 1): parent(...) has no parent record in a policy"},
  };
  REQUIRE(built.error().fields.size() == 7);
  for (std::size_t i = 0; i < expected.size(); ++i) {
    INFO(built.error().fields[i].field << " | " << built.error().fields[i].code << " | " << built.error().fields[i].message);
    CHECK(built.error().fields[i] == expected[i]);
  }
}

TEST_CASE("policies: manage_relationship looks records up as the actor reads them") {
  Work w;
  CallOptions system{.authorize = false};
  Value secret = w.engine.create("Task", {{"title", "carol's"}, {"secret", true}, {"project_id", w.beta}}, system).value().id();
  Value open = w.engine.create("Task", {{"title", "carol's open"}, {"project_id", w.beta}}, system).value().id();
  std::uint64_t head = log_length(w.engine.log());

  // Alice may not read Carol's secret task: to her it does not exist.
  auto hidden = w.engine.update("Project", w.alpha, {{"tasks", Value(Array{secret})}}, {.action = "adopt", .actor = user(kAlice)});
  REQUIRE_FALSE(hidden);
  CHECK(hidden.error().describe() == "invalid: Project.adopt: invalid input: tasks[0]: no Task with id " + secret.str());
  CHECK(hidden.error().describe().find("carol") == std::string::npos);
  CHECK(log_length(w.engine.log()) == head);
  CHECK(w.engine.get("Task", secret, {.authorize = false}).value()["project_id"] == w.beta);

  auto adopted = w.engine.update("Project", w.alpha, {{"tasks", Value(Array{open})}}, {.action = "adopt", .actor = user(kAlice)});
  REQUIRE(adopted);
  CHECK(w.engine.get("Task", open, {.authorize = false}).value()["project_id"] == w.alpha);
  CHECK(w.engine.update("Project", w.alpha, {{"tasks", Value(Array{secret})}},
                        {.action = "adopt", .actor = user(kAlice), .authorize = false}));
  CHECK(w.engine.get("Task", secret, {.authorize = false}).value()["project_id"] == w.alpha);
}
