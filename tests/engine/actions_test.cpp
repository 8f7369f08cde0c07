// Actions in depth: arguments, changes, validations, the lifecycle's hooks, nested
// actions in one transaction, expected versions.
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

// Order of everything that ran, for the lifecycle tests.
std::vector<std::string> g_trace;

ActionStep trace(std::string label) {
  return changes::change([label](Changeset&) -> Result<void> {
    g_trace.push_back(label);
    return {};
  });
}

ActionStep trace_validation(std::string label) {
  return validations::validate([label](const Changeset&) -> std::optional<FieldError> {
    g_trace.push_back(label);
    return std::nullopt;
  });
}

Domain shop() {
  return domain("shop")
      .resource(resource("Account")
                    .uuid_primary_key("id")
                    .attribute("email", type::string, {.allow_nil = false})
                    .attribute("password_hash", type::string, {.sensitive = true})
                    .attribute("status", type::atom, {.constraints = {.one_of = {"pending", "active", "closed"}}})
                    .attribute("logins", type::integer, {.default_value = 0})
                    .attribute("lock_version", type::integer, {.default_value = 0})
                    .attribute("opened_by", type::string)
                    .attribute("opened_at", type::utc_datetime)
                    .attribute("plan", type::string)
                    .defaults({"read", "destroy", "update:*"})
                    .create("register",
                            {.accept = {"email", "plan"},
                             .primary = true,
                             .arguments = {argument("password", type::string,
                                                    {.allow_nil = false, .constraints = {.min_length = 8}, .sensitive = true}),
                                           argument("password_confirmation", type::string, {.sensitive = true}),
                                           argument("referrer", type::string, {.default_value = "direct"}),
                                           argument("ip_address", type::string, {.is_public = false})},
                             .steps = {trace("action change 1"),
                                       validations::confirm("password", "password_confirmation"),
                                       changes::set_attribute("status", Atom{"pending"}),
                                       trace_validation("action validation"),
                                       changes::set_attribute("opened_by", actor("name")),
                                       changes::set_attribute("opened_at", now()),
                                       changes::change([](Changeset& cs) -> Result<void> {
                                         if (const auto* p = cs.argument("password").as_string())
                                           cs.force_change("password_hash", "hashed:" + *p);
                                         return {};
                                       }),
                                       trace("action change 2")}})
                    .update("login", {.accept = AcceptList::none(), .steps = {changes::increment("logins")}})
                    .update("close", {.accept = {"plan"},
                                      .steps = {changes::set_attribute("status", Atom{"closed"}),
                                                changes::optimistic_lock("lock_version")}})
                    .update("upgrade", {.accept = {"plan"},
                                        .steps = {validations::one_of("plan", {"pro", "team"})
                                                      .when(validations::condition(validations::present({"plan"})))
                                                      .with_message("is not a plan we sell"),
                                                  validations::attribute_does_not_equal("status", Atom{"closed"})
                                                      .when_valid()}})
                    .change(trace("global change").on_types({ActionType::create}))
                    .validate(trace_validation("global validation"))
                    .validate(validations::match("email", "[^@ ]+@[^@ ]+").with_message("must be an email address")))
      .resource(resource("Audit")
                    .uuid_primary_key("id")
                    .attribute("note", type::string)
                    .defaults({"read", "create:*"}))
      .build()
      .value();
}

struct Shop {
  TempDir dir;
  std::vector<std::uint64_t> published;
  Engine engine = Engine::open(dir.path(), shop(),
                               test::recording_options(published))
                      .value();
  Fields good{{"email", "a@b.c"}, {"password", "secret123"}, {"password_confirmation", "secret123"}};
};

}  // namespace

TEST_CASE("arguments: typed, defaulted, constrained, private and sensitive") {
  Shop s;
  auto account = s.engine.create("Account", s.good, {.actor = Map{{"name", "ops"}}, .private_arguments = {{"ip_address", "10.0.0.1"}}}).value();
  CHECK(account["password_hash"] == Value("hashed:secret123"));
  CHECK(account["status"] == Value(Atom{"pending"}));
  CHECK(account["opened_by"] == Value("ops"));
  auto e = all_events(s.engine.log()).back().event;
  // Sensitive arguments never reach the event; the accepted attribute and public ones do.
  CHECK(e.inputs == Fields{{"email", "a@b.c"}});
  CHECK(*find_field(e.changes, "opened_at") == Value(DateTime{e.time_micros}));

  auto bad = s.engine.create("Account", {{"email", "x@y.z"}, {"password", "short"}, {"ip_address", "1.2.3.4"}, {"colour", "red"}});
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().fields == std::vector<FieldError>{
                                  {"ip_address", "not_accepted", "is a private argument of Account.register; only private_arguments set it"},
                                  {"colour", "unknown_input", "is not an attribute or argument of Account.register"},
                                  {"password", "min_length", "must be at least 8 characters long"},
                                  {"password_confirmation", "confirmation", "must match password"},
                              });
  CHECK(log_length(s.engine.log()) == 1);
}

TEST_CASE("changes and validations run in the order declared, the action's before the resource's") {
  Shop s;
  g_trace.clear();
  s.engine.create("Account", s.good).value();
  CHECK(g_trace == std::vector<std::string>{"action change 1", "action validation", "action change 2", "global change",
                                            "global validation"});
  g_trace.clear();
  auto id = s.engine.read("Account").value().at(0).id();
  s.engine.update("Account", id, {{"plan", "pro"}}, {.action = "upgrade"}).value();
  CHECK(g_trace == std::vector<std::string>{"global validation"});  // the global change is `on: create` only
}

TEST_CASE("validations: where, only_when_valid, overridden messages, global ones") {
  Shop s;
  auto id = s.engine.create("Account", s.good).value().id();
  auto bad_plan = s.engine.update("Account", id, {{"plan", "gold"}}, {.action = "upgrade"});
  REQUIRE_FALSE(bad_plan.has_value());
  CHECK(bad_plan.error().fields == std::vector<FieldError>{{"plan", "one_of", "is not a plan we sell"}});
  // `where present(plan)` does not hold: the one_of check is skipped.
  CHECK(s.engine.update("Account", id, {}, {.action = "upgrade"}).has_value());
  s.engine.update("Account", id, {{"status", "closed"}}).value();
  auto closed = s.engine.update("Account", id, {{"plan", "pro"}}, {.action = "upgrade"});
  CHECK(closed.error().fields == std::vector<FieldError>{{"status", "does_not_equal", "must not equal :closed"}});
  // only_when_valid: with the plan already wrong, the closed check does not pile on.
  auto both = s.engine.update("Account", id, {{"plan", "gold"}}, {.action = "upgrade"});
  CHECK(both.error().fields.size() == 1);
  auto email = s.engine.create("Account", {{"email", "nope"}, {"password", "secret123"}, {"password_confirmation", "secret123"}});
  CHECK(email.error().fields == std::vector<FieldError>{{"email", "match", "must be an email address"}});
}

TEST_CASE("increment is computed on the stored value, so concurrent logins are all counted") {
  Shop s;
  auto id = s.engine.create("Account", s.good).value().id();
  auto a = s.engine.for_update("Account", id, {}, {.action = "login"}).value();
  auto b = s.engine.for_update("Account", id, {}, {.action = "login"}).value();  // built from the same version
  s.engine.run(std::move(a)).value();
  CHECK(s.engine.run(std::move(b)).value()["logins"] == Value(2));
}

TEST_CASE("expected versions and optimistic locks refuse stale writes") {
  Shop s;
  auto id = s.engine.create("Account", s.good).value().id();
  s.engine.update("Account", id, {{"plan", "basic"}}).value();
  auto length = log_length(s.engine.log());
  auto stale = s.engine.update("Account", id, {{"plan", "pro"}}, {.expected_version = 1});
  REQUIRE_FALSE(stale.has_value());
  CHECK(stale.error().cls == ErrorClass::conflict);
  CHECK(stale.error().message == "Account " + id.as_uuid()->str() + ": expected version 1, but it is at version 2");
  CHECK(s.engine.destroy("Account", id, {.expected_version = 7}).error().cls == ErrorClass::conflict);
  CHECK(log_length(s.engine.log()) == length);
  CHECK(s.engine.update("Account", id, {{"plan", "pro"}}, {.expected_version = 2}).has_value());

  auto first = s.engine.for_update("Account", id, {}, {.action = "close"}).value();
  auto second = s.engine.for_update("Account", id, {}, {.action = "close"}).value();
  CHECK(s.engine.run(std::move(first)).value()["lock_version"] == Value(1));
  auto lost = s.engine.run(std::move(second));
  REQUIRE_FALSE(lost.has_value());
  CHECK(lost.error().cls == ErrorClass::conflict);
  CHECK(lost.error().fields == std::vector<FieldError>{{"lock_version", "stale_record", "has changed since the record was read"}});
}

TEST_CASE("hooks run in the order of Ash's action lifecycle") {
  Shop s;
  std::vector<std::string> order;
  auto cs = s.engine.for_create("Account", s.good).value();
  auto add = [&](std::string label) { order.push_back(std::move(label)); };
  cs.around_transaction([&](Changeset& c, const Changeset::Next& next) {
    add("around_transaction start");
    auto r = next(c);
    add("around_transaction end");
    return r;
  });
  cs.before_transaction([&](Changeset&) -> Result<void> {
    add(fmt::format("before_transaction (log at {})", log_length(s.engine.log())));
    return {};
  });
  cs.around_action([&](Changeset& c, const Changeset::Next& next) {
    add("around_action start");
    auto r = next(c);
    add("around_action end");
    return r;
  });
  cs.before_action([&](Changeset&) -> Result<void> {
    add("before_action 1");
    return {};
  });
  cs.before_action([&](Changeset&) -> Result<void> {
    add("before_action 2");
    return {};
  });
  cs.after_action([&](Changeset&, Record r) -> Result<Record> {
    add("after_action");
    return r;
  });
  cs.after_transaction([&](Changeset&, Result<Record> r) -> Result<Record> {
    add(fmt::format("after_transaction (log at {}, published {})", log_length(s.engine.log()), s.published.size()));
    return r;
  });
  s.engine.run(std::move(cs)).value();
  CHECK(order == std::vector<std::string>{"around_transaction start", "before_transaction (log at 0)",
                                          "around_action start", "before_action 1", "before_action 2", "after_action",
                                          "around_action end", "after_transaction (log at 1, published 1)",
                                          "around_transaction end"});
}

TEST_CASE("on failure after_action and the end of around_action do not run, after_transaction can retry") {
  Shop s;
  std::vector<std::string> order;
  auto cs = s.engine.for_create("Account", s.good).value();
  cs.around_action([&](Changeset& c, const Changeset::Next& next) {
    auto r = next(c);
    if (r) order.push_back("around_action end");
    return r;
  });
  cs.before_action([&](Changeset& c) -> Result<void> {
    c.add_error({"email", "taken", "is taken upstream"});  // the data layer refuses it
    return {};
  });
  cs.after_action([&](Changeset&, Record r) -> Result<Record> {
    order.push_back("after_action");
    return r;
  });
  cs.after_transaction([&](Changeset& c, Result<Record> r) -> Result<Record> {
    order.push_back(r ? "after_transaction ok" : "after_transaction error: " + r.error().fields.at(0).code);
    if (r) return r;
    // The reference's retry: run the action again another way.
    return c.engine().create("Audit", {{"note", "registration failed, retried as an audit note"}});
  });
  auto result = s.engine.run(std::move(cs));
  REQUIRE(result.has_value());
  CHECK(result->resource().name() == "Audit");
  CHECK(order == std::vector<std::string>{"after_transaction error: taken"});
  CHECK(log_length(s.engine.log()) == 1);
  CHECK(s.engine.read("Account").value().empty());
}

TEST_CASE("actions called from hooks join the transaction: one tx, one correlation id, all or nothing") {
  Shop s;
  auto cs = s.engine.for_create("Account", s.good, {.correlation_id = "req-7"}).value();
  cs.after_action([](Changeset& c, Record r) -> Result<Record> {
    auto note = c.engine().create("Audit", {{"note", "account opened"}}, c.to_opts());
    if (!note) return fail(note.error());
    return r;
  });
  s.engine.run(std::move(cs)).value();
  auto events = all_events(s.engine.log());
  REQUIRE(events.size() == 2);
  CHECK(events[0].event.resource == "Account");
  CHECK(events[1].event.resource == "Audit");
  CHECK(events[1].event.tx == events[0].event.tx);
  CHECK(events[1].event.correlation_id == "req-7");
  CHECK(events[0].event.correlation_id == "req-7");
  CHECK(s.published == std::vector<std::uint64_t>{1, 2});

  // When the outer action fails after its nested one, neither is kept or published.
  auto failing = s.engine.for_create("Account", {{"email", "b@b.c"}, {"password", "secret123"}, {"password_confirmation", "secret123"}}).value();
  failing.after_action([](Changeset& c, Record) -> Result<Record> {
    c.engine().create("Audit", {{"note", "never kept"}}).value();
    return fail(Error::invalid("Account", "register", {{"email", "refused", "refused after the fact"}}));
  });
  CHECK_FALSE(s.engine.run(std::move(failing)).has_value());
  CHECK(log_length(s.engine.log()) == 2);
  CHECK(s.engine.read("Audit").value().size() == 1);
  CHECK(s.published.size() == 2);

  // A nested action that fails rolls back alone; the outer one may carry on.
  auto tolerant = s.engine.for_create("Account", {{"email", "c@b.c"}, {"password", "secret123"}, {"password_confirmation", "secret123"}}).value();
  tolerant.after_action([](Changeset& c, Record r) -> Result<Record> {
    CHECK_FALSE(c.engine().create("Account", {{"email", "broken"}}).has_value());
    return r;
  });
  s.engine.run(std::move(tolerant)).value();
  CHECK(log_length(s.engine.log()) == 3);
}

TEST_CASE("context is deep-merged, and shared context reaches nested actions") {
  Shop s;
  auto cs = s.engine.for_create("Account", s.good, {.context = Map{{"a", Map{{"b", 1}}}}}).value();
  cs.set_context(Map{{"a", Map{{"c", 2}}}, {"shared", Map{{"locale", "en"}}}});
  CHECK(cs.context() == Map{{"a", Map{{"b", 1}, {"c", 2}}}, {"locale", "en"}, {"shared", Map{{"locale", "en"}}}});
  auto opts = cs.to_opts();
  CHECK(opts.context == Map{{"shared", Map{{"locale", "en"}}}});
}

TEST_CASE("what the action does not accept is required once before_action hooks have run, as Ash requires it") {
  TempDir dir;
  int hooks = 0;
  auto slug_from_name = changes::change([&hooks](Changeset& cs) -> Result<void> {
    cs.before_action([&hooks](Changeset& c) -> Result<void> {
      ++hooks;
      Value name = c.attribute("name");
      if (const auto* text = name.as_string()) c.force_change("slug", "s-" + *text);
      return {};
    });
    return {};
  });
  auto d = domain("d")
               .resource(resource("Page")
                             .uuid_primary_key("id")
                             .attribute("name", type::string, {.allow_nil = false})
                             .attribute("slug", type::string, {.allow_nil = false})
                             .defaults({"read"})
                             .create("make", {.accept = {"name"}, .steps = {slug_from_name}})
                             .create("bare", {.accept = {"name"}}))
               .build()
               .value();
  std::vector<std::uint64_t> published;
  Engine e = Engine::open(dir.path(), d, test::recording_options(published)).value();

  // The hook sets what the caller could not give.
  auto made = e.create("Page", {{"name", "home"}}, {.action = "make"});
  REQUIRE(made);
  CHECK((*made)["slug"] == Value("s-home"));

  // Without anything to set it, the record is refused after the hooks, and nothing is kept.
  auto bare = e.create("Page", {{"name", "away"}}, {.action = "bare"});
  REQUIRE_FALSE(bare);
  CHECK(bare.error().describe() == "invalid: Page.bare: invalid input: slug: is required");
  // What the caller could give is required at once: no hook runs.
  auto nameless = e.create("Page", {}, {.action = "make"});
  REQUIRE_FALSE(nameless);
  CHECK(nameless.error().describe() == "invalid: Page.make: invalid input: name: is required");
  CHECK(hooks == 1);
  CHECK(log_length(e.log()) == 1);
  CHECK(published.size() == 1);
}

TEST_CASE("an argument may be named as an attribute its action does not accept, and takes that input") {
  TempDir dir;
  // The relationships guide's own example: argument :parent_id managed into belongs_to :parent.
  auto d = domain("tree")
               .resource(resource("Node")
                             .uuid_primary_key("id")
                             .attribute("name", type::string)
                             .belongs_to("parent", "Node")
                             .defaults({"read", "create:*"})
                             .update("assign_parent",
                                     {.accept = {"name"},
                                      .arguments = {argument("parent_id", type::uuid)},
                                      .steps = {changes::manage_relationship(
                                          "parent_id", "parent", {.type = manage::Type::append_and_remove})}}))
               .build();
  REQUIRE(d.has_value());
  Engine e = Engine::open(dir.path(), *d, {.durability = Durability::no_sync}).value();
  auto root = e.create("Node", {{"name", "root"}}).value();
  auto leaf = e.create("Node", {{"name", "leaf"}}).value();
  auto moved = e.update("Node", leaf.id(), {{"parent_id", root.id()}}, {.action = "assign_parent"}).value();
  CHECK(moved["parent_id"] == root.id());
  auto unset = e.update("Node", leaf.id(), {{"parent_id", Value()}}, {.action = "assign_parent"}).value();
  CHECK(unset["parent_id"].is_null());

  // One the action accepts would be two inputs of one name.
  auto twice = domain("tree")
                   .resource(resource("Node").uuid_primary_key("id").attribute("name", type::string).create(
                       "make", {.accept = {"name"}, .arguments = {argument("name", type::string)}}))
                   .build();
  REQUIRE_FALSE(twice);
  CHECK(twice.error().fields == std::vector<FieldError>{{"Node.actions.make.arguments.name", "duplicate_name",
                                                         "has the name of an attribute the action accepts"}});
}
