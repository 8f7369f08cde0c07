// Idempotent actions: a retry with the key of an action already done returns its first
// result, appends nothing and publishes nothing, across restarts too.
#include "support/engine_helpers.hpp"
#include "support/temp_dir.hpp"

#include <ashlar/ashlar.hpp>

#include <catch2/catch.hpp>

using namespace ashlar;
using namespace ashlar::dsl;
using ashlar::test::all_events;
using ashlar::test::log_length;
using ashlar::test::TempDir;

namespace {

int g_hooks_run = 0;

Domain payments() {
  return domain("payments")
      .resource(resource("Payment")
                    .uuid_primary_key("id")
                    .attribute("amount", type::integer, {.allow_nil = false, .constraints = {.min = 1}})
                    .attribute("memo", type::string)
                    .attribute("captures", type::integer, {.default_value = 0})
                    .attribute("status", type::atom, {.default_value = Atom{"open"}})
                    .defaults({"read", "destroy", "update:*"})
                    .create("create", {.accept = {"amount", "memo"},
                                       .primary = true,
                                       .steps = {changes::change([](Changeset& cs) -> Result<void> {
                                         cs.before_transaction([](Changeset&) -> Result<void> {
                                           ++g_hooks_run;
                                           return {};
                                         });
                                         return {};
                                       })}})
                    .update("capture", {.accept = AcceptList::none(),
                                        .steps = {changes::increment("captures"),
                                                  validations::attribute_does_not_equal("status", Atom{"closed"})}})
                    .update("close", {.accept = AcceptList::none(), .steps = {changes::set_attribute("status", Atom{"closed"})}}))
      .build()
      .value();
}

struct Store {
  TempDir dir;
  std::vector<std::uint64_t> published;
  std::optional<Engine> engine;

  Store() { open(); }
  void open() {
    engine.reset();
    engine = Engine::open(dir.path(), payments(),
                          test::recording_options(published))
                 .value();
  }
  Engine& operator*() { return *engine; }
  Engine* operator->() { return &*engine; }
};

}  // namespace

TEST_CASE("idempotency: a retried create returns the first record and appends and publishes nothing") {
  Store s;
  g_hooks_run = 0;
  auto first = s->create("Payment", {{"amount", 100}, {"memo", "rent"}}, {.idempotency_key = "pay-1"}).value();
  CHECK(g_hooks_run == 1);
  auto stored = all_events(s->log()).back().event;
  CHECK(stored.idempotency_key == "pay-1");

  // The inputs in another order are the same inputs.
  auto retry = s->create("Payment", {{"memo", "rent"}, {"amount", 100}}, {.idempotency_key = "pay-1"}).value();
  CHECK(retry == first);
  CHECK(log_length(s->log()) == 1);
  CHECK(s.published == std::vector<std::uint64_t>{1});
  CHECK(g_hooks_run == 1);  // no hook of the retry ran
  CHECK(s->read("Payment").value().size() == 1);

  SECTION("after the engine is closed and opened again") {
    s.open();
    auto again = s->create("Payment", {{"amount", 100}, {"memo", "rent"}}, {.idempotency_key = "pay-1"}).value();
    CHECK(again == first);
    CHECK(log_length(s->log()) == 1);
    CHECK(g_hooks_run == 1);
  }
  SECTION("a call without a key, or with another key, acts") {
    s->create("Payment", {{"amount", 100}, {"memo", "rent"}}).value();
    auto other = s->create("Payment", {{"amount", 100}, {"memo", "rent"}}, {.idempotency_key = "pay-2"}).value();
    CHECK(other.id() != first.id());
    CHECK(log_length(s->log()) == 3);
  }
  SECTION("keys belong to a tenant") {
    auto theirs = s->create("Payment", {{"amount", 100}, {"memo", "rent"}}, {.tenant = "acme", .idempotency_key = "pay-1"}).value();
    CHECK(theirs.id() != first.id());
    CHECK(s->create("Payment", {{"amount", 100}, {"memo", "rent"}}, {.tenant = "acme", .idempotency_key = "pay-1"}).value() == theirs);
    CHECK(log_length(s->log()) == 2);
  }
}

TEST_CASE("idempotency: a retried update returns the record as the first call left it, even after later changes") {
  Store s;
  auto p = s->create("Payment", {{"amount", 5}}).value();
  auto captured = s->update("Payment", p.id(), {}, {.action = "capture", .idempotency_key = "cap-1"}).value();
  CHECK(captured["captures"] == Value(1));
  s->update("Payment", p.id(), {}, {.action = "close"}).value();
  // Capturing a closed payment is invalid now, but the retry is answered from the log.
  auto retry = s->update("Payment", p.id(), {}, {.action = "capture", .idempotency_key = "cap-1"}).value();
  CHECK(retry == captured);
  CHECK(retry.version() == 2);
  CHECK(log_length(s->log()) == 3);
  CHECK(s->get("Payment", p.id()).value()["captures"] == Value(1));  // captured once
  s.open();
  CHECK(s->update("Payment", p.id(), {}, {.action = "capture", .idempotency_key = "cap-1"}).value() == captured);
  CHECK(s.published == std::vector<std::uint64_t>{1, 2, 3});
}

TEST_CASE("idempotency: a retried destroy returns the record as it was, not NotFound") {
  Store s;
  auto p = s->create("Payment", {{"amount", 5}}).value();
  auto destroyed = s->destroy("Payment", p.id(), {.idempotency_key = "del-1"}).value();
  CHECK(destroyed == p);
  auto retry = s->destroy("Payment", p.id(), {.idempotency_key = "del-1"});
  REQUIRE(retry.has_value());
  CHECK(*retry == p);
  CHECK(log_length(s->log()) == 2);
  s.open();
  CHECK(s->destroy("Payment", p.id(), {.idempotency_key = "del-1"}).value() == p);
  // Without the key the record is simply gone.
  CHECK(s->destroy("Payment", p.id()).error().describe() ==
        "not_found: Payment.destroy: no Payment with primary key " + p.id().str());
}

TEST_CASE("idempotency: a key reused for other inputs, another action or another record is a Conflict naming it") {
  Store s;
  auto a = s->create("Payment", {{"amount", 100}, {"memo", "rent"}}, {.idempotency_key = "k1"}).value();
  auto b = s->create("Payment", {{"amount", 7}}).value();

  auto other_inputs = s->create("Payment", {{"amount", 200}, {"memo", "rent"}}, {.idempotency_key = "k1"});
  REQUIRE_FALSE(other_inputs.has_value());
  CHECK(other_inputs.error().cls == ErrorClass::conflict);
  CHECK(other_inputs.error().describe() ==
        "conflict: Payment.create: idempotency key \"k1\" was first used with other inputs (amount differs): "
        "amount: differs from the call that first used this idempotency key");
  auto fewer = s->create("Payment", {{"amount", 100}}, {.idempotency_key = "k1"});
  CHECK(fewer.error().message == "idempotency key \"k1\" was first used with other inputs (memo differs)");
  auto both = s->create("Payment", {{"amount", 1}}, {.idempotency_key = "k1"});
  CHECK(both.error().message == "idempotency key \"k1\" was first used with other inputs (amount, memo differ)");

  auto other_action = s->update("Payment", a.id(), {}, {.action = "capture", .idempotency_key = "k1"});
  CHECK(other_action.error().describe() ==
        "conflict: Payment.capture: idempotency key \"k1\" was first used for Payment.create; a key stands for one "
        "action");

  s->update("Payment", a.id(), {}, {.action = "capture", .idempotency_key = "k2"}).value();
  auto other_record = s->update("Payment", b.id(), {}, {.action = "capture", .idempotency_key = "k2"});
  CHECK(other_record.error().describe() == "conflict: Payment.capture: idempotency key \"k2\" was first used on Payment " +
                                               a.id().str() + ", not " + b.id().str());
  CHECK(log_length(s->log()) == 3);
  CHECK(s.published == std::vector<std::uint64_t>{1, 2, 3});
}

TEST_CASE("idempotency: a failed action leaves its key unused, a key longer than 255 bytes is refused") {
  Store s;
  auto bad = s->create("Payment", {{"amount", 0}}, {.idempotency_key = "k"});
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().describe() == "invalid: Payment.create: invalid input: amount: must be at least 1");
  auto good = s->create("Payment", {{"amount", 1}}, {.idempotency_key = "k"});
  REQUIRE(good.has_value());
  CHECK(log_length(s->log()) == 1);

  auto too_long = s->create("Payment", {{"amount", 1}}, {.idempotency_key = std::string(256, 'x')});
  REQUIRE_FALSE(too_long.has_value());
  CHECK(too_long.error().describe() ==
        "invalid: Payment.create: invalid input: idempotency_key: is 256 bytes; an idempotency key is at most 255");
  CHECK(s->create("Payment", {{"amount", 1}}, {.idempotency_key = std::string(255, 'x')}).has_value());
  CHECK(log_length(s->log()) == 2);
}

TEST_CASE("idempotency: a nested action's key is checked in the outer transaction") {
  Store s;
  // An after_action hook creates the same payment twice with one key: the second call
  // sees the first, uncommitted, in the shared transaction and returns it.
  auto cs = s->for_create("Payment", {{"amount", 9}}).value();
  std::vector<Record> nested;
  cs.after_action([&](Changeset& c, Record r) -> Result<Record> {
    for (int i = 0; i < 2; ++i) {
      CallOptions opts = c.to_opts();
      opts.idempotency_key = "inner";
      auto child = c.engine().create("Payment", {{"amount", 3}}, opts);
      if (!child) return fail(child.error());
      nested.push_back(*child);
    }
    return r;
  });
  s->run(std::move(cs)).value();
  REQUIRE(nested.size() == 2);
  CHECK(nested[0] == nested[1]);
  CHECK(log_length(s->log()) == 2);
}
