// ashlar::http::Server through its public API: the routes checked against the domain,
// binding, stopping, and the authentication callback's actor. The routes' behaviour over
// HTTP is api_test.py's.
#include <ashlar/http/server.hpp>

#include "support/blog_domain.hpp"
#include "support/domains.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>
#include <httplib.h>
#include <nlohmann/json.hpp>

using namespace ashlar;
using ashlar::test::TempDir;

namespace {

// The Framework error Server::start returns for `api`.
std::string refused(Engine& engine, const http::Api& api) {
  auto server = http::Server::start(engine, api);
  REQUIRE_FALSE(server);
  CHECK(server.error().cls == ErrorClass::framework);
  return server.error().message;
}

}  // namespace

TEST_CASE("Server::start refuses routes the domain does not have, naming them") {
  TempDir dir;
  auto engine = Engine::open(dir.path(), test::helpdesk_domain()).value();
  http::Api unknown_resource;
  unknown_resource.resource("Widget", "widget", "/widgets").index("read");
  CHECK(refused(engine, unknown_resource) == "routes of an unknown resource \"Widget\"");
  http::Api unknown_action;
  unknown_action.resource("Ticket", "ticket", "/tickets").get("nope");
  CHECK(refused(engine, unknown_action) == "routes of Ticket: no action \"nope\"");
  http::Api wrong_type;
  wrong_type.resource("Ticket", "ticket", "/tickets").post("read");
  CHECK(refused(engine, wrong_type) == "routes of Ticket: action \"read\" is not a create action");
  http::Api unknown_relationship;
  unknown_relationship.resource("Ticket", "ticket", "/tickets").related("author", "read");
  CHECK(refused(engine, unknown_relationship) == "routes of Ticket: no relationship \"author\"");
  http::Api taken;
  taken.resource("Ticket", "ticket", "/tickets").index("read");
  taken.resource("Representative", "ticket", "/representatives").index("read");
  CHECK(refused(engine, taken) == "routes of Representative: type \"ticket\" is empty or taken");
  http::Api bad_path;
  bad_path.resource("Ticket", "ticket", "tickets/").index("read");
  CHECK(refused(engine, bad_path) ==
        "routes of Ticket: base path \"tickets/\" is not /name[/name...] or is taken");
  http::Api bad_route;
  bad_route.resource("Ticket", "ticket", "/tickets").route("PUT", "/x", "read");
  CHECK(refused(engine, bad_route) == "routes of Ticket: action \"read\" is not a generic action");
}

TEST_CASE("Server::start fails naming the address when the port is taken") {
  TempDir dir;
  auto engine = Engine::open(dir.path(), test::helpdesk_domain()).value();
  http::Api api;
  api.resource("Ticket", "ticket", "/tickets").index("read");
  auto first = http::Server::start(engine, api).value();
  REQUIRE(first.port() > 0);
  auto second = http::Server::start(engine, api, {.port = first.port()});
  REQUIRE_FALSE(second);
  CHECK(second.error().cls == ErrorClass::unknown);
  CHECK_THAT(second.error().message, Catch::StartsWith("cannot listen on 127.0.0.1:" + std::to_string(first.port())));
}

TEST_CASE("A server answers until stopped, and its actions run as the authenticated actor") {
  TempDir dir;
  auto engine = Engine::open(dir.path(), test::helpdesk_domain()).value();
  http::Api api;
  api.resource("Representative", "representative", "/representatives").index("read").post("create");
  http::ServerOptions options{.authenticate = [](const http::RequestInfo& request) -> Result<Value> {
    std::string who = request.header("x-user");  // looked up case-insensitively
    if (who == "mallory") return fail(Error::forbidden({}, {}, "mallory is banned"));
    if (who.empty()) return fail(Error::unknown("who are you?"));
    return Value(who);
  }};
  auto server = http::Server::start(engine, api, options).value();
  httplib::Client client("127.0.0.1", server.port());
  client.set_connection_timeout(5);
  client.set_read_timeout(5);
  const std::string body = R"({"data": {"type": "representative", "attributes": {"name": "Rita"}}})";
  auto as = [&](const char* who) {
    return client.Post("/representatives", httplib::Headers{{"X-User", who}}, body, "application/vnd.api+json");
  };
  auto anonymous = client.Get("/representatives");
  REQUIRE(anonymous);
  CHECK(anonymous->status == 401);
  CHECK(anonymous->body ==
        R"({"errors":[{"status":"401","code":"unauthenticated","title":"Unauthorized","detail":"who are you?"}]})");
  auto banned = as("mallory");
  REQUIRE(banned);
  CHECK(banned->status == 403);
  CHECK(engine.read("Representative").value().empty());
  auto created = as("ann");
  REQUIRE(created);
  REQUIRE(created->status == 201);
  auto reps = engine.read("Representative").value();
  REQUIRE(reps.size() == 1);
  CHECK(engine.history("Representative", reps[0].id()).value().at(0).event.actor == Value("ann"));

  server.stop();
  server.stop();  // idempotent
  CHECK_FALSE(client.Get("/representatives"));
}

TEST_CASE("Sensitive attributes never leave the server, in records or in errors") {
  TempDir dir;
  auto engine = Engine::open(dir.path(), test::blog_domain()).value();
  http::Api composite;
  composite.resource("Tag", "tag", "/tags").index("read");
  CHECK(refused(engine, composite) == "routes of Tag: a composite primary key has no JSON:API id");
  http::Api api;
  api.resource("User", "user", "/users").get("read").index("read").post("create");
  auto server = http::Server::start(engine, api).value();
  httplib::Client client("127.0.0.1", server.port());
  client.set_connection_timeout(5);
  client.set_read_timeout(5);
  auto post = [&](const std::string& attributes) {
    return client.Post("/users", R"({"data": {"type": "user", "attributes": )" + attributes + "}}",
                       "application/vnd.api+json");
  };
  auto created = post(R"({"name": "Ann", "password": "hunter2"})");
  REQUIRE(created);
  REQUIRE(created->status == 201);
  CHECK(created->body.find("hunter2") == std::string::npos);
  CHECK(created->body.find("password") == std::string::npos);
  auto listed = client.Get("/users?fields%5Buser%5D=name");
  REQUIRE(listed);
  CHECK(listed->status == 200);
  CHECK(listed->body.find("hunter2") == std::string::npos);
  CHECK(listed->body.find(R"("attributes":{"name":"Ann"})") != std::string::npos);
  auto refused_input = post(R"({"name": "", "email": "nope", "password": ["hunter2"]})");
  REQUIRE(refused_input);
  CHECK(refused_input->status == 422);
  CHECK(refused_input->body.find("hunter2") == std::string::npos);
  CHECK(refused_input->body.find(R"("pointer":"/data/attributes/password")") != std::string::npos);
  CHECK(refused_input->body.find(R"("pointer":"/data/attributes/email")") != std::string::npos);

  // Nor in the order of a page, its cursors, or the answer to a filter: a client may name
  // what the documents show it and nothing else.
  REQUIRE(post(R"({"name": "Bob", "password": "swordfish"})")->status == 201);
  auto unknown = [&](const std::string& query, const std::string& parameter) {
    auto got = client.Get("/users?" + query);
    REQUIRE(got);
    CHECK(got->status == 400);
    CHECK(got->body.find(R"("detail":")" + parameter + R"(: User has no attribute password","source":{"parameter":")" +
                         parameter + R"("})") != std::string::npos);
    CHECK(got->body.find("hunter2") == std::string::npos);
    CHECK(got->body.find("links") == std::string::npos);
  };
  unknown("sort=password&page%5Blimit%5D=1", "sort");
  unknown("sort=-name,password", "sort");
  unknown("filter=password%20%3D%3D%20%22hunter2%22", "filter");
  unknown("filter=name%20%3D%3D%20%22Ann%22%20and%20password%20!%3D%20nil", "filter");
  // Asking by a hidden name is answered as asking by a name there is not.
  auto same_as_missing = [&](const std::string& query) {
    auto hidden = client.Get("/users?" + query);
    std::string missing_query = query;
    missing_query.replace(missing_query.find("password"), 8, "passwort");
    auto missing = client.Get("/users?" + missing_query);
    REQUIRE(hidden);
    REQUIRE(missing);
    CHECK(hidden->status == 400);
    CHECK(hidden->status == missing->status);
    std::string body = hidden->body;
    body.replace(body.find("password"), 8, "passwort");
    CHECK(body == missing->body);
  };
  same_as_missing("fields%5Buser%5D=name,password");
  same_as_missing("filter=password%20%3D%3D%201%20and%20bogus%20%3D%3D%201");
  same_as_missing("sort=name,password,bogus");
  auto paged = client.Get("/users?sort=name&page%5Blimit%5D=1");
  REQUIRE(paged);
  CHECK(paged->status == 200);
  CHECK(paged->body.find(R"("next":"/users?)") != std::string::npos);
  CHECK(paged->body.find(R"("prev":)") == std::string::npos);
  // Skipped to the second record: the page before it is linked, by its cursor.
  auto second = client.Get("/users?sort=name&page%5Blimit%5D=1&page%5Boffset%5D=1");
  REQUIRE(second);
  CHECK(second->status == 200);
  CHECK(second->body.find(R"("attributes":{"name":"Bob")") != std::string::npos);
  CHECK(second->body.find(R"("prev":"/users?page%5Blimit%5D=1&sort=name&page%5Bbefore%5D=)") != std::string::npos);
}

TEST_CASE("A route whose read action sorts by a sensitive attribute pages by offset: its links carry no cursor") {
  using namespace ashlar::dsl;
  TempDir dir;
  auto vault = domain("vault")
                   .resource(resource("Account")
                                 .uuid_primary_key("id")
                                 .attribute("name", type::string)
                                 .attribute("secret", type::string, {.sensitive = true})
                                 .defaults({"destroy", "create:*", "update:*"})
                                 .read("by_secret", {.primary = true, .sort = "secret"}))
                   .build()
                   .value();
  auto engine = Engine::open(dir.path(), vault, {.durability = Durability::no_sync}).value();
  for (const char* name : {"Cy", "Ann", "Bob"})
    engine.create("Account", {{"name", name}, {"secret", std::string("pin-") + name}}).value();
  http::Api api;
  api.resource("Account", "account", "/accounts").index("by_secret");
  auto server = http::Server::start(engine, api).value();
  httplib::Client client("127.0.0.1", server.port());
  client.set_connection_timeout(5);
  client.set_read_timeout(5);
  auto page = [&](const std::string& path) {
    auto got = client.Get(path);
    REQUIRE(got);
    REQUIRE(got->status == 200);
    return nlohmann::json::parse(got->body);
  };
  std::vector<std::string> names;
  std::string path = "/accounts?page%5Blimit%5D=2";
  std::vector<std::string> prevs;
  for (int pages = 0; pages < 5 && !path.empty(); ++pages) {
    auto doc = page(path);
    CHECK(doc.dump().find("pin-") == std::string::npos);
    for (const auto& r : doc["data"]) names.push_back(r["attributes"]["name"]);
    prevs.push_back(doc["links"].value("prev", ""));
    path = doc["links"].value("next", "");
  }
  CHECK(names == std::vector<std::string>{"Ann", "Bob", "Cy"});  // in the secret's order, never shown
  CHECK(prevs == std::vector<std::string>{"", "/accounts?page%5Blimit%5D=2&page%5Boffset%5D=0"});
  auto refused = client.Get("/accounts?page%5Bafter%5D=W10%3D");
  REQUIRE(refused);
  CHECK(refused->status == 400);
}

TEST_CASE("DELETE takes the destroy action's arguments in an optional body") {
  TempDir dir;
  using namespace ashlar::dsl;
  auto d = domain("d")
               .resource(resource("Account")
                             .uuid_primary_key("id")
                             .attribute("name", type::string)
                             .attribute("closed_because", type::string)
                             .defaults({"read", "create:*", "destroy"})
                             .destroy("archive", {.arguments = {argument("reason", type::string, {.allow_nil = false})},
                                                  .steps = {changes::set_attribute("closed_because", arg("reason"))},
                                                  .soft = true}))
               .build()
               .value();
  auto engine = Engine::open(dir.path(), d, {.durability = Durability::no_sync}).value();
  http::Api api;
  api.resource("Account", "account", "/accounts").destroy("archive");
  auto server = http::Server::start(engine, api).value();
  httplib::Client client("127.0.0.1", server.port());
  client.set_connection_timeout(5);
  client.set_read_timeout(5);
  auto a = engine.create("Account", {{"name", "a"}}).value();
  std::string path = "/accounts/" + a.id().str();
  const char* type = "application/vnd.api+json";

  auto missing = client.Delete(path.c_str());
  REQUIRE(missing);
  CHECK(missing->status == 422);
  auto errors = nlohmann::json::parse(missing->body)["errors"];
  CHECK(errors[0]["code"] == "required");
  CHECK(errors[0]["source"]["pointer"] == "/data/attributes/reason");
  auto unknown = client.Delete(path.c_str(), R"({"data": {"type": "account", "attributes": {"colour": "red"}}})", type);
  REQUIRE(unknown);
  CHECK(unknown->status == 422);
  CHECK(engine.get("Account", a.id()).value()["closed_because"].is_null());

  auto archived = client.Delete(path.c_str(), R"({"data": {"type": "account", "attributes": {"reason": "spam"}}})", type);
  REQUIRE(archived);
  CHECK(archived->status == 200);
  CHECK(engine.get("Account", a.id()).value()["closed_because"] == Value("spam"));
}

TEST_CASE("Hostile bodies get a 422 naming the field, leave the log as it was, and the server keeps answering") {
  TempDir dir;
  using namespace ashlar::dsl;
  auto d = domain("d")
               .resource(resource("T")
                             .uuid_primary_key("id")
                             .attribute("n", type::integer)
                             .attribute("meta", type::map)
                             .defaults({"read", "create:*"}))
               .build()
               .value();
  auto engine = Engine::open(dir.path(), d, {.durability = Durability::no_sync}).value();
  http::Api api;
  api.resource("T", "t", "/t").get("read").index("read").post("create");
  auto server = http::Server::start(engine, api).value();
  httplib::Client client("127.0.0.1", server.port());
  client.set_connection_timeout(5);
  client.set_read_timeout(30);
  const char* type = "application/vnd.api+json";
  auto head = [&] { return engine.log().head().value().position; };
  const auto before = head();

  // Nested far past anything storable (and past what recursing through it would survive).
  constexpr int kDepth = 200000;
  std::string body = R"({"data": {"type": "t", "attributes": {"meta": {"a": )";
  body += std::string(kDepth, '[') + std::string(kDepth, ']') + "}}}}";
  auto deep = client.Post("/t", body, type);
  REQUIRE(deep);
  CHECK(deep->status == 422);
  auto error = nlohmann::json::parse(deep->body)["errors"][0];
  CHECK(error["code"] == "too_complex");
  CHECK(error["source"]["pointer"] == "/data/attributes/meta");

  // An integer past int64 is not wrapped into a negative one.
  for (const char* n : {"9223372036854775808", "18446744073709551615"}) {
    auto big = client.Post("/t", std::string(R"({"data": {"type": "t", "attributes": {"n": )") + n + "}}}", type);
    REQUIRE(big);
    CHECK(big->status == 422);
    auto e = nlohmann::json::parse(big->body)["errors"][0];
    CHECK(e["code"] == "invalid_type");
    CHECK(e["detail"] == "n: expected integer, got float");
  }
  CHECK(head() == before);

  auto fine = client.Post("/t", R"({"data": {"type": "t", "attributes": {"n": 9223372036854775807}}})", type);
  REQUIRE(fine);
  CHECK(fine->status == 201);
  auto index = client.Get("/t");
  REQUIRE(index);
  CHECK(index->status == 200);
  CHECK(nlohmann::json::parse(index->body)["data"][0]["attributes"]["n"] == 9223372036854775807LL);
}
