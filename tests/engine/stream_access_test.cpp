// Per-client streams from Engine::open: with an allow-list, each client receives the
// events its actor may read under the read policies — decided on the record as each
// event left it — replayed and live, with sensitive values withheld, on tcp loopback;
// and a sensitive value kept out of an error message.
#include <ashlar/ashlar.hpp>

#include "support/engine_helpers.hpp"
#include "support/notify_sockets.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

using namespace ashlar;
using namespace ashlar::dsl;
using namespace ashlar::test;

namespace {

// A Note is read by its owner only; its pin is sensitive.
Domain notes_domain() {
  return domain("notes")
      .resource(resource("Note")
                    .uuid_primary_key("id")
                    .attribute("owner", type::string)
                    .attribute("pin", type::string, {.sensitive = true})
                    .defaults({"read", "destroy", "create:*", "update:*"})
                    .policy(action_type(ActionType::read), {authorize_if(expr(ref("owner") == actor("id")))}))
      .build()
      .value();
}

struct Keys {
  CurveKeyPair server = generate_key_pair().value();
  CurveKeyPair alice = generate_key_pair().value();
  CurveKeyPair bob = generate_key_pair().value();
};

Value note(Engine& engine, const std::string& owner, const std::string& pin) {
  return engine.create("Note", {{"owner", owner}, {"pin", pin}}, {.authorize = false}).value().id();
}

std::vector<std::uint64_t> positions(const std::vector<ReceivedEvent>& events) {
  std::vector<std::uint64_t> out;
  for (const auto& e : events) out.push_back(e.event.position);
  return out;
}

void no_pin_in(const std::vector<ReceivedEvent>& events) {
  for (const auto& e : events) {
    INFO("position " << e.event.position);
    CHECK(e.bytes.find("pin-") == std::string::npos);
  }
}

}  // namespace

TEST_CASE("an engine with an allow-list serves each client the events its actor may read, replayed and live") {
  TempDir dir;
  auto endpoints = tcp_endpoints();
  Keys keys;
  auto clients = std::make_shared<ClientAllowList>(
      ClientList{{keys.alice.public_key, {"alice", "member"}}, {keys.bob.public_key, {"bob", "member"}}});
  auto engine = Engine::open(dir.sub("store"), notes_domain(),
                             {.durability = Durability::no_sync,
                              .publish = {.endpoints = {endpoints.publish}, .replay = endpoints.replay,
                                          .heartbeat = 100ms, .curve = {.keys = keys.server, .clients = clients}}})
                    .value();
  auto a1 = note(engine, "alice", "pin-a1");                                  // 1
  note(engine, "bob", "pin-b1");                                              // 2
  engine.update("Note", a1, {{"owner", "bob"}}, {.authorize = false}).value();  // 3: now bob's
  note(engine, "alice", "pin-a2");                                            // 4
  auto connect = [&](const CurveKeyPair& client) {
    return Subscriber::connect({.publish = endpoints.publish, .replay = endpoints.replay,
                                .start = StartAt::beginning(), .server_key = keys.server.public_key,
                                .client_keys = client})
        .value();
  };
  auto alice = connect(keys.alice);
  auto bob = connect(keys.bob);
  auto alice_replayed = take(*alice, 2);
  auto bob_replayed = take(*bob, 2);
  CHECK(positions(alice_replayed) == std::vector<std::uint64_t>{1, 4});  // a1 was hers when created
  CHECK(positions(bob_replayed) == std::vector<std::uint64_t>{2, 3});   // the update made it his

  engine.update("Note", a1, {{"owner", "alice"}}, {.authorize = false}).value();  // 5: hers again
  auto b2 = note(engine, "bob", "pin-b2");                                         // 6
  engine.destroy("Note", b2, {.authorize = false}).value();                         // 7: bob's as it went
  auto alice_live = take(*alice, 1);
  auto bob_live = take(*bob, 2);
  CHECK(positions(alice_live) == std::vector<std::uint64_t>{5});
  CHECK(positions(bob_live) == std::vector<std::uint64_t>{6, 7});
  expect_quiet(*alice);
  expect_quiet(*bob);

  for (const auto* events : {&alice_replayed, &bob_replayed, &alice_live, &bob_live}) no_pin_in(*events);
  const Value* pin = find_field(bob_live.front().event.changes, "pin");
  REQUIRE(pin);
  CHECK(pin->is_null());
  CHECK(*find_field(bob_live.front().event.changes, "owner") == Value("bob"));
}

TEST_CASE("an identity taken on a sensitive attribute is refused without the value in the message") {
  TempDir dir;
  auto cards = domain("cards")
                   .resource(resource("Card")
                                 .uuid_primary_key("id")
                                 .attribute("label", type::string)
                                 .attribute("token", type::string, {.sensitive = true})
                                 .identity("unique_token", {"label", "token"})
                                 .defaults({"read", "destroy", "create:*", "update:*"}))
                   .build()
                   .value();
  auto engine = Engine::open(dir.sub("store"), cards, {.durability = Durability::no_sync}).value();
  engine.create("Card", {{"label", "visa"}, {"token", "tok-4242"}}).value();
  auto again = engine.create("Card", {{"label", "visa"}, {"token", "tok-4242"}});
  REQUIRE_FALSE(again.has_value());
  CHECK(again.error().code == codes::kIdentityTaken);
  CHECK(again.error().message == "identity unique_token is taken: another Card has \"visa\", **redacted**");
}

TEST_CASE("under field policies a client receives the fields its actor may read, a sensitive one only when granted") {
  TempDir dir;
  auto endpoints = tcp_endpoints();
  Keys keys;
  auto staff = domain("staff")
                   .resource(resource("Employee")
                                 .uuid_primary_key("id")
                                 .attribute("name", type::string)
                                 .attribute("salary", type::integer)
                                 .attribute("ssn", type::string, {.sensitive = true})
                                 .attribute("badge", type::string, {.sensitive = true})
                                 .defaults({"read", "destroy", "create:*", "update:*"})
                                 .field_policy({"salary", "ssn"}, always(),
                                               {authorize_if(actor_attribute_equals("role", Value("hr")))}))
                   .build()
                   .value();
  auto clients = std::make_shared<ClientAllowList>(
      ClientList{{keys.alice.public_key, {"alice", "hr"}}, {keys.bob.public_key, {"bob", "member"}}});
  auto engine = Engine::open(dir.sub("store"), staff,
                             {.durability = Durability::no_sync,
                              .publish = {.endpoints = {endpoints.publish}, .replay = endpoints.replay,
                                          .heartbeat = 100ms, .curve = {.keys = keys.server, .clients = clients}}})
                    .value();
  engine.create("Employee", {{"name", "Carol"}, {"salary", 918273}, {"ssn", "ssn-555"}, {"badge", "badge-77"}},
                {.authorize = false})
      .value();
  auto connect = [&](const CurveKeyPair& client) {
    return Subscriber::connect({.publish = endpoints.publish, .replay = endpoints.replay,
                                .start = StartAt::beginning(), .server_key = keys.server.public_key,
                                .client_keys = client})
        .value();
  };
  auto alice = take(*connect(keys.alice), 1);
  auto bob = take(*connect(keys.bob), 1);
  REQUIRE(alice.size() == 1);
  REQUIRE(bob.size() == 1);
  // HR is granted the salary and the ssn; the badge, sensitive and named by no field
  // policy, reaches nobody.
  CHECK(*find_field(alice.front().event.changes, "salary") == Value(918273));
  CHECK(*find_field(alice.front().event.changes, "ssn") == Value("ssn-555"));
  CHECK(find_field(alice.front().event.changes, "badge")->is_null());
  CHECK(alice.front().bytes.find("badge-77") == std::string::npos);
  // A member gets the name, and neither value nor length of what it may not read.
  CHECK(*find_field(bob.front().event.changes, "name") == Value("Carol"));
  for (const char* withheld : {"salary", "ssn", "badge"}) CHECK(find_field(bob.front().event.changes, withheld)->is_null());
  CHECK(bob.front().bytes.find("ssn-555") == std::string::npos);
  CHECK(bob.front().bytes.find("badge-77") == std::string::npos);
}
