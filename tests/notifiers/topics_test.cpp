// Topics: general to specific by default; per-action templates with attribute values,
// validated when the domain is built, published under the old and the new value.
#include "notify_helpers.hpp"

using namespace ashlar;
using namespace ashlar::test;
using namespace ashlar::dsl;

namespace {

ResourceBuilder ticket() {
  return resource("Ticket")
      .uuid_primary_key("id")
      .attribute("subject", type::string, {.allow_nil = false})
      .attribute("status", type::atom, {.default_value = Atom{"open"}, .constraints = {.one_of = {"open", "closed"}}})
      .attribute("priority", type::integer, {.default_value = 1})
      .attribute("secret", type::string, {.sensitive = true})
      .attribute("labels", type::array(type::string))
      .defaults({"read", "destroy", "create:*", "update:*"});
}

Domain helpdesk() {
  return domain("helpdesk")
      .resource(ticket()
                    .publish("create", {"created", ":id"})
                    .publish("update", {"status", ":status", ":id"})
                    .publish("destroy", {"status", ":status", ":id"}))
      .resource(resource("Note").uuid_primary_key("id").attribute("text", type::string).defaults({"create:*"}))
      .build()
      .value();
}

// Tasks of organizations, published under their tenant: a subscriber selects one tenant's.
Domain saas() {
  return domain("saas")
      .resource(resource("Task")
                    .uuid_primary_key("id")
                    .attribute("org_id", type::string)
                    .attribute("title", type::string)
                    .attribute("status", type::atom, {.default_value = Atom{"open"}})
                    .multitenancy({.strategy = Multitenancy::attribute, .attribute = "org_id", .global = true})
                    .defaults({"read", "destroy", "create:*", "update:*"})
                    .publish("create", {":tenant", "created", ":id"})
                    .publish("update", {":tenant", "status", ":status"}))
      .build()
      .value();
}

Event ticket_event(ActionType type, std::string action, Fields changes, std::uint64_t version = 2) {
  Event e;
  e.domain = "helpdesk";
  e.resource = "Ticket";
  e.action = std::move(action);
  e.type = type;
  e.version = version;
  e.key = {{"id", "k1"}};
  e.changes = std::move(changes);
  return e;
}

}  // namespace

TEST_CASE("default topics go from domain to resource, action and key") {
  CHECK(topic_prefix("blog") == "blog.");
  CHECK(topic_prefix("blog", "User") == "blog.User.");
  CHECK(topic_prefix("blog", "User", "create") == "blog.User.create.");

  Event e;
  e.domain = "blog";
  e.resource = "Tag";
  e.action = "create";
  e.key = {{"scope", "acme"}, {"name", "urgent"}};
  CHECK(default_topic(e) == "blog.Tag.create.acme.urgent");
  auto id = *Uuid::parse("5f0c3a9e-0000-4000-8000-000000000001");
  e.key = {{"id", id}};
  CHECK(default_topic(e) == "blog.Tag.create.5f0c3a9e-0000-4000-8000-000000000001");

  CHECK(topic_text(Value()) == "");
  CHECK(topic_text(Value(42)) == "42");
  CHECK(topic_text(Value(-1.5)) == "-1.5");
  CHECK(topic_text(Value(true)) == "true");
  CHECK(topic_text(Value(Atom{"open"})) == "open");
  CHECK(topic_text(Value(Binary{"\x01\xab"})) == "01ab");
  CHECK(topic_text(Value(*Date::parse("2026-11-21"))) == "2026-11-21");
}

TEST_CASE("topic templates are validated when the domain is built, every mistake at once") {
  auto built = domain("helpdesk")
                   .resource(ticket()
                                 .publish("reopen", {"x"})
                                 .publish("read", {"x"})
                                 .publish("create", {})
                                 .publish("update", {"a.b", ":nope", ":secret", ":labels", "ok", ""}))
                   .build();
  REQUIRE_FALSE(built.has_value());
  const auto& fields = built.error().fields;
  std::vector<std::pair<std::string, std::string>> got;
  for (const auto& f : fields) got.emplace_back(f.field, f.code);
  CHECK(got == std::vector<std::pair<std::string, std::string>>{
                   {"Ticket.publish.reopen", "unknown_action"},
                   {"Ticket.publish.read", "not_publishable"},
                   {"Ticket.publish.create", "empty_topic"},
                   {"Ticket.publish.update", "invalid_topic"},
                   {"Ticket.publish.update", "unknown_attribute"},
                   {"Ticket.publish.update", "sensitive_in_topic"},
                   {"Ticket.publish.update", "invalid_topic"},
                   {"Ticket.publish.update", "invalid_topic"}});
  CHECK(built.error().field("Ticket.publish.update")->message ==
        "the topic part \"a.b\" must be a non-empty literal without \".\" or white space, \":attribute\" or "
        "\":tenant\"");
}

TEST_CASE("a templated update is published under the old and the new value of a changed attribute") {
  Domain d = helpdesk();
  const Resource& r = *d.resource("Ticket");
  CHECK(template_attributes(r, "update") == std::vector<std::string>{"status"});
  CHECK(template_attributes(r, "create").empty());  // :id is the key, always in the event

  auto create = ticket_event(ActionType::create, "create", {{"id", "k1"}, {"status", Atom{"open"}}}, 1);
  CHECK(event_topics(r, create, {}) == std::vector<std::string>{"helpdesk.Ticket.created.k1"});

  Fields before = {{"status", Atom{"open"}}};
  auto same = ticket_event(ActionType::update, "update", {{"priority", 3}});
  CHECK(event_topics(r, same, before) == std::vector<std::string>{"helpdesk.Ticket.status.open.k1"});
  auto closed = ticket_event(ActionType::update, "update", {{"status", Atom{"closed"}}});
  CHECK(event_topics(r, closed, before) ==
        std::vector<std::string>{"helpdesk.Ticket.status.open.k1", "helpdesk.Ticket.status.closed.k1"});
  auto destroy = ticket_event(ActionType::destroy, "destroy", {}, 3);
  CHECK(event_topics(r, destroy, {{"status", Atom{"closed"}}}) ==
        std::vector<std::string>{"helpdesk.Ticket.status.closed.k1"});
}

TEST_CASE("templated topics are published with values from the record's history, and a subscriber "
          "gets each event once") {
  TempDir dir;
  auto endpoints = ipc_endpoints(dir);
  auto source = publishing_source(dir.sub("store"), endpoints, helpdesk());
  RawSubscriber raw(endpoints.publish, "helpdesk.");
  raw.wait_for_heartbeat();
  auto sub = Subscriber::connect({.publish = endpoints.publish, .replay = endpoints.replay,
                                  .resource = "Ticket"})
                 .value();
  wait_until_live(*sub);

  auto id = source.create("Ticket", {{"subject", "printer"}});  // status: open, the default
  std::string k = id.as_uuid()->str();
  source.update("Ticket", id, {{"priority", 2}});
  source.update("Ticket", id, {{"status", Atom{"closed"}}});
  source.destroy("Ticket", id);
  source.create("Note", {{"text", "untemplated"}});

  auto messages = raw.receive(6);
  std::vector<std::string> topics;
  for (const auto& [topic, body] : messages) topics.push_back(topic);
  REQUIRE(topics.size() == 6);
  CHECK(topics[0] == "helpdesk.Ticket.created." + k);
  CHECK(topics[1] == "helpdesk.Ticket.status.open." + k);
  CHECK(topics[2] == "helpdesk.Ticket.status.open." + k);  // the same event, old value
  CHECK(topics[3] == "helpdesk.Ticket.status.closed." + k);  // ... and new value
  CHECK(messages[2].second == messages[3].second);
  CHECK(topics[4] == "helpdesk.Ticket.status.closed." + k);
  CHECK(topics[5].rfind("helpdesk.Note.create.", 0) == 0);

  auto events = take(*sub, 4);
  for (std::size_t i = 0; i < events.size(); ++i) CHECK(events[i].event.sequence == i + 1);
  expect_quiet(*sub);
  CHECK(sub->stats().duplicates >= 1);
}

TEST_CASE("a :tenant topic part is the event's tenant, and _ for an event without one") {
  Domain d = saas();
  const Resource& r = *d.resource("Task");
  CHECK(template_attributes(r, "update") == std::vector<std::string>{"status"});  // not an attribute
  CHECK(template_attributes(r, "create").empty());

  Event e;
  e.domain = "saas";
  e.resource = "Task";
  e.action = "create";
  e.type = ActionType::create;
  e.key = {{"id", "k1"}};
  e.tenant = "acme";
  CHECK(event_topics(r, e, {}) == std::vector<std::string>{"saas.Task.acme.created.k1"});
  e.tenant = "";
  CHECK(event_topics(r, e, {}) == std::vector<std::string>{"saas.Task._.created.k1"});
  CHECK(tenant_topic_text("") == "_");
  CHECK(tenant_topic_text("globex") == "globex");

  e.action = "update";
  e.type = ActionType::update;
  e.tenant = "globex";
  e.changes = {{"status", Atom{"done"}}};
  CHECK(event_topics(r, e, {{"status", Atom{"open"}}}) ==
        std::vector<std::string>{"saas.Task.globex.status.open", "saas.Task.globex.status.done"});

  // Accepted on a resource that has no tenant at all: its events put "_" there.
  auto note = domain("n")
                  .resource(resource("Note").uuid_primary_key("id").defaults({"create:*"}).publish(
                      "create", {"noted", ":tenant"}))
                  .build();
  REQUIRE(note.has_value());
  e = Event{};
  e.domain = "n";
  e.resource = "Note";
  e.action = "create";
  e.key = {{"id", "k2"}};
  CHECK(event_topics(*note->resource("Note"), e, {}) == std::vector<std::string>{"n.Note.noted._"});
}

TEST_CASE("a prefix subscription to one tenant's topics receives that tenant's events only") {
  TempDir dir;
  auto endpoints = ipc_endpoints(dir);
  auto source = publishing_source(dir.sub("store"), endpoints, saas());
  RawSubscriber acme(endpoints.publish, "saas.Task.acme.");
  RawSubscriber none(endpoints.publish, "saas.Task._.");
  acme.wait_for_heartbeat();
  none.wait_for_heartbeat();

  auto create = [&](const std::string& tenant, const std::string& title) {
    Event e = source.creation("Task", {{"title", title}, {"org_id", tenant.empty() ? Value() : Value(tenant)}});
    e.tenant = tenant;
    return source.commit({e}).front();
  };
  auto a1 = create("acme", "a1");
  create("globex", "g1");
  create("", "global");
  Event done = source.updating("Task", a1.event.key.front().second, {{"status", Atom{"done"}}});
  done.tenant = "acme";
  auto a2 = source.commit({done}).front();
  create("initech", "i1");

  std::string k = a1.event.key.front().second.as_uuid()->str();
  auto got = acme.receive(4, 1s);  // asks for more than come: only acme's 3 messages arrive
  std::vector<std::string> topics;
  for (const auto& [topic, body] : got) topics.push_back(topic);
  CHECK(topics == std::vector<std::string>{"saas.Task.acme.created." + k, "saas.Task.acme.status.open",
                                           "saas.Task.acme.status.done"});
  REQUIRE(got.size() == 3);
  CHECK(decode_event(got[0].second).value().position == a1.event.position);
  CHECK(decode_event(got[2].second).value().position == a2.event.position);

  auto untenanted = none.receive(2, 500ms);
  REQUIRE(untenanted.size() == 1);
  CHECK(decode_event(untenanted[0].second).value().tenant == "");
  CHECK(untenanted[0].first.rfind("saas.Task._.created.", 0) == 0);
}
