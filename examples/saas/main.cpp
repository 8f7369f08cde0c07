// The saas example: organizations, their members with roles, and each organization's
// projects and tasks — three tenants in one store. Policies say who may do what (members
// read their organization's projects and tasks, only admins and owners create projects,
// a task's assignee or an admin updates it); the tenant each call gives keeps one
// organization's records from another's; and a subscriber follows one tenant's stream.
//
//   build/bin/saas ./saas-data
//   build/bin/ashlar log ./saas-data --tenant globex

#include <ashlar/ashlar.hpp>
#include <ashlar/notifiers/subscriber.hpp>

#include <filesystem>
#include <iostream>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using namespace ashlar;
using namespace ashlar::dsl;

const MultitenancyDecl kByOrg{.strategy = Multitenancy::attribute, .attribute = "org_id"};
const std::vector<std::string> kDefaults{"read", "destroy", "create:*", "update:*"};

// The actor is a membership: {"id": <Member id>, "role": owner | admin | member, "org": slug}.
Check is_member_here() { return expr(exists("members", ref("id") == actor("id"))); }
Check of_actors_org() { return expr(ref("org_id") == actor("org")); }
Check has_role(const char* role) { return actor_attribute_equals("role", Atom{role}); }

Domain saas_domain() {
  return domain("saas")
      .resource(resource("Organization")  // not multitenant: the tenants themselves
                    .attribute("slug", type::string, {.allow_nil = false, .primary_key = true})
                    .attribute("name", type::string, {.allow_nil = false})
                    .has_many("projects", "Project", {.no_attributes = true})
                    .defaults(kDefaults))
      .resource(resource("Member")
                    .uuid_primary_key("id")
                    .attribute("org_id", type::string)
                    .attribute("name", type::string, {.allow_nil = false})
                    .attribute("role", type::atom, {.allow_nil = false,
                                                    .constraints = {.one_of = {"owner", "admin", "member"}}})
                    .identity("unique_name", {"name"})  // per organization
                    .multitenancy(kByOrg)
                    .defaults(kDefaults))
      .resource(resource("Project")
                    .uuid_primary_key("id")
                    .attribute("org_id", type::string)
                    .attribute("name", type::string, {.allow_nil = false})
                    .has_many("tasks", "Task")
                    .has_many("members", "Member", {.source_attribute = "org_id", .destination_attribute = "org_id"})
                    .aggregate("task_count", AggregateKind::count, "tasks")
                    .multitenancy(kByOrg)
                    .defaults(kDefaults)
                    .publish("create", {":tenant", "project", ":id"})
                    .policy(action_type(ActionType::read), {authorize_if(is_member_here())}, "members read")
                    .policy(action_type(ActionType::create),
                            {authorize_if(has_role("owner")), authorize_if(has_role("admin"))},
                            "owners and admins create projects"))
      .resource(resource("Task")
                    .uuid_primary_key("id")
                    .attribute("org_id", type::string)
                    .attribute("title", type::string, {.allow_nil = false})
                    .attribute("status", type::atom, {.default_value = Atom{"open"},
                                                      .constraints = {.one_of = {"open", "done"}}})
                    .belongs_to("project", "Project")
                    .belongs_to("assignee", "Member")
                    .multitenancy(kByOrg)
                    .defaults(kDefaults)
                    .publish("create", {":tenant", "task", ":id"})
                    .publish("update", {":tenant", "task", ":id"})
                    .policy(action_type(ActionType::read), {authorize_if(of_actors_org())}, "members read")
                    .policy(action_type(ActionType::create), {authorize_if(of_actors_org())}, "members create tasks")
                    .policy(action_type(ActionType::update),
                            {authorize_if(expr(ref("assignee_id") == actor("id"))), authorize_if(has_role("admin"))},
                            "the assignee or an admin updates"))
      .build()
      .value();
}

std::string text(const Value& value) { return value.as_string() ? *value.as_string() : value.str(); }

void expect(bool holds, const std::string& what) {
  if (!holds) throw std::runtime_error("expected " + what);
}

// One organization: its slug (the tenant), its members by role as actors.
struct Org {
  std::string slug;
  std::map<std::string, Value> actors;  // "owner", "admin", "member" → the actor
  std::map<std::string, Value> ids;     // ... → the Member's id
};

Org found(Engine& engine, const std::string& slug, const std::string& name) {
  engine.create("Organization", {{"slug", slug}, {"name", name}}).value();
  Org org{slug, {}, {}};
  for (const char* role : {"owner", "admin", "member"}) {
    auto m = engine.create("Member", {{"name", std::string(role) + "@" + slug}, {"role", Atom{role}}},
                           {.tenant = slug}).value();
    org.actors[role] = Value(Map{{"id", m.id()}, {"role", Atom{role}}, {"org", slug}});
    org.ids[role] = m.id();
  }
  return org;
}

// The projects and tasks an organization's owner creates, the tasks assigned to its member.
void fill(Engine& engine, const Org& org, int projects) {
  for (int p = 1; p <= projects; ++p) {
    auto project = engine.create("Project", {{"name", org.slug + " project " + std::to_string(p)}},
                                 {.actor = org.actors.at("owner"), .tenant = org.slug}).value();
    for (int t = 1; t <= 2; ++t)
      engine.create("Task", {{"title", "task " + std::to_string(t)}, {"project_id", project.id()},
                             {"assignee_id", org.ids.at("member")}},
                    {.actor = org.actors.at("member"), .tenant = org.slug}).value();
  }
}

int run(const std::string& dir) {
  std::filesystem::create_directories(dir);
  std::string pub = "ipc://" + dir + "/pub.sock", replay = "ipc://" + dir + "/replay.sock";
  auto engine = Engine::open(dir, saas_domain(), {.publish = {.endpoints = {pub}, .replay = replay,
                                                              .heartbeat = std::chrono::milliseconds(50)}}).value();
  std::vector<Org> orgs = {found(engine, "acme", "Acme Corp"), found(engine, "globex", "Globex"),
                           found(engine, "initech", "Initech")};
  fill(engine, orgs[0], 2);

  // Follows globex from the beginning: its history from the replay service, then live.
  auto sub = Subscriber::connect({.publish = pub, .replay = replay, .tenant = "globex"}).value();
  fill(engine, orgs[1], 3);
  fill(engine, orgs[2], 1);

  std::cout << "each tenant sees its own:\n";
  for (const auto& org : orgs) {
    auto projects = engine.read("Project", {.sort = {SortKey::asc("name")}, .load = {"task_count"},
                                            .actor = org.actors.at("member"), .tenant = org.slug})
                        .value();
    std::cout << "  " << org.slug << ": " << projects.size() << " project(s):";
    for (const auto& p : projects) {
      expect(p["org_id"] == Value(org.slug), "only " + org.slug + "'s projects");
      std::cout << " \"" << text(p["name"]) << "\" (" << text(p["task_count"]) << " tasks)";
    }
    std::cout << "\n";
  }
  auto peek = engine.read("Project", {.actor = orgs[0].actors.at("owner"), .tenant = "globex"}).value();
  std::cout << "  acme's owner reading in globex: " << peek.size() << " project(s) (not a member there)\n";
  expect(peek.empty(), "no globex project for acme's owner");

  std::cout << "\nwho may write:\n";
  auto refused = engine.create("Project", {{"name", "side project"}},
                               {.actor = orgs[0].actors.at("member"), .tenant = "acme"});
  expect(!refused && refused.error().cls == ErrorClass::forbidden, "a member's project to be forbidden");
  std::cout << "  acme's member creates a project: " << refused.error().describe() << "\n";

  auto task = engine.read("Task", {.actor = orgs[0].actors.at("owner"), .tenant = "acme"}).value().at(0);
  auto by_owner = engine.update("Task", task.id(), {{"status", Atom{"done"}}},
                                {.actor = orgs[0].actors.at("owner"), .tenant = "acme"});
  expect(!by_owner && by_owner.error().cls == ErrorClass::forbidden, "the owner's task update to be forbidden");
  std::cout << "  acme's owner (not the assignee) closes a task: " << by_owner.error().describe() << "\n";
  engine.update("Task", task.id(), {{"status", Atom{"done"}}}, {.actor = orgs[0].actors.at("member"),
                                                                .tenant = "acme"}).value();
  std::cout << "  acme's member, the assignee, closes it: done\n";
  auto other = engine.update("Task", task.id(), {{"status", Atom{"open"}}},
                             {.actor = orgs[1].actors.at("admin"), .tenant = "globex"});
  expect(!other && other.error().cls == ErrorClass::not_found, "acme's task to be NotFound in globex");
  std::cout << "  globex's admin reopens it in globex: " << other.error().describe() << "\n";

  // globex: 3 members, then 3 projects of 2 tasks each.
  std::cout << "\nthe subscriber following globex received:\n";
  std::map<std::string, int> counts;
  for (int received = 0; received < 12;) {
    auto next = sub->next(std::chrono::seconds(2)).value();
    expect(next.has_value(), "globex's 12 events within 2 s each");
    expect(next->event.tenant == "globex", "globex's events only");
    ++counts[next->event.resource + "." + next->event.action];
    ++received;
  }
  for (const auto& [what, n] : counts) std::cout << "  " << n << " x " << what << "\n";
  expect(!sub->next(std::chrono::milliseconds(200)).value(), "nothing after globex's 12 events");
  std::cout << "  and nothing of acme's or initech's (" << engine.log().head().value().position
            << " events in the log)\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: " << argv[0] << " DIR\n"
              << "  runs the organizations, projects and tasks story against the ashlar store in DIR\n";
    return 2;
  }
  // The .value() calls above throw on an error, and expect() on a step that does not do
  // what it shows: either is a failure of the example.
  try {
    return run(argv[1]);
  } catch (const std::exception& e) {
    std::cerr << "saas: " << e.what() << "\n";
    return 1;
  }
}
