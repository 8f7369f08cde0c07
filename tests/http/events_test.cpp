// GET /events and the X-Tenant header through a real client: catch-up, resume with
// Last-Event-ID, live delivery, filtering by resource, tenant and the actor's read
// policies, the limit on streams, and tenants and policies on the resource routes.
#include <ashlar/ashlar.hpp>
#include <ashlar/eventlog/event_json.hpp>
#include <ashlar/http/server.hpp>

#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <thread>

using namespace ashlar;
using namespace ashlar::dsl;
using ashlar::test::TempDir;
using namespace std::chrono_literals;

namespace {

// Notes: anyone named may write one; each reads only their own. Memos: one org's each,
// with a private routing the documents never show.
Domain desk() {
  return domain("desk")
      .resource(resource("Note")
                    .uuid_primary_key("id")
                    .attribute("owner", type::string)
                    .attribute("title", type::string)
                    .defaults({"read", "destroy", "create:*", "update:*"})
                    .policy(action_type(ActionType::create), {authorize_if(actor_present())})
                    .policy(action_type(ActionType::read), {authorize_if(expr(ref("owner") == actor("name")))}))
      .resource(resource("Memo")
                    .uuid_primary_key("id")
                    .attribute("org_id", type::string)
                    .attribute("title", type::string)
                    .attribute("routing", type::string, {.default_value = "desk-7", .is_public = false})
                    .multitenancy({.strategy = Multitenancy::attribute, .attribute = "org_id"})
                    .defaults({"read", "destroy", "create:*", "update:*"})
                    // An argument named as a header-borne option: its errors are the body's.
                    .action("stamp", {.returns = type::integer,
                                      .arguments = {argument("tenant", type::integer)},
                                      .run = [](ActionInput& input) -> Result<Value> { return input.argument("tenant"); }}))
      .build()
      .value();
}

Value user(const std::string& name) { return Value(Map{{"name", Value(name)}}); }

http::Api desk_api() {
  http::Api api;
  api.resource("Note", "note", "/notes").get("read").index("read").post("create");
  api.resource("Memo", "memo", "/memos").get("read").index("read").post("create").route("POST", "/stamp", "stamp");
  return api;
}

// The X-User header names the actor; none is anonymous.
Result<Value> by_header(const http::RequestInfo& request) {
  std::string name = request.header("X-User");
  return name.empty() ? Value() : user(name);
}

// X-User: NAME@TENANT is NAME of TENANT: the credentials decide the tenant.
Result<http::Principal> by_account(const http::RequestInfo& request) {
  std::string account = request.header("X-User");
  auto at = account.find('@');
  if (at == std::string::npos) return fail(Error::unknown("send X-User: NAME@TENANT"));
  return http::Principal(user(account.substr(0, at)), account.substr(at + 1));
}

struct Desk {
  TempDir dir;
  std::shared_ptr<http::EventSignal> signal = std::make_shared<http::EventSignal>();
  Engine engine;
  http::Server server;

  explicit Desk(http::ServerOptions options = {})
      : engine(Engine::open(dir.path(), desk(), {.durability = Durability::no_sync, .notifiers = {signal}}).value()),
        server(start(engine, signal, std::move(options))) {}

  static http::Server start(Engine& engine, std::shared_ptr<http::EventSignal> signal, http::ServerOptions options) {
    options.events = std::move(signal);
    if (!options.authenticate) options.authenticate = by_header;
    return http::Server::start(engine, desk_api(), std::move(options)).value();
  }

  httplib::Client client() {
    httplib::Client client("127.0.0.1", server.port());
    client.set_read_timeout(5);
    return client;
  }

  std::uint64_t note(const std::string& owner) {
    engine.create("Note", {{"owner", owner}, {"title", "t"}}, {.actor = user(owner)}).value();
    return engine.log().head().value().position;
  }
  std::uint64_t memo(const std::string& org) {
    engine.create("Memo", {{"title", "m"}}, {.tenant = org}).value();
    return engine.log().head().value().position;
  }
};

// One server-sent message: its id (0 for a comment) and data.
struct Message {
  std::uint64_t id = 0;
  std::string data;
  bool heartbeat = false;
};

Message parse(const std::string& text) {
  Message m;
  for (std::size_t start = 0; start < text.size();) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    if (line.starts_with("id: ")) m.id = std::stoull(line.substr(4));
    else if (line.starts_with("data: ")) m.data = line.substr(6);
    else if (line == ": heartbeat") m.heartbeat = true;
    start = end + 1;
  }
  return m;
}

// Reads the stream at `path` until `on` returns false (or 5 s without data); returns the
// status and the messages seen.
struct Streamed {
  int status = 0;
  std::string body;
  std::vector<Message> messages;
};

Streamed stream(httplib::Client& client, const std::string& path, httplib::Headers headers,
                const std::function<bool(const Message&)>& on) {
  Streamed out;
  std::string buffer;
  auto got = client.Get(
      path, headers,
      [&](const httplib::Response& res) {
        out.status = res.status;
        return true;
      },
      [&](const char* data, std::size_t size) {
        buffer.append(data, size);
        if (out.status != 200) return true;
        for (std::size_t end; (end = buffer.find("\n\n")) != std::string::npos;) {
          Message m = parse(buffer.substr(0, end));
          buffer.erase(0, end + 2);
          out.messages.push_back(m);
          if (!on(m)) return false;
        }
        return true;
      });
  if (got) out.status = got->status, out.body = got->body;
  if (out.status != 200) out.body = buffer;
  return out;
}

// The ids of the events among `messages`.
std::vector<std::uint64_t> ids(const std::vector<Message>& messages) {
  std::vector<std::uint64_t> out;
  for (const auto& m : messages)
    if (m.id) out.push_back(m.id);
  return out;
}

// Reads events until the one at `last`.
std::vector<std::uint64_t> events_until(Desk& desk, const std::string& path, std::uint64_t last,
                                        httplib::Headers headers = {}) {
  auto client = desk.client();
  auto got = stream(client, path, std::move(headers), [&](const Message& m) { return m.id < last; });
  CHECK(got.status == 200);
  return ids(got.messages);
}

}  // namespace

TEST_CASE("GET /events catches up from `from`, then delivers new actions live, as ashlar log --json prints them") {
  Desk desk;
  std::uint64_t first = desk.note("ann"), second = desk.note("ann");
  auto client = desk.client();
  std::uint64_t live = 0;
  auto got = stream(client, "/events?from=" + std::to_string(second), {{"X-User", "ann"}}, [&](const Message& m) {
    if (m.id == second) live = desk.note("ann");  // committed while the stream waits
    return m.id != live;
  });
  REQUIRE(got.status == 200);
  CHECK(ids(got.messages) == std::vector<std::uint64_t>{second, live});
  CHECK(first < second);
  auto event = desk.engine.log().read().value();
  auto stored = desk.engine.log().event_at(event, second).value().value();
  CHECK(got.messages.front().data == json_line(event_to_json(stored, desk.engine.domain())));
  CHECK_THAT(got.messages.front().data, Catch::StartsWith(R"({"position":)" + std::to_string(second) + R"(,"sequence":2)"));
}

TEST_CASE("GET /events resumes after Last-Event-ID without missing or repeating an event") {
  Desk desk;
  std::vector<std::uint64_t> written;
  for (int i = 0; i < 5; ++i) written.push_back(desk.note("ann"));
  auto client = desk.client();
  // The first connection stops after the second event; the next resumes after it.
  auto before = stream(client, "/events?from=1", {{"X-User", "ann"}}, [&](const Message& m) { return m.id != written[1]; });
  CHECK(ids(before.messages) == std::vector<std::uint64_t>{written[0], written[1]});
  auto after = events_until(desk, "/events?from=1", written[4],
                            {{"X-User", "ann"}, {"Last-Event-ID", std::to_string(written[1])}});
  CHECK(after == std::vector<std::uint64_t>{written[2], written[3], written[4]});
}

TEST_CASE("GET /events sends a heartbeat comment while no event comes") {
  Desk desk({.heartbeat = 50ms});
  auto client = desk.client();
  auto got = stream(client, "/events", {}, [](const Message& m) { return !m.heartbeat; });
  REQUIRE(got.status == 200);
  REQUIRE(got.messages.size() == 1);
  CHECK(got.messages.front().heartbeat);
}

TEST_CASE("GET /events filters by resource and tenant, and a multitenant resource's events need the tenant") {
  Desk desk;
  std::uint64_t note = desk.note("ann"), acme1 = desk.memo("acme"), other = desk.memo("globex"),
                acme2 = desk.memo("acme");
  std::uint64_t last = desk.note("ann");
  httplib::Headers ann = {{"X-User", "ann"}};
  CHECK(events_until(desk, "/events?from=1", last, ann) == std::vector<std::uint64_t>{note, last});
  httplib::Headers acme = {{"X-User", "ann"}, {"X-Tenant", "acme"}};
  CHECK(events_until(desk, "/events?from=1", last, acme) == std::vector<std::uint64_t>{note, acme1, acme2, last});
  // Past the last Memo event nothing more is due; the stream ends at the next Note.
  CHECK(events_until(desk, "/events?from=1&resource=Memo", acme2, acme) == std::vector<std::uint64_t>{acme1, acme2});
  CHECK(events_until(desk, "/events?from=1&tenant=acme", acme2, acme) == std::vector<std::uint64_t>{acme1, acme2});
  httplib::Headers globex = {{"X-User", "ann"}, {"X-Tenant", "globex"}};
  CHECK(events_until(desk, "/events?from=1&resource=Memo", other, globex) == std::vector<std::uint64_t>{other});
}

TEST_CASE("GET /events leaves private attributes out, as the documents do") {
  Desk desk;
  std::uint64_t memo = desk.memo("acme");
  auto client = desk.client();
  auto got = stream(client, "/events?from=1", {{"X-User", "ann"}, {"X-Tenant", "acme"}},
                    [&](const Message& m) { return m.id != memo; });
  REQUIRE(got.status == 200);
  REQUIRE(ids(got.messages) == std::vector<std::uint64_t>{memo});
  CHECK(got.messages.front().data.find(R"("org_id":"acme","title":"m"},"inputs":{"title":"m"},)") != std::string::npos);
  CHECK(got.messages.front().data.find("routing") == std::string::npos);
  CHECK(got.messages.front().data.find("desk-7") == std::string::npos);
  auto listed = client.Get("/memos", {{"X-User", "ann"}, {"X-Tenant", "acme"}});
  REQUIRE(listed);
  CHECK(listed->status == 200);
  CHECK(listed->body.find("routing") == std::string::npos);
}

TEST_CASE("GET /events leaves out the events of records the actor may not read") {
  Desk desk;
  std::uint64_t bob1 = desk.note("bob"), ann1 = desk.note("ann"), bob2 = desk.note("bob"), ann2 = desk.note("ann");
  CHECK(events_until(desk, "/events?from=1", ann2, {{"X-User", "ann"}}) == std::vector<std::uint64_t>{ann1, ann2});
  CHECK(events_until(desk, "/events?from=1", bob2, {{"X-User", "bob"}}) == std::vector<std::uint64_t>{bob1, bob2});
  // Anonymous: no note is readable; a heartbeat comes instead.
  Desk quiet({.heartbeat = 50ms});
  quiet.note("ann");
  auto client = quiet.client();
  auto got = stream(client, "/events?from=1", {}, [](const Message& m) { return !m.heartbeat; });
  CHECK(ids(got.messages).empty());
}

TEST_CASE("GET /events refuses a bad position or resource with 400, naming it") {
  Desk desk;
  auto client = desk.client();
  auto bad_from = client.Get("/events?from=x");
  REQUIRE(bad_from);
  CHECK(bad_from->status == 400);
  CHECK(bad_from->body.find(R"x("detail":"from is not a log position (1 or more)","source":{"parameter":"from"})x") !=
        std::string::npos);
  auto zero = client.Get("/events?from=0");
  REQUIRE(zero);
  CHECK(zero->status == 400);
  auto bad_id = client.Get("/events", {{"Last-Event-ID", "-1"}});
  REQUIRE(bad_id);
  CHECK(bad_id->status == 400);
  CHECK(bad_id->body.find(R"("detail":"Last-Event-ID is not a log position","source":{"header":"Last-Event-ID"})") !=
        std::string::npos);
  auto bad_resource = client.Get("/events?resource=Widget");
  REQUIRE(bad_resource);
  CHECK(bad_resource->status == 400);
  CHECK(bad_resource->body.find(R"("detail":"no resource \"Widget\"","source":{"parameter":"resource"})") !=
        std::string::npos);
}

TEST_CASE("GET /events beyond max_event_streams is refused with 503 until a stream ends") {
  Desk desk({.max_event_streams = 1, .heartbeat = 20ms});
  std::atomic<bool> open{false}, release{false};
  std::thread holder([&] {
    auto client = desk.client();
    stream(client, "/events", {}, [&](const Message&) {
      open = true;
      return !release;
    });
  });
  for (int i = 0; i < 250 && !open; ++i) std::this_thread::sleep_for(20ms);
  REQUIRE(open);
  auto client = desk.client();
  auto refused = client.Get("/events");
  REQUIRE(refused);
  CHECK(refused->status == 503);
  CHECK(refused->body.find(R"("code":"too_many_streams")") != std::string::npos);
  CHECK(refused->body.find("the server has as many event streams open as it serves") != std::string::npos);
  release = true;
  holder.join();
  int status = 0;
  for (int i = 0; i < 100 && status != 200; ++i) {
    auto again = desk.client();
    status = stream(again, "/events", {}, [](const Message&) { return false; }).status;
    if (status != 200) std::this_thread::sleep_for(20ms);
  }
  CHECK(status == 200);
}

TEST_CASE("The X-Tenant header is the tenant of a request: another tenant's record is 404") {
  Desk desk;
  auto client = desk.client();
  const std::string body = R"({"data": {"type": "memo", "attributes": {"title": "plan"}}})";
  auto created = client.Post("/memos", {{"X-Tenant", "acme"}}, body, "application/vnd.api+json");
  REQUIRE(created);
  REQUIRE(created->status == 201);
  CHECK(created->body.find(R"("org_id":"acme")") != std::string::npos);
  std::string id = nlohmann::json::parse(created->body)["data"]["id"];
  auto own = client.Get("/memos/" + id, {{"X-Tenant", "acme"}});
  REQUIRE(own);
  CHECK(own->status == 200);
  auto other = client.Get("/memos/" + id, {{"X-Tenant", "globex"}});
  REQUIRE(other);
  CHECK(other->status == 404);
  auto listed = client.Get("/memos", {{"X-Tenant", "globex"}});
  REQUIRE(listed);
  CHECK(listed->status == 200);
  CHECK(listed->body.find(R"("data":[])") != std::string::npos);
  auto none = client.Get("/memos");
  REQUIRE(none);
  CHECK(none->status == 400);
  CHECK(none->body.find(R"("code":"tenant_required")") != std::string::npos);
  // A write without one: the header is what is missing, not an attribute.
  auto unplaced = client.Post("/memos", body, "application/vnd.api+json");
  REQUIRE(unplaced);
  CHECK(unplaced->status == 400);
  auto error = nlohmann::json::parse(unplaced->body)["errors"].at(0);
  CHECK(error["code"] == "tenant_required");
  CHECK(error["source"] == nlohmann::json{{"header", "X-Tenant"}});
  // An argument that happens to be named tenant is the body's.
  auto stamped = client.Post("/memos/stamp", {{"X-Tenant", "acme"}}, R"({"data": {"tenant": "x"}})",
                             "application/vnd.api+json");
  REQUIRE(stamped);
  CHECK(stamped->status == 422);
  auto argument_error = nlohmann::json::parse(stamped->body)["errors"].at(0);
  CHECK(argument_error["source"] == nlohmann::json{{"pointer", "/data/tenant"}});
}

TEST_CASE("Policies over HTTP: a refused write is 403 with the breakdown, reads leave out what the actor may not read") {
  Desk desk;
  desk.note("ann");
  desk.note("bob");
  auto client = desk.client();
  const std::string body = R"({"data": {"type": "note", "attributes": {"owner": "ann", "title": "x"}}})";
  auto anonymous = client.Post("/notes", body, "application/vnd.api+json");
  REQUIRE(anonymous);
  CHECK(anonymous->status == 403);
  CHECK(anonymous->body.find(R"("code":"forbidden")") != std::string::npos);
  CHECK(anonymous->body.find("actor_present()") != std::string::npos);
  auto listed = client.Get("/notes", {{"X-User", "bob"}});
  REQUIRE(listed);
  CHECK(listed->status == 200);
  auto doc = nlohmann::json::parse(listed->body);
  REQUIRE(doc["data"].size() == 1);
  CHECK(doc["data"][0]["attributes"]["owner"] == "bob");
}

TEST_CASE("The authentication may decide the request's tenant: X-Tenant may only repeat it") {
  Desk desk({.authenticate = by_account});
  auto client = desk.client();
  const std::string body = R"({"data": {"type": "memo", "attributes": {"title": "plan"}}})";
  auto created = client.Post("/memos", {{"X-User", "ann@acme"}}, body, "application/vnd.api+json");
  REQUIRE(created);
  REQUIRE(created->status == 201);
  CHECK(created->body.find(R"("org_id":"acme")") != std::string::npos);
  auto count = [&](const httplib::Headers& headers) {
    auto listed = client.Get("/memos", headers);
    REQUIRE(listed);
    REQUIRE(listed->status == 200);
    return nlohmann::json::parse(listed->body)["data"].size();
  };
  CHECK(count({{"X-User", "ann@acme"}}) == 1);
  CHECK(count({{"X-User", "ann@acme"}, {"X-Tenant", "acme"}}) == 1);
  CHECK(count({{"X-User", "bob@globex"}}) == 0);
  auto crossed = client.Get("/memos", {{"X-User", "bob@globex"}, {"X-Tenant", "acme"}});
  REQUIRE(crossed);
  CHECK(crossed->status == 403);
  CHECK(crossed->body ==
        R"({"errors":[{"status":"403","code":"forbidden","title":"Forbidden",)"
        R"("detail":"names a tenant other than the one the request is authenticated for","source":{"header":"X-Tenant"}}]})");
  auto refused = client.Post("/memos", {{"X-User", "bob@globex"}, {"X-Tenant", "acme"}}, body, "application/vnd.api+json");
  REQUIRE(refused);
  CHECK(refused->status == 403);
  CHECK(desk.engine.read("Memo", {.tenant = "acme"}).value().size() == 1);  // nothing written for bob
  CHECK(desk.engine.read("Memo", {.tenant = "globex"}).value().empty());
  auto stranger = client.Get("/memos", {{"X-User", "carol"}});
  REQUIRE(stranger);
  CHECK(stranger->status == 401);
}
