// The errors README.md quotes are the ones ashlar gives: each is produced through the
// public API (or the command line) and must appear, word for word, in the README. A
// changed message fails here until the README says the same.
#include "support/desk_domain.hpp"
#include "support/domains.hpp"
#include "support/run_cli.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace ashlar;
using namespace ashlar::dsl;
using ashlar::test::TempDir;

namespace {

// README.md as one line: each line's leading space and comment marker ("//", where a
// quote continues in a code comment) dropped, every run of whitespace made one space, so
// a quote wrapped across lines still matches.
const std::string& readme() {
  static const std::string text = [] {
    std::string out;
    for (std::string line : test::split_lines(test::read_file(ASHLAR_README))) {
      line.erase(0, line.find_first_not_of(" \t"));
      if (line.rfind("//", 0) == 0) line.erase(0, 2);
      for (char c : " " + line) {
        bool space = c == ' ' || c == '\t';
        if (space && !out.empty() && out.back() == ' ') continue;
        out += space ? ' ' : c;
      }
    }
    return out;
  }();
  return text;
}

// `message` with `id` shown as the README shows ids it elides: "…".
std::string elided(std::string message, const std::string& id) {
  for (auto at = message.find(id); at != std::string::npos; at = message.find(id)) message.replace(at, id.size(), "…");
  return message;
}

#define CHECK_QUOTED(message)                                          \
  do {                                                                 \
    INFO("README.md does not quote: " << (message));                   \
    CHECK(readme().find(message) != std::string::npos);                \
  } while (0)

// The Quick start's domain, as README.md declares it.
Domain quick_start_blog() {
  return domain("blog")
      .resource(resource("User")
                    .uuid_primary_key("id")
                    .attribute("name", type::string, {.allow_nil = false})
                    .create_timestamp("inserted_at")
                    .has_many("comments", "Comment")
                    .defaults({"read", "destroy", "create:*", "update:*"}))
      .resource(resource("Comment")
                    .uuid_primary_key("id")
                    .attribute("content", type::string, {.allow_nil = false})
                    .belongs_to("user", "User")
                    .defaults({"read", "destroy", "create:*", "update:*"}))
      .build()
      .value();
}

struct Desk {
  TempDir dir;
  Engine engine = Engine::open(dir.path(), test::desk_domain(), {.durability = Durability::no_sync}).value();
  Record rita = engine.create("Representative", {{"name", "Rita"}}).value();
};

}  // namespace

TEST_CASE("README: every bad input of a create at once") {
  TempDir dir;
  Engine engine = Engine::open(dir.path(), quick_start_blog()).value();
  auto r = engine.create("Comment", {{"content", ""}, {"user_id", "nope"}, {"likes", 3}});
  REQUIRE_FALSE(r.has_value());
  CHECK_QUOTED(r.error().describe());
  CHECK(r.error().fields.size() == 3);
}

TEST_CASE("README: a record read by a name its resource does not have") {
  TempDir dir;
  Engine engine = Engine::open(dir.path(), quick_start_blog()).value();
  Record alice = engine.create("User", {{"name", "Alice"}}).value();
  auto misspelt = alice.field("nmae");
  REQUIRE_FALSE(misspelt.has_value());
  CHECK(misspelt.error().cls == ErrorClass::framework);
  CHECK_QUOTED(misspelt.error().message);
  CHECK_THROWS_AS(alice["nmae"], Exception);
}

TEST_CASE("README: an upsert whose condition does not hold") {
  Desk d;
  d.engine.create("Ticket", {{"reference", "HD-7"}, {"subject", "VPN down"}}, {.action = "reopen"}).value();
  d.engine.update("Ticket", d.engine.read("Ticket").value().at(0).id(), {}, {.action = "close"}).value();
  auto r = d.engine.create("Ticket", {{"reference", "HD-7"}, {"subject", "VPN down"}}, {.action = "reopen"});
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().cls == ErrorClass::conflict);
  CHECK_QUOTED(r.error().message);
}

TEST_CASE("README: a code interface given the wrong count and a get_by that finds nothing") {
  Desk d;
  auto tickets = d.engine.interface("Ticket");
  auto count = tickets.call("top", {d.rita.id(), d.rita.id()});
  REQUIRE_FALSE(count.has_value());
  CHECK(count.error().cls == ErrorClass::framework);
  CHECK_QUOTED(count.error().message);
  auto missing = tickets.call("by_reference", {"HD-404"});
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.error().cls == ErrorClass::not_found);
  CHECK_QUOTED(missing.error().message);
}

TEST_CASE("README: an idempotency key reused with other inputs") {
  TempDir dir;
  auto payments = domain("payments")
                      .resource(resource("Payment")
                                    .uuid_primary_key("id")
                                    .attribute("amount", type::integer, {.allow_nil = false})
                                    .defaults({"read", "destroy", "create:*", "update:*"}))
                      .build()
                      .value();
  Engine engine = Engine::open(dir.path(), payments).value();
  engine.create("Payment", {{"amount", 100}}, {.idempotency_key = "k1"}).value();
  auto again = engine.create("Payment", {{"amount", 200}}, {.idempotency_key = "k1"});
  REQUIRE_FALSE(again.has_value());
  CHECK(again.error().cls == ErrorClass::conflict);
  CHECK_QUOTED(again.error().message);
}

TEST_CASE("README: a bulk create reports each failed input") {
  TempDir dir;
  auto posts = domain("blog")
                   .resource(resource("Post")
                                 .uuid_primary_key("id")
                                 .attribute("title", type::string, {.allow_nil = false})
                                 .defaults({"read", "destroy", "create:*", "update:*"}))
                   .build()
                   .value();
  Engine engine = Engine::open(dir.path(), posts).value();
  std::vector<Fields> rows(18, Fields{{"title", "ok"}});
  rows[17] = {{"title", ""}};
  auto imported = engine.bulk_create("Post", rows, {.batch_size = 1000}).value();
  REQUIRE(imported.errors.size() == 1);
  CHECK_QUOTED(imported.errors[0].describe());
}

TEST_CASE("README: filter syntax errors and unknown attributes") {
  auto syntax = parse_expr("subject ==");
  REQUIRE_FALSE(syntax.has_value());
  CHECK_QUOTED(syntax.error().fields.at(0).message);

  TempDir dir;
  Engine engine = Engine::open(dir.path(), test::helpdesk_domain()).value();
  auto unknown = engine.read("Ticket", {.filter = ref("colour") == Value("red")});
  REQUIRE_FALSE(unknown.has_value());
  CHECK(unknown.error().cls == ErrorClass::invalid);
  CHECK_QUOTED(unknown.error().fields.at(0).message);
}

TEST_CASE("README: a get as of a position before the record existed from the library and the command line") {
  TempDir dir;
  std::string store = dir.sub("store");
  std::string id;
  {
    Engine engine = Engine::open(store, test::helpdesk_domain()).value();
    engine.create("Representative", {{"name", "Joe"}}).value();
    Record ticket = engine.create("Ticket", {{"subject", "Printer on fire"}}).value();
    id = ticket.id().str();
    auto then = engine.get("Ticket", ticket.id(), {.as_of = AsOf{.position = 1}});
    REQUIRE_FALSE(then.has_value());
    CHECK(then.error().cls == ErrorClass::not_found);
    CHECK(then.error().message == "no Ticket with primary key " + id + " as of position 1: it was created at position 2");
    CHECK_QUOTED(elided(then.error().message, id));
  }
  test::CliRun cli = test::run_ashlar({"state", store, "Ticket", id, "--as-of", "1"});
  CHECK(cli.code == 1);
  CHECK(cli.err == "ashlar: no Ticket with primary key " + id + " as of position 1: it was created at position 2\n");
}

TEST_CASE("README: the command line's one-line error") {
  TempDir dir;
  std::string store = dir.sub("store");
  Engine::open(store, test::helpdesk_domain()).value();
  test::CliRun cli = test::run_ashlar({"query", store, "Ticket", "--filter", "subject =="});
  CHECK(cli.code == 2);
  REQUIRE(cli.err_lines.size() == 1);
  CHECK_QUOTED(cli.err_lines[0]);
}

TEST_CASE("README: an action past the store's size limit") {
  TempDir dir;
  Options options;
  options.initial_map_size = 256 << 10;
  options.max_map_size = 8 << 20;
  options.durability = Durability::no_sync;
  Engine engine = Engine::open(dir.sub("store"), quick_start_blog(), options).value();
  std::string text(200000, 'x');
  Result<Record> last = engine.create("User", {{"name", text}});
  for (int i = 0; i < 100 && last.has_value(); ++i) last = engine.create("User", {{"name", text}});
  REQUIRE_FALSE(last.has_value());
  CHECK_QUOTED(last.error().message);
}

TEST_CASE("README: manage_relationship errors on the path into the input, and options that do not fit") {
  TempDir dir;
  auto d = domain("blog")
               .resource(resource("Comment")
                             .uuid_primary_key("id")
                             .attribute("content", type::string, {.allow_nil = false})
                             .belongs_to("post", "Post")
                             .defaults({"read", "destroy", "create:*", "update:*"}))
               .resource(resource("Post")
                             .uuid_primary_key("id")
                             .has_many("comments", "Comment")
                             .defaults({"read", "destroy", "create:*", "update:*"})
                             .create("publish", {.arguments = {argument("comments", type::array(type::map))},
                                                 .steps = {changes::manage_relationship(
                                                     "comments", {.type = manage::Type::direct_control})}}))
               .build()
               .value();
  Engine engine = Engine::open(dir.path(), d, {.durability = Durability::no_sync}).value();
  auto bad = engine.create("Post",
                           {{"comments", Value(Array{Value(Map{{"content", "ok"}}), Value(Map{}),
                                                     Value(Map{{"content", "fine"}, {"colour", "red"}})})}},
                           {.action = "publish"});
  REQUIRE_FALSE(bad);
  CHECK_QUOTED(bad.error().describe());
  auto post = engine.create("Post", {}).value();
  auto cs = engine.for_update("Post", post.id(), {}).value();
  auto misfit = cs.manage_relationship("labels", Value(), {});
  REQUIRE_FALSE(misfit);
  CHECK_QUOTED(misfit.error().message);
}

TEST_CASE("README: a write the policies refuse") {
  TempDir dir;
  auto d = domain("work")
               .resource(resource("Project")
                             .uuid_primary_key("id")
                             .attribute("name", type::string)
                             .attribute("owner_id", type::uuid)
                             .has_many("memberships", "Membership")
                             .defaults({"read", "destroy", "create:*", "update:*"})
                             .bypass(actor_attribute_equals("role", Atom{"admin"}), {authorize_if(always())}, "admins")
                             .policy(action_type(ActionType::read),
                                     {authorize_if(expr(ref("owner_id") == actor("id"))),
                                      authorize_if(expr(exists("memberships", ref("user_id") == actor("id"))))},
                                     "owners and members read")
                             .policy(action_type(ActionType::update),
                                     {forbid_if(changing_attributes({"owner_id"})),
                                      authorize_if(expr(ref("owner_id") == actor("id")))},
                                     "owners edit"))
               .resource(resource("Membership")
                             .uuid_primary_key("id")
                             .attribute("user_id", type::uuid)
                             .belongs_to("project", "Project")
                             .defaults({"read", "create:*"}))
               .build()
               .value();
  Engine engine = Engine::open(dir.path(), d, {.durability = Durability::no_sync}).value();
  Value admin(Map{{"role", Atom{"admin"}}});
  Value carols = engine.create("Project", {{"name", "beta"}, {"owner_id", Uuid::v4()}}, {.actor = admin}).value().id();
  Value alice_id(Uuid::v4());
  Value alice(Map{{"id", alice_id}, {"role", Atom{"member"}}});
  // Before she is a member, Carol's project is not there for her.
  auto hidden = engine.update("Project", carols, {{"name", "x"}}, {.actor = alice});
  REQUIRE_FALSE(hidden.has_value());
  CHECK(hidden.error().code == "not_found");
  CHECK(hidden.error().message == "no Project with primary key " + carols.str());
  CHECK(engine.read("Project", {.actor = alice}).value().empty());
  // A member reads it, but only its owner edits it.
  engine.create("Membership", {{"user_id", alice_id}, {"project_id", carols}}).value();
  auto refused = engine.update("Project", carols, {{"name", "x"}}, {.actor = alice});
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().code == "forbidden");
  CHECK_QUOTED(refused.error().describe());
  CHECK(engine.read("Project", {.actor = alice}).value().size() == 1);
}

TEST_CASE("README: a call on a multitenant resource without a tenant") {
  TempDir dir;
  auto d = domain("work")
               .resource(resource("Task")
                             .uuid_primary_key("id")
                             .attribute("org_id", type::string)
                             .attribute("title", type::string)
                             .multitenancy({.strategy = Multitenancy::attribute, .attribute = "org_id"})
                             .defaults({"read", "destroy", "create:*", "update:*"}))
               .build()
               .value();
  Engine engine = Engine::open(dir.path(), d, {.durability = Durability::no_sync}).value();
  auto refused = engine.read("Task");
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().code == "tenant_required");
  CHECK_QUOTED(refused.error().describe());
}
