// Policies decide before anything is told or run: idempotent retries, the order of a
// write's checks and hooks, the Forbidden breakdown, history, code interfaces and
// many_to_many joins, each under an actor that may not do or see what it asks.
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

const Uuid kAlice = Uuid::v4();
const Uuid kBob = Uuid::v4();

Value user(const Uuid& id) { return Value(Map{{"id", Value(id)}}); }

// Everyone reads an open note; its owner also reads a closed one. Anyone with an actor
// creates; only the owner edits or destroys, and nobody edits a locked note.
Domain notes_domain() {
  Check owner = expr(ref("owner_id") == actor("id"));
  return domain("notes")
      .resource(resource("Note")
                    .uuid_primary_key("id")
                    .attribute("title", type::string)
                    .attribute("owner_id", type::uuid)
                    .attribute("closed", type::boolean, {.default_value = false})
                    .attribute("locked", type::boolean, {.default_value = false})
                    .identity("unique_title", {"title"})
                    .defaults({"read", "destroy", "create:*", "update:*"})
                    .define("titled", {.action = "read", .get_by = {"title"}})
                    .define("rename", {.action = "update", .args = {"title"}})
                    .policy(action_type(ActionType::read), {authorize_if(expr(ref("closed") == false)), authorize_if(owner)})
                    .policy(action_type(ActionType::create), {authorize_if(actor_present())})
                    .policy(action_type(ActionType::update), {forbid_if(expr(ref("locked") == true)), authorize_if(owner)},
                            "owners edit")
                    .policy(action_type(ActionType::destroy), {authorize_if(owner)}, "owners destroy"))
      .build()
      .value();
}

struct Notes {
  TempDir dir;
  Engine engine = Engine::open(dir.path(), notes_domain(), {.durability = Durability::no_sync}).value();

  Record note(const char* title, const Uuid& owner, Fields more = {}) {
    Fields inputs{{"title", title}, {"owner_id", Value(owner)}};
    inputs.insert(inputs.end(), more.begin(), more.end());
    return engine.create("Note", inputs, {.authorize = false}).value();
  }
};

}  // namespace

TEST_CASE("policy gaps: an idempotent retry by another actor is a Conflict that tells nothing of the first call") {
  Notes n;
  Fields inputs{{"title", "plan"}, {"owner_id", Value(kAlice)}, {"closed", true}};
  auto first = n.engine.create("Note", inputs, {.actor = user(kAlice), .idempotency_key = "k1"}).value();
  std::uint64_t head = log_length(n.engine.log());

  for (const Value& other : {user(kBob), Value()}) {
    auto retry = n.engine.create("Note", inputs, {.actor = other, .idempotency_key = "k1"});
    REQUIRE_FALSE(retry);
    CHECK(retry.error().code == "conflict");
    CHECK(retry.error().describe() == "conflict: Note.create: idempotency key \"k1\" was first used by another actor");
  }
  // The actor is compared first: the action, record and inputs of the first call are not told.
  auto other_inputs = n.engine.create("Note", {{"title", "x"}}, {.actor = user(kBob), .idempotency_key = "k1"});
  REQUIRE_FALSE(other_inputs);
  CHECK(other_inputs.error().message == "idempotency key \"k1\" was first used by another actor");
  CHECK(other_inputs.error().fields.empty());
  CHECK(log_length(n.engine.log()) == head);

  // The same actor gets the first result back.
  auto again = n.engine.create("Note", inputs, {.actor = user(kAlice), .idempotency_key = "k1"}).value();
  CHECK(again.id() == first.id());
  CHECK(log_length(n.engine.log()) == head);
}

TEST_CASE("policy gaps: an idempotent retry does not return a record its actor may not read") {
  Notes n;
  // Bob may create a closed note for Alice, and the create returns it; he may not read it.
  Fields inputs{{"title", "gift"}, {"owner_id", Value(kAlice)}, {"closed", true}};
  auto first = n.engine.create("Note", inputs, {.actor = user(kBob), .idempotency_key = "k2"}).value();
  CHECK_FALSE(n.engine.get("Note", first.id(), {.actor = user(kBob)}));
  std::uint64_t head = log_length(n.engine.log());

  auto retry = n.engine.create("Note", inputs, {.actor = user(kBob), .idempotency_key = "k2"});
  REQUIRE_FALSE(retry);
  CHECK(retry.error().code == "not_found");
  CHECK(retry.error().describe() == "not_found: Note.create: no Note with primary key " + first.id().str());
  CHECK(log_length(n.engine.log()) == head);
  // Without authorization, as system work: the first result.
  auto system = n.engine.create("Note", inputs, {.actor = user(kBob), .idempotency_key = "k2", .authorize = false});
  CHECK(system.value().id() == first.id());
  CHECK(log_length(n.engine.log()) == head);
}

TEST_CASE("policy gaps: an idempotent retry is NotFound once its actor may no longer read the record") {
  Notes n;
  // Bob creates an open note he reads; its owner then closes it, and Bob no longer reads it.
  Fields inputs{{"title", "draft"}, {"owner_id", Value(kAlice)}};
  auto first = n.engine.create("Note", inputs, {.actor = user(kBob), .idempotency_key = "k3"}).value();
  CHECK(n.engine.create("Note", inputs, {.actor = user(kBob), .idempotency_key = "k3"}).value().id() == first.id());
  n.engine.update("Note", first.id(), {{"closed", true}}, {.actor = user(kAlice)}).value();
  REQUIRE_FALSE(n.engine.get("Note", first.id(), {.actor = user(kBob)}));
  std::uint64_t head = log_length(n.engine.log());

  auto retry = n.engine.create("Note", inputs, {.actor = user(kBob), .idempotency_key = "k3"});
  REQUIRE_FALSE(retry);
  CHECK(retry.error().describe() == "not_found: Note.create: no Note with primary key " + first.id().str());
  CHECK(log_length(n.engine.log()) == head);
  // Reopened, the retry returns what the first call did.
  n.engine.update("Note", first.id(), {{"closed", false}}, {.actor = user(kAlice)}).value();
  auto again = n.engine.create("Note", inputs, {.actor = user(kBob), .idempotency_key = "k3"}).value();
  CHECK(again.id() == first.id());
  CHECK(again["closed"] == Value(false));
}

TEST_CASE("policy gaps: a write the policies refuse runs no hook and is told no version, key or identity") {
  Notes n;
  auto alices = n.note("alpha", kAlice);
  int hooks = 0;
  auto counted = [&](Changeset& cs) {
    cs.before_transaction([&](Changeset&) -> Result<void> { ++hooks; return {}; });
    cs.before_action([&](Changeset&) -> Result<void> { ++hooks; return {}; });
    cs.after_transaction([&](Changeset&, Result<Record> r) { ++hooks; return r; });
  };
  std::uint64_t head = log_length(n.engine.log());

  // Bob reads alpha (it is open) but may not edit it: Forbidden, not a stale version.
  auto cs = n.engine.for_update("Note", alices.id(), {{"title", "mine"}}, {.actor = user(kBob), .expected_version = 7}).value();
  counted(cs);
  auto stale = n.engine.run(std::move(cs));
  REQUIRE_FALSE(stale);
  CHECK(stale.error().describe() ==
        "forbidden: Note.update: policy 3 \"owners edit\" forbids it: none of its checks decided (forbid_if "
        "expr(locked == true) does not hold; authorize_if expr(owner_id == ^actor(:id)) does not hold)");
  CHECK(hooks == 0);
  auto destroy = n.engine.for_destroy("Note", alices.id(), {.actor = user(kBob)}).value();
  counted(destroy);
  CHECK(n.engine.run(std::move(destroy)).error().code == "forbidden");
  CHECK(hooks == 0);

  // A create nobody may make: Forbidden before the taken key or identity value is told.
  TempDir dir;
  auto closed = domain("d")
                    .resource(resource("Tag")
                                  .attribute("code", type::string, {.allow_nil = false, .primary_key = true})
                                  .attribute("name", type::string)
                                  .identity("unique_name", {"name"})
                                  .defaults({"read", "create:*"})
                                  .policy(action_type(ActionType::read), {authorize_if(always())})
                                  .policy(action_type(ActionType::create), {authorize_if(actor_present())}))
                    .build()
                    .value();
  auto e = Engine::open(dir.path(), closed, {.durability = Durability::no_sync}).value();
  e.create("Tag", {{"code", "r"}, {"name", "red"}}, {.actor = user(kAlice)}).value();
  std::uint64_t tags = log_length(e.log());
  for (const Fields& inputs : {Fields{{"code", "r"}, {"name", "blue"}}, Fields{{"code", "s"}, {"name", "red"}}}) {
    auto create = e.for_create("Tag", inputs).value();
    counted(create);
    auto refused = e.run(std::move(create));
    REQUIRE_FALSE(refused);
    CHECK(refused.error().describe() ==
          "forbidden: Tag.create: policy 2 forbids it: none of its checks decided (authorize_if actor_present() does not hold)");
  }
  CHECK(hooks == 0);
  CHECK(log_length(e.log()) == tags);
  // With an actor that may create, the same inputs are told what is taken.
  CHECK(e.create("Tag", {{"code", "r"}, {"name", "blue"}}, {.actor = user(kBob)}).error().code == "already_exists");
  CHECK(e.create("Tag", {{"code", "s"}, {"name", "red"}}, {.actor = user(kBob)}).error().code == "identity_taken");

  // The owner with a stale version: the hooks before the write run, then the Conflict.
  auto owners = n.engine.for_update("Note", alices.id(), {{"title", "mine"}}, {.actor = user(kAlice), .expected_version = 7}).value();
  counted(owners);
  CHECK(n.engine.run(std::move(owners)).error().code == "stale_version");
  CHECK(hooks == 3);
  CHECK(log_length(n.engine.log()) == head);
}

TEST_CASE("policy gaps: a bulk action runs no hook for a record the policies refuse") {
  TempDir dir;
  int hooks = 0;
  ActionStep counted = changes::change([&](Changeset& cs) -> Result<void> {
    cs.around_transaction([&](Changeset& c, const Changeset::Next& next) { ++hooks; return next(c); });
    cs.before_transaction([&](Changeset&) -> Result<void> { ++hooks; return {}; });
    cs.after_transaction([&](Changeset&, Result<Record> r) { ++hooks; return r; });
    return {};
  });
  auto d = domain("d")
               .resource(resource("Note")
                             .uuid_primary_key("id")
                             .attribute("title", type::string)
                             .attribute("owner_id", type::uuid)
                             .defaults({"read", "create:*"})
                             .update("retitle", {.accept = {"title"}, .steps = {counted}})
                             .policy(action_type(ActionType::read), {authorize_if(always())})
                             .policy(action_type(ActionType::create), {authorize_if(actor_present())})
                             .policy(action("retitle"), {authorize_if(expr(ref("owner_id") == actor("id")))}, "owners retitle"))
               .build()
               .value();
  auto e = Engine::open(dir.path(), d, {.durability = Durability::no_sync}).value();
  auto alices = e.create("Note", {{"title", "a"}, {"owner_id", Value(kAlice)}}, {.actor = user(kAlice)}).value();
  auto bobs = e.create("Note", {{"title", "b"}, {"owner_id", Value(kBob)}}, {.actor = user(kBob)}).value();
  std::uint64_t head = log_length(e.log());

  auto result = e.bulk_update("Note", std::vector<Value>{alices.id(), bobs.id()}, {{"title", "mine"}},
                              {.action = "retitle", .actor = user(kBob), .batch_size = 1})
                    .value();
  CHECK(result.count == 1);
  REQUIRE(result.errors.size() == 1);
  CHECK(result.errors[0].describe() ==
        "input 0: forbidden: Note.retitle: policy 3 \"owners retitle\" forbids it: none of its checks decided "
        "(authorize_if expr(owner_id == ^actor(:id)) does not hold)");
  CHECK(hooks == 3);  // Bob's own note's three hooks; none for Alice's
  CHECK(log_length(e.log()) == head + 1);
  CHECK(e.get("Note", alices.id()).value()["title"] == Value("a"));
}

TEST_CASE("policy gaps: the Forbidden breakdown names the filter check that decided, never the record's values") {
  Notes n;
  auto locked = n.note("vault", kAlice, {{"locked", true}});
  auto refused = n.engine.update("Note", locked.id(), {{"title", "open"}}, {.actor = user(kAlice)});
  REQUIRE_FALSE(refused);
  CHECK(refused.error().describe() ==
        "forbidden: Note.update: policy 3 \"owners edit\" forbids it: forbid_if expr(locked == true) holds");
  CHECK(refused.error().code == codes::kForbidden);
  // Bob reads the note, but the error tells nothing of its values.
  auto bobs = n.engine.destroy("Note", locked.id(), {.actor = user(kBob)});
  REQUIRE_FALSE(bobs);
  CHECK(bobs.error().describe() ==
        "forbidden: Note.destroy: policy 4 \"owners destroy\" forbids it: none of its checks decided (authorize_if "
        "expr(owner_id == ^actor(:id)) does not hold)");
  for (const auto& told : {refused.error().describe(), bobs.error().describe()}) {
    CHECK(told.find(Value(kAlice).str()) == std::string::npos);
    CHECK(told.find("vault") == std::string::npos);
  }
  // An _unless check that did not decide held.
  TempDir dir;
  auto d = domain("d")
               .resource(resource("Doc")
                             .uuid_primary_key("id")
                             .attribute("title", type::string)
                             .defaults({"read", "create:*"})
                             .policy(always(), {authorize_unless(actor_present()), forbid_unless(actor_present())}))
               .build()
               .value();
  auto e = Engine::open(dir.path(), d, {.durability = Durability::no_sync}).value();
  CHECK(e.create("Doc", {{"title", "a"}}, {.actor = user(kAlice)}).error().message ==
        "policy 1 forbids it: none of its checks decided (authorize_unless actor_present() holds; forbid_unless "
        "actor_present() holds)");
}

TEST_CASE("policy gaps: history under policies: a record the actor may not read has none") {
  Notes n;
  auto closed = n.note("diary", kAlice, {{"closed", true}});
  n.engine.update("Note", closed.id(), {{"title", "journal"}}, {.actor = user(kAlice)}).value();
  std::string never = "not_found: Note: no Note with primary key " + closed.id().str() + " has ever existed";

  CHECK(n.engine.history("Note", closed.id(), {.actor = user(kAlice)}).value().size() == 2);
  auto bobs = n.engine.history("Note", closed.id(), {.actor = user(kBob)});
  REQUIRE_FALSE(bobs);
  CHECK(bobs.error().describe() == never);
  CHECK(n.engine.history("Note", Uuid::v4(), {.actor = user(kBob)}).error().code == "not_found");
  CHECK(n.engine.history("Note", closed.id(), {.actor = user(kBob), .authorize = false}).value().size() == 2);
  // Without an actor, as any read without one: hidden.
  CHECK(n.engine.history("Note", closed.id()).error().describe() == never);

  // A destroyed record: as it was before its destroy.
  auto open = n.note("memo", kAlice);
  n.engine.destroy("Note", open.id(), {.actor = user(kAlice)}).value();
  CHECK(n.engine.history("Note", open.id(), {.actor = user(kBob)}).value().size() == 2);
  n.engine.destroy("Note", closed.id(), {.actor = user(kAlice)}).value();
  CHECK(n.engine.history("Note", closed.id(), {.actor = user(kBob)}).error().describe() == never);
  CHECK(n.engine.history("Note", closed.id(), {.actor = user(kAlice)}).value().size() == 3);
}

TEST_CASE("policy gaps: code interfaces pass the actor and authorize through, reads and writes alike") {
  Notes n;
  auto closed = n.note("diary", kAlice, {{"closed", true}});
  auto notes = n.engine.interface("Note");

  auto bobs = notes.call("titled", {"diary"}, {}, {.actor = user(kBob)});
  REQUIRE_FALSE(bobs);
  CHECK(bobs.error().code == "not_found");
  CHECK(notes.call("titled", {"diary"}, {}, {.actor = user(kAlice)}).value().record().id() == closed.id());
  CHECK(notes.call("titled", {"diary"}, {}, {.actor = user(kBob), .authorize = false}).value().record().id() == closed.id());

  std::uint64_t head = log_length(n.engine.log());
  auto rename = notes.call("rename", {closed.id(), "mine"}, {}, {.actor = user(kBob)});
  REQUIRE_FALSE(rename);
  CHECK(rename.error().code == "not_found");  // by id, a note Bob may not read is not there
  CHECK(log_length(n.engine.log()) == head);
  CHECK(notes.call("rename", {closed.id(), "mine"}, {}, {.actor = user(kBob), .authorize = false}));
  CHECK(log_length(n.engine.log()) == head + 1);
}

namespace {

// Groups relate users through memberships: a membership is read by the user it names or
// when public; a user is read when listed, or by themself.
Domain groups_domain() {
  return domain("groups")
      .resource(resource("User")
                    .attribute("id", type::uuid, {.allow_nil = false, .primary_key = true})
                    .attribute("name", type::string)
                    .attribute("listed", type::boolean, {.default_value = true})
                    .defaults({"read", "create:*"})
                    .policy(action_type(ActionType::read),
                            {authorize_if(expr(ref("listed") == true)), authorize_if(expr(ref("id") == actor("id")))})
                    .policy(action_type(ActionType::create), {authorize_if(always())}))
      .resource(resource("Membership")
                    .belongs_to("group", "Group", {.allow_nil = false, .primary_key = true})
                    .belongs_to("user", "User", {.allow_nil = false, .primary_key = true})
                    .attribute("public", type::boolean, {.default_value = true})
                    .defaults({"read", "create:*"})
                    .policy(action_type(ActionType::read),
                            {authorize_if(expr(ref("public") == true)), authorize_if(expr(ref("user_id") == actor("id")))})
                    .policy(action_type(ActionType::create), {authorize_if(always())}))
      .resource(resource("Group")
                    .uuid_primary_key("id")
                    .attribute("name", type::string)
                    .many_to_many("users", "User", {.through = "Membership"})
                    .aggregate("user_count", AggregateKind::count, "users")
                    .defaults({"read", "create:*"}))
      .build()
      .value();
}

}  // namespace

TEST_CASE("policy gaps: many_to_many relates only through memberships and to users the actor may read") {
  TempDir dir;
  auto e = Engine::open(dir.path(), groups_domain(), {.durability = Durability::no_sync}).value();
  auto group = e.create("Group", {{"name", "chess"}}).value();
  auto alice = e.create("User", {{"id", Value(kAlice)}, {"name", "alice"}}).value();
  auto bob = e.create("User", {{"id", Value(kBob)}, {"name", "bob"}, {"listed", false}}).value();
  auto carol = e.create("User", {{"id", Value(Uuid::v4())}, {"name", "carol"}}).value();
  e.create("Membership", {{"group_id", group.id()}, {"user_id", alice.id()}}).value();
  e.create("Membership", {{"group_id", group.id()}, {"user_id", bob.id()}}).value();
  e.create("Membership", {{"group_id", group.id()}, {"user_id", carol.id()}, {"public", false}}).value();

  auto names = [&](const Value& actor, std::optional<bool> authorize = std::nullopt) {
    auto g = e.get("Group", group.id(), {.load = {"users", "user_count"}, .actor = actor, .authorize = authorize}).value();
    std::set<std::string> out;
    for (const auto& u : g.related("users")) out.insert(*u["name"].as_string());
    CHECK(g.get("user_count") == Value(static_cast<std::int64_t>(out.size())));
    return out;
  };
  using Names = std::set<std::string>;
  CHECK(names(user(kAlice)) == Names{"alice"});             // bob is unlisted, carol's membership private
  CHECK(names(user(kBob)) == Names{"alice", "bob"});        // bob reads himself
  CHECK(names(Value(Map{{"id", carol.id()}})) == Names{"alice", "carol"});
  CHECK(names(Value(), false) == Names{"alice", "bob", "carol"});
  // In filters too: the path through the join sees what the actor may read.
  CHECK(e.read("Group", {.filter = exists("users", ref("name") == "carol"), .actor = user(kAlice)}).value().empty());
  CHECK(e.read("Group", {.filter = exists("users", ref("name") == "carol"), .actor = Value(Map{{"id", carol.id()}})})
            .value()
            .size() == 1);
}
