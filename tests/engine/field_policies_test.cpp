// Field policies, after Ash's field_policies: a field the actor may not read comes back as
// Value::forbidden() from every read path and from actions, aggregates and calculations
// built on it are forbidden too, and a filter or sort on it is refused so that its value
// cannot be learned by asking.
#include "support/engine_helpers.hpp"
#include "support/temp_dir.hpp"

#include <ashlar/ashlar.hpp>
#include <ashlar/model/json.hpp>

#include <catch2/catch.hpp>

using namespace ashlar;
using namespace ashlar::dsl;
using ashlar::test::TempDir;

namespace {

Value user(const Value& id, const char* role = "member") {
  return Value(Map{{"id", id}, {"role", Value(Atom{role})}});
}

const Value kHr = user(Value(Uuid::v4()), "hr");

// Salaries: HR reads them all, everyone their own (a filter check, decided per record);
// notes: HR only.
Domain staff_domain() {
  return domain("staff")
      .resource(resource("Dept")
                    .uuid_primary_key("id")
                    .attribute("name", type::string)
                    .has_many("employees", "Employee")
                    .aggregate("payroll", AggregateKind::sum, "employees", "salary")
                    .aggregate("headcount", AggregateKind::count, "employees")
                    .defaults({"read", "create:*"})
                    .policy(always(), {authorize_if(always())}))
      .resource(resource("Employee")
                    .uuid_primary_key("id")
                    .attribute("name", type::string)
                    .attribute("salary", type::integer)
                    .attribute("notes", type::string)
                    .belongs_to("dept", "Dept")
                    .identity("by_name", {"name"})
                    .calculate("salary_k", type::floating, ref("salary") / 1000)
                    .calculate("shout", type::string, ref("name"))
                    .defaults({"read", "destroy", "create:*", "update:*"})
                    .policy(always(), {authorize_if(always())})
                    .field_policy({"salary"}, always(),
                                  {authorize_if(actor_attribute_equals("role", Atom{"hr"})),
                                   authorize_if(expr(ref("id") == actor("id")))},
                                  "hr and self")
                    .field_policy({"notes"}, always(), {authorize_if(actor_attribute_equals("role", Atom{"hr"}))}))
      .build()
      .value();
}

struct World {
  TempDir dir;
  Engine engine = Engine::open(dir.path(), staff_domain(), {.durability = Durability::no_sync}).value();
  Value dept = engine.create("Dept", {{"name", "ops"}}, {.authorize = false}).value().id();
  Value alice = engine.create("Employee", {{"name", "alice"}, {"salary", 3000}, {"notes", "n1"}, {"dept_id", dept}},
                              {.authorize = false}).value().id();
  Value bob = engine.create("Employee", {{"name", "bob"}, {"salary", 900}, {"notes", "n2"}, {"dept_id", dept}},
                            {.authorize = false}).value().id();
  Record employee(const Value& id, const Value& actor) {
    return engine.get("Employee", id, {.load = {"salary_k", "shout"}, .actor = actor}).value();
  }
};

const char* kRefusedSalary =
    "filtering or sorting on Employee.salary is forbidden: the actor may not read it on every record";

}  // namespace

TEST_CASE("field policies: a field the actor may not read is forbidden, record by record") {
  World w;
  Value alice = user(w.alice);
  Record own = w.employee(w.alice, alice);
  Record other = w.employee(w.bob, alice);
  CHECK(own["salary"] == Value(3000));  // her own: the filter check holds
  CHECK_FALSE(own.is_forbidden("salary"));
  CHECK(other.is_forbidden("salary"));
  CHECK(other["salary"] == Value::forbidden());
  CHECK_FALSE(other["salary"].is_null());
  CHECK(other["salary"] != Value(900));
  CHECK(own.is_forbidden("notes"));
  CHECK(other.is_forbidden("notes"));
  CHECK(other["name"] == Value("bob"));  // no field policy names it: readable
  CHECK(other.id() == w.bob);      // the primary key is always readable
  // A calculation over a forbidden field is forbidden on that record only.
  CHECK(own["salary_k"] == Value(3.0));
  CHECK(other.is_forbidden("salary_k"));
  CHECK(other["shout"] == Value("bob"));
  // Distinct in every printed form.
  CHECK(other["salary"].str() == "#forbidden");
  CHECK(value_to_json(other["salary"]).dump() == R"({"$forbidden":true})");

  Record hr = w.employee(w.bob, kHr);
  CHECK(hr["salary"] == Value(900));
  CHECK(hr["notes"] == Value("n2"));
  CHECK(hr["salary_k"] == Value(0.9));

  // read and get_by too.
  auto all = w.engine.read("Employee", {.sort = {SortKey::asc("name")}, .actor = alice}).value();
  REQUIRE(all.size() == 2);
  CHECK(all[0]["salary"] == Value(3000));
  CHECK(all[1].is_forbidden("salary"));
  auto by_name = w.engine.get_by("Employee", "by_name", {{"name", "bob"}}, {.actor = alice}).value();
  CHECK(by_name.is_forbidden("salary"));
  CHECK(w.engine.get_by("Employee", "by_name", {{"name", "bob"}}, {.actor = kHr}).value()["salary"] == Value(900));
  // With no actor: neither check holds.
  CHECK(w.engine.get("Employee", w.alice).value().is_forbidden("salary"));
}

TEST_CASE("field policies: authorize = false returns every field") {
  World w;
  auto rows = w.engine.read("Employee", {.sort = {SortKey::asc("salary")}, .authorize = false}).value();
  REQUIRE(rows.size() == 2);
  CHECK(rows[0]["salary"] == Value(900));
  CHECK(rows[0]["notes"] == Value("n2"));
  auto got = w.engine.get("Employee", w.bob, {.actor = user(w.alice), .authorize = false}).value();
  CHECK(got["salary"] == Value(900));
}

TEST_CASE("field policies: filtering or sorting on a forbidden field is refused, not answered") {
  World w;
  Value alice = user(w.alice);
  // Were it answered, the count would tell alice whether bob earns more than 1000.
  auto filtered = w.engine.read("Employee", {.filter = ref("salary") > 1000, .actor = alice});
  REQUIRE_FALSE(filtered);
  CHECK(filtered.error().cls == ErrorClass::forbidden);
  CHECK(filtered.error().code == "forbidden");
  CHECK(filtered.error().resource == "Employee");
  CHECK(filtered.error().message == kRefusedSalary);
  auto sorted = w.engine.read("Employee", {.sort = {SortKey::desc("salary")}, .actor = alice});
  REQUIRE_FALSE(sorted);
  CHECK(sorted.error().message == kRefusedSalary);
  // Through a calculation, an aggregate in the filter, a relationship path, a named
  // aggregate and a load's own filter alike.
  CHECK(w.engine.read("Employee", {.filter = ref("salary_k") > 0, .actor = alice}).error().message == kRefusedSalary);
  CHECK(w.engine.read("Dept", {.filter = sum("employees", "salary") > 1000, .actor = alice}).error().message ==
        kRefusedSalary);
  CHECK(w.engine.read("Dept", {.filter = ref("payroll") > 1000, .actor = alice}).error().message == kRefusedSalary);
  CHECK(w.engine.read("Employee", {.filter = ref("dept.payroll") > 1000, .actor = alice}).error().message ==
        kRefusedSalary);
  auto in_load = w.engine.read("Dept", {.load = {Load("employees", {.filter = ref("notes") == "n2"})}, .actor = alice});
  REQUIRE_FALSE(in_load);
  CHECK(in_load.error().message ==
        "filtering or sorting on Employee.notes is forbidden: the actor may not read it on every record");
  // A get by a forbidden field's value is refused the same way.
  CHECK(w.engine.get("Employee", w.bob, {.filter = ref("salary") == 900, .actor = alice}).error().message ==
        kRefusedSalary);

  // Who may read it on every record filters and sorts as usual; readable fields always do.
  auto rich = w.engine.read("Employee", {.filter = ref("salary") > 1000, .actor = kHr}).value();
  REQUIRE(rich.size() == 1);
  CHECK(rich[0]["name"] == Value("alice"));
  CHECK(w.engine.read("Employee", {.filter = ref("name") == "bob", .actor = alice}).value().size() == 1);
  CHECK(w.engine.read("Dept", {.filter = ref("headcount") == 2, .actor = alice}).value().size() == 1);
  CHECK(w.engine.read("Employee", {.filter = ref("salary") > 1000, .actor = alice, .authorize = false}).value().size() ==
        1);
}

TEST_CASE("field policies: loads, related records and aggregates over forbidden fields") {
  World w;
  Value alice = user(w.alice);
  auto dept = w.engine.get("Dept", w.dept, {.load = {"employees", "payroll", "headcount"}, .actor = alice}).value();
  CHECK(dept.is_forbidden("payroll"));  // sums a salary she may not read on every record
  CHECK(dept["headcount"] == Value(2));
  REQUIRE(dept.related("employees").size() == 2);
  for (const auto& e : dept.related("employees")) {
    if (e.id() == w.alice) CHECK(e["salary"] == Value(3000));
    else CHECK(e.is_forbidden("salary"));
    CHECK(e.is_forbidden("notes"));
  }
  auto hr = w.engine.get("Dept", w.dept, {.load = {"employees", "payroll"}, .actor = kHr}).value();
  CHECK(hr["payroll"] == Value(3900));
  for (const auto& e : hr.related("employees")) CHECK_FALSE(e.is_forbidden("salary"));

  // Engine::load, and a to-one relationship loaded from the other side.
  auto read = w.engine.read("Employee", {.sort = {SortKey::asc("name")}, .actor = alice}).value();
  auto loaded = w.engine.load(read, {"dept"}, alice).value();
  CHECK(loaded[1].is_forbidden("salary"));
  REQUIRE(loaded[1].one("dept"));
  auto depts = w.engine.load({w.engine.get("Employee", w.bob, {.authorize = false}).value()}, {"dept"}, alice).value();
  CHECK(depts[0].is_forbidden("salary"));  // records given to load come back as the actor reads them
}

TEST_CASE("field policies: a load's filter cannot reach a guarded field through parent(...) or another action") {
  World w;
  Value alice = user(w.alice);
  // parent(...) in a load's filter is the record it is loaded for: Employee.salary here.
  auto through_parent = w.engine.read(
      "Employee", {.load = {Load("dept", {.filter = parse_expr("parent(salary) > 1000").value()})}, .actor = alice});
  REQUIRE_FALSE(through_parent);
  CHECK(through_parent.error().cls == ErrorClass::forbidden);
  CHECK(through_parent.error().message == kRefusedSalary);
  // Two levels out, from inside an aggregate of the loaded dept: the employee again.
  auto two_out = w.engine.read(
      "Employee",
      {.load = {Load("dept", {.filter = parse_expr("exists(employees, parent(parent(salary)) > 1000)").value()})},
       .actor = alice});
  REQUIRE_FALSE(two_out);
  CHECK(two_out.error().message == kRefusedSalary);
  // Where the actor may read it, parent(parent(...)) in the aggregate is that employee.
  auto two_out_hr = w.engine
                        .read("Employee", {.sort = {SortKey{"name"}},
                                           .load = {Load("dept", {.filter = parse_expr("exists(employees, "
                                                                                       "parent(parent(salary)) > 1000)")
                                                                                .value()})},
                                           .actor = kHr})
                        .value();
  REQUIRE(two_out_hr.size() == 2);
  CHECK(two_out_hr[0].related("dept").size() == 1);  // alice earns 3000
  CHECK(two_out_hr[1].related("dept").empty());      // bob 900
  // A load's records come through the read action its query names, which must be one.
  Query other;
  other.action = "read";
  other.filter = ref("salary") > 1000;
  auto named_action = w.engine.read("Dept", {.load = {Load("employees", other)}, .actor = alice});
  REQUIRE_FALSE(named_action);
  CHECK(named_action.error().message == kRefusedSalary);
  other.action = "nope";
  auto unknown = w.engine.read("Dept", {.load = {Load("employees", other)}, .actor = kHr});
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().describe() == "framework: load employees: Employee has no read action named nope");
  other.action = "destroy";
  auto not_read = w.engine.read("Dept", {.load = {Load("employees", other)}, .actor = kHr});
  REQUIRE_FALSE(not_read);
  CHECK(not_read.error().describe() == "framework: load employees: Employee has no read action named destroy");
  // Engine::load checks the loads it is given as a read does.
  auto depts = w.engine.read("Dept", {.actor = alice}).value();
  auto loaded = w.engine.load(depts, {Load("employees", {.filter = ref("salary") > 1000})}, alice);
  REQUIRE_FALSE(loaded);
  CHECK(loaded.error().message == kRefusedSalary);
  auto misspelt = w.engine.load(depts, {Load("employees", {.filter = ref("salry") > 1000})}, kHr);
  REQUIRE_FALSE(misspelt);
  CHECK(misspelt.error().describe() == "invalid: Employee.read: invalid input: filter: Employee has no attribute salry");
  CHECK(w.engine.load(depts, {Load("employees", {.filter = ref("salary") > 1000})}, kHr).value()[0]
            .related("employees")
            .size() == 1);
}

TEST_CASE("field policies: the record an action returns, and a forbidden value is never written") {
  World w;
  Value alice = user(w.alice);
  auto created = w.engine.create("Employee", {{"name", "carol"}, {"salary", 5000}}, {.actor = alice}).value();
  Value carol = created.id();
  CHECK(created.is_forbidden("salary"));
  CHECK(created["name"] == Value("carol"));
  // The event holds the value as given; the record is stored whole.
  CHECK(w.engine.get("Employee", carol, {.actor = kHr}).value()["salary"] == Value(5000));
  // A bulk action's records come back the same way, record by record.
  auto bulk = w.engine
                  .bulk_create("Employee", {{{"name", "dan"}, {"salary", 7000}}, {{"name", "eve"}, {"salary", 8000}}},
                               {.actor = alice, .return_records = true})
                  .value();
  REQUIRE(bulk.records.size() == 2);
  for (const auto& record : bulk.records) {
    CHECK(record.is_forbidden("salary"));
    CHECK_FALSE(record.is_forbidden("name"));
  }
  auto hr_bulk = w.engine.bulk_create("Employee", {{{"name", "fay"}, {"salary", 9000}}}, {.actor = kHr, .return_records = true})
                     .value();
  REQUIRE(hr_bulk.records.size() == 1);
  CHECK(hr_bulk.records[0]["salary"] == Value(9000));
  auto updated = w.engine.update("Employee", w.alice, {{"notes", "n3"}}, {.actor = alice}).value();
  CHECK(updated["salary"] == Value(3000));
  CHECK(updated.is_forbidden("notes"));
  CHECK(w.engine.update("Employee", w.bob, {{"name", "bobby"}}, {.actor = kHr}).value()["salary"] == Value(900));

  // Writing back what a read returned: refused, nothing appended.
  auto before = test::log_length(w.engine.log());
  Record bob = w.employee(w.bob, alice);
  auto written = w.engine.update("Employee", w.bob, {{"salary", bob["salary"]}}, {.actor = kHr});
  REQUIRE_FALSE(written);
  CHECK(written.error().cls == ErrorClass::invalid);
  REQUIRE(written.error().fields.size() == 1);
  CHECK(written.error().fields[0].field == "salary");
  CHECK(written.error().fields[0].message == "is a field the actor may not read, not a value to write");
  CHECK(test::log_length(w.engine.log()) == before);
}

TEST_CASE("field policies: history and time travel return what the actor may read") {
  World w;
  CHECK(w.engine.update("Employee", w.bob, {{"salary", 1200}}, {.authorize = false}));
  auto mine = w.engine.history("Employee", w.bob, CallOptions{.actor = user(w.alice)}).value();
  REQUIRE(mine.size() == 2);
  for (const auto& e : mine) {
    CHECK(e.event.changes.size() >= 1);
    CHECK(find_field(e.event.changes, "salary")->is_forbidden());
    CHECK(find_field(e.event.inputs, "salary")->is_forbidden());
    CHECK(e.bytes.empty());
  }
  CHECK(*find_field(mine[0].event.changes, "name") == Value("bob"));
  auto hr = w.engine.history("Employee", w.bob, CallOptions{.actor = kHr}).value();
  CHECK(*find_field(hr[1].event.changes, "salary") == Value(1200));
  CHECK_FALSE(hr[1].bytes.empty());
  auto own = w.engine.history("Employee", w.alice, CallOptions{.actor = user(w.alice)}).value();
  CHECK(*find_field(own[0].event.changes, "salary") == Value(3000));
  auto system = w.engine.history("Employee", w.bob, CallOptions{.actor = user(w.alice), .authorize = false}).value();
  CHECK(*find_field(system[0].event.changes, "salary") == Value(900));

  // As of the bob's create: the past state through the same field policies.
  auto past = w.engine.get("Employee", w.bob, {.actor = user(w.alice), .as_of = AsOf{.position = 3}}).value();
  CHECK(past.is_forbidden("salary"));
  CHECK(w.engine.get("Employee", w.bob, {.actor = kHr, .as_of = AsOf{.position = 3}}).value()["salary"] ==
        Value(900));
}

TEST_CASE("field policies: \"*\" covers every field but the primary key, and a bypass answers for the rest") {
  auto built = domain("d")
                   .resource(resource("Item")
                                 .uuid_primary_key("id")
                                 .attribute("status", type::string)
                                 .attribute("secret", type::string)
                                 .defaults({"read", "create:*"})
                                 .policy(always(), {authorize_if(always())})
                                 .field_policy_bypass({"status"}, always(), {authorize_if(always())})
                                 .field_policy({"*"}, always(), {authorize_if(actor_present())}, "signed in"))
                   .build();
  REQUIRE(built);
  TempDir dir;
  auto engine = Engine::open(dir.path(), *built, {.durability = Durability::no_sync}).value();
  auto item = engine.create("Item", {{"status", "open"}, {"secret", "s"}}).value();
  CHECK(item["status"] == Value("open"));  // the bypass authorized: "*" is not asked
  CHECK(item.is_forbidden("secret"));
  CHECK_FALSE(item.id().is_forbidden());
  auto signed_in = engine.get("Item", item.id(), {.actor = user(Value(Uuid::v4()))}).value();
  CHECK(signed_in["secret"] == Value("s"));
  CHECK(engine.read("Item", {.filter = ref("secret") == "s"}).error().message ==
        "filtering or sorting on Item.secret is forbidden: the actor may not read it on every record");
  CHECK(engine.read("Item", {.filter = ref("status") == "open"}).value().size() == 1);
}

TEST_CASE("field policies: mistakes are reported when the domain is built") {
  auto built = domain("d")
                   .resource(resource("Doc")
                                 .uuid_primary_key("id")
                                 .attribute("title", type::string)
                                 .defaults({"read", "create:*"})
                                 .field_policy({"colour"}, always(), {authorize_if(always())})
                                 .field_policy({"id"}, always(), {authorize_if(always())}, "keys")
                                 .field_policy({"title"}, expr(ref("title") == "a"), {authorize_if(always())})
                                 .field_policy({}, always(), {authorize_if(always())}))
                   .build();
  REQUIRE_FALSE(built);
  CHECK(built.error().cls == ErrorClass::framework);
  std::vector<FieldError> expected{
      {"Doc.field_policy 1", "unknown_field", "Doc has no attribute, aggregate or calculation colour"},
      {"Doc.field_policy 2 \"keys\"", "invalid_policy", "Doc.id is in the primary key, which is always readable"},
      {"Doc.field_policy 3", "invalid_policy",
       "expr(title == \"a\") is a filter check; a condition must be decided without the record"},
      {"Doc.field_policy 4", "invalid_policy", "names no field (\"*\" names every field)"},
  };
  REQUIRE(built.error().fields.size() == expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    INFO(built.error().fields[i].field << " | " << built.error().fields[i].code << " | " << built.error().fields[i].message);
    CHECK(built.error().fields[i] == expected[i]);
  }
}

TEST_CASE("field policies: a read action sorted by a guarded field gives cursors only to whom may read it") {
  TempDir dir;
  auto d = domain("pay")
               .resource(resource("Employee")
                             .uuid_primary_key("id")
                             .attribute("name", type::string)
                             .attribute("salary", type::integer)
                             .defaults({"read", "create:*"})
                             .read("by_pay", {.sort = "-salary"})
                             .policy(always(), {authorize_if(always())})
                             .field_policy({"salary"}, always(), {authorize_if(actor_attribute_equals("role", Atom{"hr"}))}))
               .build()
               .value();
  Engine engine = Engine::open(dir.path(), d, {.durability = Durability::no_sync}).value();
  for (int pay : {900, 3000, 1500}) engine.create("Employee", {{"name", "e"}, {"salary", pay}}, {.authorize = false}).value();

  // HR reads salaries: its pages carry cursors, and the next page follows one.
  auto hr_page = engine.read("Employee", {.action = "by_pay", .limit = 2, .actor = kHr}).value();
  REQUIRE(hr_page.size() == 2);
  CHECK(hr_page[0]["salary"] == Value(3000));
  REQUIRE_FALSE(hr_page[1].cursor().empty());
  auto rest = engine.read("Employee", {.action = "by_pay", .after = hr_page[1].cursor(), .actor = kHr}).value();
  REQUIRE(rest.size() == 1);
  CHECK(rest[0]["salary"] == Value(900));

  // A member reads the same order but not the salaries: a cursor would carry them, so the
  // records have none, and HR's cursor is not one of this read's.
  Value member = user(Value(Uuid::v4()));
  auto page = engine.read("Employee", {.action = "by_pay", .limit = 2, .actor = member}).value();
  REQUIRE(page.size() == 2);
  CHECK(page[0]["salary"].is_forbidden());
  CHECK(page[0].cursor().empty());
  CHECK(page[1].cursor().empty());
  auto refused = engine.read("Employee", {.action = "by_pay", .after = hr_page[1].cursor(), .actor = member});
  REQUIRE_FALSE(refused);
  CHECK(refused.error().fields.at(0) == FieldError{"after", "invalid_cursor", "is not a cursor this query returned"});
  // Offsets still page it.
  auto second = engine.read("Employee", {.action = "by_pay", .offset = 2, .actor = member}).value();
  CHECK(second.size() == 1);
}

TEST_CASE("field policies: filters, sorts, loads and calculations are decided for the action the records come through") {
  TempDir dir;
  // Salaries are shown through the payroll read and its relationship alone; the public
  // listing forbids them outright, the primary read to all but HR.
  auto d = domain("pay")
               .resource(resource("Team")
                             .uuid_primary_key("id")
                             .attribute("name", type::string)
                             .has_many("members", "Employee")
                             .has_many("payroll", "Employee", {.destination_attribute = "team_id", .read_action = "payroll"})
                             .defaults({"read", "create:*"})
                             .policy(always(), {authorize_if(always())}))
               .resource(resource("Employee")
                             .uuid_primary_key("id")
                             .attribute("name", type::string)
                             .attribute("salary", type::integer)
                             .belongs_to("team", "Team")
                             .calculate("salary_k", type::floating, ref("salary") / 1000)
                             .defaults({"read", "create:*"})
                             .read("payroll")
                             .read("listing")
                             .policy(always(), {authorize_if(always())})
                             .field_policy_bypass({"salary"}, action("payroll"), {authorize_if(always())})
                             .field_policy({"salary"}, action("listing"), {forbid_if(always())})
                             .field_policy({"salary"}, always(), {authorize_if(actor_attribute_equals("role", Atom{"hr"}))}))
               .build()
               .value();
  Engine engine = Engine::open(dir.path(), d, {.durability = Durability::no_sync}).value();
  Value team = engine.create("Team", {{"name", "ops"}}, {.authorize = false}).value().id();
  for (int pay : {900, 3000})
    engine.create("Employee", {{"name", "e"}, {"salary", pay}, {"team_id", team}}, {.authorize = false}).value();
  Value member = user(Value(Uuid::v4()));

  // Through payroll a member reads salaries, so filters and sorts on them, and on what is
  // computed from them.
  auto paid = engine.read("Employee", {.action = "payroll",
                                       .filter = ref("salary_k") >= 1,
                                       .sort = {SortKey::desc("salary")},
                                       .load = {"salary_k"},
                                       .actor = member});
  REQUIRE(paid);
  REQUIRE(paid->size() == 1);
  CHECK((*paid)[0]["salary"] == Value(3000));
  CHECK((*paid)[0]["salary_k"] == Value(3.0));
  CHECK_FALSE((*paid)[0].cursor().empty());  // its sort is readable: cursors are safe

  // The primary read and the listing do not show them, so neither filters on them — not
  // even HR through the listing, which forbids them to everyone.
  for (auto [action, actor] : {std::pair<const char*, Value>{"read", member}, {"listing", kHr}}) {
    INFO(action);
    auto refused = engine.read("Employee", {.action = action, .filter = ref("salary") > 1000, .actor = actor});
    REQUIRE_FALSE(refused);
    CHECK(refused.error().describe() ==
          fmt::format("forbidden: Employee.{}: filtering or sorting on Employee.salary is forbidden: the actor may "
                      "not read it on every record",
                      action));
    auto sorted = engine.read("Employee", {.action = action, .sort = {SortKey::asc("salary_k")}, .actor = actor});
    REQUIRE_FALSE(sorted);
    CHECK(sorted.error().cls == ErrorClass::forbidden);
    auto shown = engine.read("Employee", {.action = action, .load = {"salary_k"}, .actor = actor}).value();
    REQUIRE(shown.size() == 2);
    CHECK(shown[0].is_forbidden("salary"));
    CHECK(shown[0].is_forbidden("salary_k"));
  }
  CHECK(engine.read("Employee", {.filter = ref("salary") > 1000, .actor = kHr}).value().size() == 1);

  // A relationship's records come through its read action: payroll's show salaries and
  // may be filtered on them, members' (the primary read) do not.
  auto loaded = engine.get("Team", team,
                           {.load = {"members", Load("payroll", {.filter = ref("salary") > 1000})}, .actor = member})
                    .value();
  REQUIRE(loaded.related("members").size() == 2);
  for (const auto& e : loaded.related("members")) CHECK(e.is_forbidden("salary"));
  REQUIRE(loaded.related("payroll").size() == 1);
  CHECK(loaded.related("payroll")[0]["salary"] == Value(3000));
  auto members = engine.get("Team", team, {.load = {Load("members", {.filter = ref("salary") > 1000})}, .actor = member});
  REQUIRE_FALSE(members);
  CHECK(members.error().cls == ErrorClass::forbidden);
  // A load whose query names the payroll read gets its records as payroll shows them.
  auto through = engine.get("Team", team,
                            {.load = {Load("members", {.action = "payroll", .filter = ref("salary") > 1000})},
                             .actor = member})
                     .value();
  REQUIRE(through.related("members").size() == 1);
  CHECK(through.related("members")[0]["salary"] == Value(3000));
}
