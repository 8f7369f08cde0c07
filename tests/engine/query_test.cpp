// Queries and read actions: filters, sorts, pagination, select, identities and the
// indexes that answer equality.
#include "support/domains.hpp"
#include "support/engine_helpers.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <thread>

using namespace ashlar;
using namespace ashlar::dsl;
using ashlar::test::TempDir;

namespace {

struct Helpdesk {
  TempDir dir;
  Engine engine = Engine::open(dir.path(), test::helpdesk_domain(), {.durability = Durability::no_sync}).value();
  Record rita = engine.create("Representative", {{"name", "Rita"}}).value();
  Record sam = engine.create("Representative", {{"name", "Sam"}, {"severity_threshold", 5}}).value();

  Record ticket(const char* subject, const char* priority, const Record& rep, Fields more = {}) {
    std::this_thread::sleep_for(std::chrono::microseconds(5));  // distinct opened_at
    Fields inputs{{"subject", subject}, {"priority", priority}, {"representative_id", rep.id()}};
    inputs.insert(inputs.end(), more.begin(), more.end());
    return engine.create("Ticket", inputs).value();
  }
};

std::vector<std::string> subjects(const std::vector<Record>& records) {
  std::vector<std::string> out;
  for (const auto& r : records) out.push_back(*r["subject"].as_string());
  return out;
}

}  // namespace

TEST_CASE("the reference's Ticket.top read action works as written, and callers can filter further") {
  Helpdesk h;
  h.ticket("old-high", "high", h.rita);
  h.ticket("low", "low", h.rita);
  h.ticket("medium", "medium", h.rita);
  h.ticket("sams", "high", h.sam);
  auto closed = h.ticket("closed", "high", h.rita);
  h.engine.update("Ticket", closed.id(), {{"status", "closed"}}).value();
  h.ticket("new-high", "high", h.rita);

  auto top = h.engine.read("Ticket", {.action = "top", .args = {{"user_id", h.rita.id()}}}).value();
  CHECK(subjects(top) == std::vector<std::string>{"new-high", "medium", "old-high"});  // sort -opened_at

  // Ticket |> for_read(:top, ...) |> filter(...): the caller's filter is and-ed.
  auto only_high = h.engine.read("Ticket", {.action = "top",
                                            .args = {{"user_id", h.rita.id()}},
                                            .filter = parse_expr("priority == :high").value()})
                       .value();
  CHECK(subjects(only_high) == std::vector<std::string>{"new-high", "old-high"});

  // prepare build(limit: 10) applies; a caller's limit replaces it.
  for (int i = 0; i < 12; ++i) h.ticket("bulk", "medium", h.rita);
  CHECK(h.engine.read("Ticket", {.action = "top", .args = {{"user_id", h.rita.id()}}}).value().size() == 10);
  CHECK(h.engine.read("Ticket", {.action = "top", .args = {{"user_id", h.rita.id()}}, .limit = 3}).value().size() == 3);

  // The argument is required, typed, and the only one the action takes.
  auto missing = h.engine.read("Ticket", {.action = "top"});
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.error().fields == std::vector<FieldError>{{"user_id", "required", "is required"}});
  auto bad = h.engine.read("Ticket", {.action = "top", .args = {{"user_id", "nope"}, {"colour", "red"}}});
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().fields == std::vector<FieldError>{{"colour", "unknown_input", "is not an argument of Ticket.top"},
                                                      {"user_id", "invalid_type", "\"nope\" is not a uuid"}});
}

TEST_CASE("filters: comparisons, in, is_nil, not, or, contains, arg, actor and to-one paths") {
  Helpdesk h;
  auto a = h.ticket("printer on fire", "high", h.rita, {{"severity", 3}});
  h.ticket("password reset", "low", h.sam, {{"severity", 1}});
  auto c = h.ticket("printer jam", "medium", h.sam, {{"severity", 2}});
  h.engine.update("Ticket", c.id(), {{"closed_at", "2026-01-01T00:00:00Z"}}).value();
  auto run = [&](Query q) { return subjects(h.engine.read("Ticket", std::move(q)).value()); };
  auto sorted = [&](Query q) {
    q.sort = {SortKey::asc("subject")};
    return run(std::move(q));
  };

  CHECK(sorted({.filter = ref("severity") > 1 && ref("status") == Atom{"open"}}) ==
        std::vector<std::string>{"printer jam", "printer on fire"});
  CHECK(sorted({.filter = ref("priority").in({Atom{"low"}, Atom{"high"}})}) ==
        std::vector<std::string>{"password reset", "printer on fire"});
  CHECK(sorted({.filter = !is_nil(ref("closed_at"))}) == std::vector<std::string>{"printer jam"});
  CHECK(sorted({.filter = ref("severity") == 1 || contains(ref("subject"), "fire")}) ==
        std::vector<std::string>{"password reset", "printer on fire"});
  CHECK(sorted({.filter = parse_expr("status == :open and priority in [:medium, :high]").value()}) ==
        std::vector<std::string>{"printer jam", "printer on fire"});
  CHECK(sorted({.filter = parse_expr("not is_nil(closed_at)").value()}) == std::vector<std::string>{"printer jam"});
  // Through a to-one relationship: tickets above their representative's threshold.
  CHECK(sorted({.filter = parse_expr("representative.severity_threshold < severity").value()}) ==
        std::vector<std::string>{"printer on fire"});
  CHECK(sorted({.filter = ref("representative.name") == "Sam"}) == std::vector<std::string>{"password reset", "printer jam"});
  // The actor: "my tickets".
  CHECK(sorted({.filter = ref("representative_id") == actor("id"), .actor = Map{{"id", h.rita.id()}}}) ==
        std::vector<std::string>{"printer on fire"});
  CHECK(run({.filter = ref("id") == a.id()}) == std::vector<std::string>{"printer on fire"});
}

TEST_CASE("a filter on an unknown attribute, or a bad expression, is a clear error") {
  Helpdesk h;
  auto r = h.engine.read("Ticket", {.filter = ref("colour") == "red"});
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().cls == ErrorClass::invalid);
  CHECK(r.error().fields == std::vector<FieldError>{{"filter", "unknown_attribute", "Ticket has no attribute colour"}});
  auto path = h.engine.read("Ticket", {.filter = ref("representative.age") > 3});
  CHECK(path.error().fields.at(0).message == "Representative has no attribute age");
  auto sort = h.engine.read("Ticket", {.sort = {SortKey::asc("size")}});
  CHECK(sort.error().fields.at(0) == FieldError{"sort", "unknown_attribute", "Ticket has no attribute size"});
  auto parsed = parse_expr("status == ");
  REQUIRE_FALSE(parsed.has_value());
  CHECK(parsed.error().fields.at(0).message == "at column 11: expected a value after \"==\", found end of input");
  h.ticket("t", "low", h.rita);
  auto mismatch = h.engine.read("Ticket", {.filter = ref("severity") > "high"});
  REQUIRE_FALSE(mismatch.has_value());
  CHECK(mismatch.error().fields.at(0).field == "filter");
}

TEST_CASE("sort on several keys with nils first or last, then limit, offset and select") {
  Helpdesk h;
  h.ticket("a", "low", h.rita, {{"severity", 2}});
  h.ticket("b", "low", h.rita, {{"severity", 1}, {"closed_at", "2026-01-02T00:00:00Z"}});
  h.ticket("c", "high", h.rita, {{"severity", 2}, {"closed_at", "2026-01-01T00:00:00Z"}});
  h.ticket("d", "high", h.rita, {{"severity", 1}});
  auto run = [&](Query q) { return subjects(h.engine.read("Ticket", std::move(q)).value()); };
  CHECK(run({.sort = parse_sort("-severity,subject").value()}) == std::vector<std::string>{"a", "c", "b", "d"});
  CHECK(run({.sort = parse_sort("closed_at,subject").value()}) == std::vector<std::string>{"c", "b", "a", "d"});  // nils last
  CHECK(run({.sort = parse_sort("++closed_at,subject").value()}) == std::vector<std::string>{"a", "d", "c", "b"});
  CHECK(run({.sort = parse_sort("-closed_at,subject").value()}) == std::vector<std::string>{"a", "d", "b", "c"});  // nils first
  CHECK(run({.sort = parse_sort("subject").value(), .limit = 2, .offset = 1}) == std::vector<std::string>{"b", "c"});
  auto selected = h.engine.read("Ticket", {.sort = parse_sort("subject").value(), .select = {"subject"}}).value();
  CHECK(selected[0]["severity"].is_null());
  CHECK(selected[0]["subject"] == Value("a"));
  CHECK_FALSE(selected[0].id().is_null());
  auto bad = h.engine.read("Ticket", {.select = {"colour"}});
  CHECK(bad.error().fields.at(0) == FieldError{"select", "unknown_attribute", "Ticket has no attribute colour"});
}

TEST_CASE("keyset pagination walks every record once, in order, with an opaque cursor") {
  Helpdesk h;
  for (int i = 0; i < 25; ++i) h.ticket("t", i % 3 == 0 ? "high" : "low", h.rita, {{"severity", i % 4}});
  std::vector<Value> seen;
  Query q{.sort = parse_sort("-severity").value(), .limit = 7};
  for (int page = 0; page < 10; ++page) {
    auto records = h.engine.read("Ticket", q).value();
    for (const auto& r : records) seen.push_back(r.id());
    if (records.size() < 7) break;
    q.after = records.back().cursor();
  }
  CHECK(seen.size() == 25);
  auto all = h.engine.read("Ticket", {.sort = parse_sort("-severity").value()}).value();
  for (std::size_t i = 0; i < all.size(); ++i) CHECK(all[i].id() == seen[i]);
  auto bad = h.engine.read("Ticket", {.after = "not a cursor"});
  CHECK(bad.error().fields.at(0) == FieldError{"after", "invalid_cursor", "is not a cursor this query returned"});

  // Backwards from the last record: the same records, each page in the same order.
  std::vector<Value> back;
  Query b{.sort = parse_sort("-severity").value(), .limit = 7, .before = all.back().cursor()};
  for (int page = 0; page < 10; ++page) {
    auto records = h.engine.read("Ticket", b).value();
    for (auto r = records.rbegin(); r != records.rend(); ++r) back.insert(back.begin(), r->id());
    if (records.size() < 7) break;
    b.before = records.front().cursor();
  }
  CHECK(back.size() == 24);  // all but the record the first cursor is
  for (std::size_t i = 0; i < back.size(); ++i) CHECK(all[i].id() == back[i]);
  auto between = h.engine.read("Ticket", {.sort = parse_sort("-severity").value(), .after = all[2].cursor(),
                                          .before = all[6].cursor()}).value();
  REQUIRE(between.size() == 3);
  CHECK(between[0].id() == all[3].id());
  CHECK(between[2].id() == all[5].id());
  bad = h.engine.read("Ticket", {.before = "not a cursor"});
  CHECK(bad.error().fields.at(0) == FieldError{"before", "invalid_cursor", "is not a cursor this query returned"});

  // A cursor of another query's sort is refused the same way, naming the action: by its
  // number of values, or by values of another type than this sort's.
  std::string by_severity = all[3].cursor();  // [severity, id]
  std::string by_subject = h.engine.read("Ticket", {.sort = parse_sort("subject").value()}).value()[0].cursor();
  for (const auto& [q, field] : std::vector<std::pair<Query, std::string>>{
           {{.after = by_severity}, "after"},                                       // [id]: too many values
           {{.before = by_severity}, "before"},
           {{.sort = parse_sort("-severity,closed_at").value(), .after = by_severity}, "after"},  // too few
           {{.sort = parse_sort("-severity").value(), .after = by_subject}, "after"},  // a string for an integer
           {{.sort = parse_sort("-severity").value(), .before = by_subject}, "before"}}) {
    bad = h.engine.read("Ticket", q);
    REQUIRE_FALSE(bad);
    CHECK(bad.error().cls == ErrorClass::invalid);
    CHECK(bad.error().describe().find("Ticket.read") != std::string::npos);
    CHECK(bad.error().fields.at(0) == FieldError{field, "invalid_cursor", "is not a cursor this query returned"});
  }
}

TEST_CASE("keyset pagination by a binary attribute walks forwards and backwards") {
  TempDir dir;
  auto engine = Engine::open(dir.path(), test::blog_domain(), {.durability = Durability::no_sync}).value();
  for (const char* name : {"c", "a", "d", "b"})
    engine.create("Tag", {{"scope", "s"}, {"name", name}, {"blob", Binary{std::string("\x01") + name}}}).value();
  engine.create("Tag", {{"scope", "s"}, {"name", "none"}}).value();  // nil sorts last
  auto names = [](const std::vector<Record>& records) {
    std::vector<std::string> out;
    for (const auto& r : records) out.push_back(*r["name"].as_string());
    return out;
  };
  Query q{.sort = parse_sort("blob").value(), .limit = 2};
  auto first = engine.read("Tag", q).value();
  CHECK(names(first) == std::vector<std::string>{"a", "b"});
  q.after = first.back().cursor();
  auto second = engine.read("Tag", q).value();
  CHECK(names(second) == std::vector<std::string>{"c", "d"});
  q.after = second.back().cursor();
  CHECK(names(engine.read("Tag", q).value()) == std::vector<std::string>{"none"});
  Query back{.sort = parse_sort("blob").value(), .limit = 2, .before = second.back().cursor()};
  CHECK(names(engine.read("Tag", back).value()) == std::vector<std::string>{"b", "c"});
}

TEST_CASE("identities are enforced on create and update with a Conflict naming them, get_by finds by them") {
  Helpdesk h;
  auto t = h.ticket("one", "low", h.rita, {{"reference", "HD-1"}});
  h.ticket("unreferenced", "low", h.rita);  // nil is never taken
  h.ticket("unreferenced too", "low", h.rita);
  auto length = test::log_length(h.engine.log());
  auto dup = h.engine.create("Ticket", {{"subject", "two"}, {"reference", "HD-1"}});
  REQUIRE_FALSE(dup.has_value());
  CHECK(dup.error().cls == ErrorClass::conflict);
  CHECK(dup.error().message == "identity unique_reference is taken: another Ticket has \"HD-1\"");
  CHECK(dup.error().fields == std::vector<FieldError>{{"reference", "identity_taken", "has already been taken"}});
  auto other = h.ticket("two", "low", h.rita, {{"reference", "HD-2"}});
  auto clash = h.engine.update("Ticket", other.id(), {{"reference", "HD-1"}});
  REQUIRE_FALSE(clash.has_value());
  CHECK(clash.error().cls == ErrorClass::conflict);
  CHECK(test::log_length(h.engine.log()) == length + 1);
  // Updating a record to its own identity value is fine; freeing a value frees it.
  h.engine.update("Ticket", t.id(), {{"reference", "HD-1"}, {"subject", "one!"}}).value();
  h.engine.update("Ticket", t.id(), {{"reference", "HD-3"}}).value();
  h.engine.update("Ticket", other.id(), {{"reference", "HD-1"}}).value();

  auto before = h.engine.log().counters().lookups.load();
  auto found = h.engine.get_by("Ticket", "unique_reference", {{"reference", "HD-3"}}).value();
  CHECK(found["subject"] == Value("one!"));
  CHECK(h.engine.log().counters().lookups.load() - before <= 3);  // identity, record, key get
  auto none = h.engine.get_by("Ticket", "unique_reference", {{"reference", "HD-9"}});
  REQUIRE_FALSE(none.has_value());
  CHECK(none.error().cls == ErrorClass::not_found);
  CHECK(none.error().message == "no Ticket with unique_reference \"HD-9\"");
}

TEST_CASE("equality and in on an indexed attribute use the index, not a scan") {
  Helpdesk h;
  for (int i = 0; i < 50; ++i) h.ticket("t", "low", i % 2 ? h.rita : h.sam);
  const auto& lookups = h.engine.log().counters().lookups;
  auto before = lookups.load();
  auto ritas = h.engine.read("Ticket", {.filter = ref("representative_id") == h.rita.id()}).value();
  CHECK(ritas.size() == 25);
  CHECK(lookups.load() - before == 1 + 25);  // one index lookup, one get per ticket
  before = lookups.load();
  auto both = h.engine.read("Ticket", {.filter = ref("representative_id").in({h.rita.id(), h.sam.id()})}).value();
  CHECK(both.size() == 50);
  CHECK(lookups.load() - before == 2 + 50);
  // The primary key and identities are indexes too.
  before = lookups.load();
  h.engine.read("Ticket", {.filter = ref("id") == ritas[0].id()}).value();
  CHECK(lookups.load() - before == 1);
}

TEST_CASE("a 10 KB string can be indexed and found by equality") {
  TempDir dir;
  auto engine = Engine::open(dir.path(), test::helpdesk_domain()).value();
  std::string big(10 * 1024, 'x'), other = big;
  other.back() = 'y';  // same prefix: the hash tells them apart
  auto t = engine.create("Ticket", {{"subject", "big"}, {"reference", big}}).value();
  engine.create("Ticket", {{"subject", "other"}, {"reference", other}}).value();
  auto found = engine.get_by("Ticket", "unique_reference", {{"reference", big}}).value();
  CHECK(found.id() == t.id());
  CHECK(engine.read("Ticket", {.filter = ref("reference") == big}).value().size() == 1);
  CHECK(engine.create("Ticket", {{"subject", "dup"}, {"reference", big}}).error().cls == ErrorClass::conflict);
}

TEST_CASE("a get by primary key is one lookup, and the filter and arguments of its read action still apply") {
  Helpdesk h;
  auto low = h.ticket("low", "low", h.rita);
  auto high = h.ticket("high", "high", h.rita);
  const auto& lookups = h.engine.log().counters().lookups;
  auto before = lookups.load();
  auto got = h.engine.get("Ticket", low.id()).value();
  CHECK(lookups.load() - before == 1);
  CHECK(got == low);
  CHECK(*got["subject"].as_string() == "low");
  CHECK(got.cursor().empty());  // a get returns no page to continue

  auto missing = h.engine.get("Ticket", Uuid::v4());
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.error().cls == ErrorClass::not_found);
  CHECK(missing.error().action == "read");
  CHECK(missing.error().message.starts_with("no Ticket with primary key "));

  // Through the top action: its filter keeps high priority, and its argument is required.
  Query top{.action = "top", .args = {{"user_id", h.rita.id()}}};
  auto through = h.engine.get("Ticket", high.id(), top).value();
  CHECK(*through["subject"].as_string() == "high");
  CHECK(through.cursor().empty());
  auto filtered = h.engine.get("Ticket", low.id(), top);
  REQUIRE_FALSE(filtered.has_value());
  CHECK(filtered.error().cls == ErrorClass::not_found);
  CHECK(filtered.error().action == "top");
  auto no_argument = h.engine.get("Ticket", high.id(), {.action = "top"});
  REQUIRE_FALSE(no_argument.has_value());
  CHECK(no_argument.error().cls == ErrorClass::invalid);

  // A sort is checked as a read checks it, though one record needs no order.
  auto bad_sort = h.engine.get("Ticket", low.id(), {.sort = {SortKey{"colour"}}});
  REQUIRE_FALSE(bad_sort.has_value());
  CHECK(bad_sort.error().cls == ErrorClass::invalid);

  // A select still runs the whole read.
  auto selected = h.engine.get("Ticket", low.id(), {.select = {"subject"}}).value();
  CHECK(*selected["subject"].as_string() == "low");
  CHECK(selected["priority"].is_null());
}

namespace {

// An Account with a sensitive secret and a private note (no action accepts it: each
// account's is "open"), whose logins belong to it; its
// read action "by_secret" sorts by the secret itself, as the model may.
Result<void> open_ones(Query& q, const PrepareContext&) {
  Expr open = ref("note") == "open";
  q.filter = q.filter ? *q.filter && open : open;
  q.sort.push_back(SortKey::desc("secret"));
  return {};
}

Domain vault_domain() {
  return domain("vault")
      .resource(resource("Account")
                    .uuid_primary_key("id")
                    .attribute("name", type::string)
                    .attribute("secret", type::string, {.sensitive = true})
                    .attribute("note", type::string, {.default_value = "open", .is_public = false})
                    .has_many("logins", "Login")
                    .defaults({"read", "destroy", "create:*", "update:*"})
                    .read("by_secret", {.filter = ref("note") != "closed", .sort = "secret"})
                    .read("open_ones", {.steps = {preparations::prepare(open_ones)}}))
      .resource(resource("Login")
                    .uuid_primary_key("id")
                    .attribute("device", type::string)
                    .attribute("token", type::string, {.sensitive = true})
                    .belongs_to("account", "Account")
                    .defaults({"read", "destroy", "create:*", "update:*"}))
      .build()
      .value();
}

// The one field error a read of `resource` gets for `q`, an Invalid error naming `named`
// (by default the resource read) and its read action.
FieldError read_error(Engine& engine, const char* resource, const Query& q, const char* named = nullptr) {
  auto read = engine.read(resource, q);
  REQUIRE_FALSE(read);
  CHECK(read.error().cls == ErrorClass::invalid);
  CHECK(read.error().resource == (named ? named : resource));
  CHECK(read.error().action == "read");
  REQUIRE(read.error().fields.size() == 1);
  return read.error().fields[0];
}

// The one field error a public_only read of Account gets for `q`.
FieldError input_error(Engine& engine, Query q, const char* resource = "Account") {
  q.public_only = true;
  return read_error(engine, resource, q);
}

}  // namespace

TEST_CASE("a query from outside names public attributes only: sensitive and private ones are unknown to it") {
  TempDir dir;
  auto engine = Engine::open(dir.path(), vault_domain(), {.durability = Durability::no_sync}).value();
  auto ann = engine.create("Account", {{"name", "Ann"}, {"secret", "s3cret"}}).value();
  engine.create("Account", {{"name", "Bob"}, {"secret", "hunter2"}}).value();
  engine.create("Login", {{"device", "phone"}, {"token", "t0k"}, {"account_id", ann.id()}}).value();

  const FieldError no_secret{"filter", "unknown_attribute", "Account has no attribute secret"};
  CHECK(input_error(engine, {.filter = ref("secret") == "hunter2"}) == no_secret);
  CHECK(input_error(engine, {.filter = ref("note") == "vip"}) ==
        FieldError{"filter", "unknown_attribute", "Account has no attribute note"});
  CHECK(input_error(engine, {.sort = {SortKey::asc("secret")}}) ==
        FieldError{"sort", "unknown_attribute", "Account has no attribute secret"});
  CHECK(input_error(engine, {.filter = parse_expr("account.secret == \"s3cret\"").value()}, "Login") == no_secret);
  CHECK(input_error(engine, {.sort = {SortKey::desc("account.note")}}, "Login") ==
        FieldError{"sort", "unknown_attribute", "Account has no attribute note"});
  // Aggregates: their field, and their filter's refs on the related records and parent(...).
  CHECK(input_error(engine, {.filter = parse_expr("exists(logins, token == \"t0k\")").value()}) ==
        FieldError{"filter", "unknown_attribute", "Login has no attribute token"});
  CHECK(input_error(engine, {.filter = parse_expr("max(logins, token) == \"t0k\"").value()}) ==
        FieldError{"filter", "unknown_attribute", "Login has no attribute token"});
  CHECK(input_error(engine, {.filter = parse_expr("exists(logins, device == parent(secret))").value()}) == no_secret);
  CHECK(input_error(engine, {.filter = parse_expr("exists(logins, exists(account, secret == \"x\"))").value()}) ==
        no_secret);
  // parent(...) has no record at the top, whatever it names.
  const FieldError no_parent{"filter", "invalid", "parent(...) refers to the parent record of a relationship filter"};
  CHECK(input_error(engine, {.filter = parse_expr("parent(max(logins, token)) == 1").value()}) == no_parent);
  CHECK(input_error(engine, {.filter = parse_expr("parent(max(logins, tokken)) == 1").value()}) == no_parent);
  CHECK(input_error(engine, {.filter = parse_expr("parent(count(logins, device == \"x\")) == 1").value()}) ==
        no_parent);
  // Under parent(...) inside an aggregate's filter, names are the outer record's again.
  CHECK(input_error(engine, {.filter = parse_expr("exists(logins, parent(exists(logins, token == \"x\")))").value()}) ==
        FieldError{"filter", "unknown_attribute", "Login has no attribute token"});
  CHECK(engine.read("Account", {.filter = parse_expr("exists(logins, parent(name) == \"Ann\" and "
                                                     "parent(count(logins, device == \"phone\")) > 0)")
                                              .value(),
                                .public_only = true})
            .value()
            .size() == 1);

  // A hidden name and a missing one get the same errors, as many, whatever else is wrong.
  auto errors = [&](const char* filter, const char* sort) {
    Query q{.filter = parse_expr(filter).value(), .sort = parse_sort(sort).value(), .public_only = true};
    auto read = engine.read("Account", q);
    REQUIRE_FALSE(read);
    return read.error().describe();
  };
  CHECK(errors("secret == 1 and bogus == 1 and exists(logins, token == 2)", "note") ==
        "invalid: Account.read: 4 invalid inputs: filter: Account has no attribute secret; "
        "filter: Account has no attribute bogus; "
        "filter: Login has no attribute token; sort: Account has no attribute note");
  CHECK(errors("sekret == 1 and bogus == 1 and exists(logins, tokken == 2)", "nope") ==
        "invalid: Account.read: 4 invalid inputs: filter: Account has no attribute sekret; "
        "filter: Account has no attribute bogus; "
        "filter: Login has no attribute tokken; sort: Account has no attribute nope");

  // Public attributes work as ever, and so does every attribute for the library's own reads.
  auto public_read = engine.read("Login", {.filter = parse_expr("account.name == \"Ann\" and device == \"phone\"").value(),
                                           .sort = {SortKey::asc("account.name")},
                                           .public_only = true});
  REQUIRE(public_read);
  CHECK(public_read->size() == 1);
  auto own = engine.read("Account", {.filter = ref("secret") == "hunter2"}).value();
  REQUIRE(own.size() == 1);
  CHECK(own[0]["name"] == Value("Bob"));
}

TEST_CASE("a load's own filter and sort are checked before anything is read, from outside as names it may not use") {
  TempDir dir;
  auto engine = Engine::open(dir.path(), vault_domain(), {.durability = Durability::no_sync}).value();
  // The error a read of Account with this load gets: it names the loaded resource.
  auto load_error = [&](Load load, bool public_only, const char* named = "Login") {
    return read_error(engine, "Account", {.load = {std::move(load)}, .public_only = public_only}, named);
  };
  const FieldError no_tokken{"filter", "unknown_attribute", "Login has no attribute tokken"};
  // No Account yet: a misspelt name is refused all the same, not only once there is a
  // record to load for.
  CHECK(load_error(Load("logins", {.filter = ref("tokken") == "x"}), false) == no_tokken);
  CHECK(load_error(Load("logins", {.sort = {SortKey::asc("tokken")}}), false) ==
        FieldError{"sort", "unknown_attribute", "Login has no attribute tokken"});
  CHECK(load_error(Load("logins", {.filter = parse_expr("parent(nam) == \"Ann\"").value()}), false) ==
        FieldError{"filter", "unknown_attribute", "Account has no attribute nam"});
  // Inside an aggregate's filter too, names are checked before anything is read.
  CHECK(read_error(engine, "Account", {.filter = parse_expr("exists(logins, tokken == 1)").value()}) ==
        FieldError{"filter", "unknown_attribute", "Login has no attribute tokken"});
  // At the top there is no parent record, for an aggregate either.
  CHECK(read_error(engine, "Account", {.filter = parse_expr("parent(count(logins)) > 0").value()}) ==
        FieldError{"filter", "invalid", "parent(...) refers to the parent record of a relationship filter"});

  auto ann = engine.create("Account", {{"name", "Ann"}, {"secret", "1234"}}).value();
  engine.create("Login", {{"device", "phone"}, {"token", "t0k"}, {"account_id", ann.id()}}).value();
  // From outside, a load's filter cannot ask after a sensitive value: the name is unknown
  // there, exactly as a missing one is, with no records loaded either way.
  CHECK(load_error(Load("logins", {.filter = ref("token") == "t0k"}), true) ==
        FieldError{"filter", "unknown_attribute", "Login has no attribute token"});
  CHECK(load_error(Load("logins", {.filter = ref("tokken") == "t0k"}), true) == no_tokken);
  CHECK(load_error(Load("logins", {.sort = {SortKey::desc("token")}}), true) ==
        FieldError{"sort", "unknown_attribute", "Login has no attribute token"});
  CHECK(load_error(Load("logins", {.filter = parse_expr("parent(secret) == \"1234\"").value()}), true) ==
        FieldError{"filter", "unknown_attribute", "Account has no attribute secret"});
  CHECK(load_error(Load("logins", {.load = {Load("account", {.filter = ref("note") == "open"})}}), true, "Account") ==
        FieldError{"filter", "unknown_attribute", "Account has no attribute note"});
  // What it may name still loads, parent(...) included; the library's own reads may name
  // anything.
  auto loaded = engine.read("Account", {.load = {Load("logins", {.filter = parse_expr("device == \"phone\" and "
                                                                                     "parent(name) == \"Ann\"")
                                                                           .value()})},
                                        .public_only = true})
                    .value();
  REQUIRE(loaded.size() == 1);
  CHECK(loaded[0].related("logins").size() == 1);
  auto own = engine.read("Account", {.load = {Load("logins", {.filter = ref("token") == "t0k"})}}).value();
  CHECK(own[0].related("logins").size() == 1);
}

TEST_CASE("a query from outside gets no cursor when the read action's own sort has a sensitive attribute") {
  TempDir dir;
  auto engine = Engine::open(dir.path(), vault_domain(), {.durability = Durability::no_sync}).value();
  for (const char* name : {"Ann", "Bob", "Cy"})
    engine.create("Account", {{"name", name}, {"secret", std::string("pin-") + name}}).value();

  // The action's filter and sort name private and sensitive attributes: the model's to use.
  auto page = engine.read("Account", {.action = "by_secret", .limit = 2, .public_only = true}).value();
  REQUIRE(page.size() == 2);
  CHECK(page[0]["name"] == Value("Ann"));
  for (const auto& record : page) CHECK(record.cursor().empty());
  // The library's own reads page as before; a public sort pages from outside too.
  auto own = engine.read("Account", {.action = "by_secret", .limit = 1}).value();
  REQUIRE(own.size() == 1);
  CHECK_FALSE(own[0].cursor().empty());
  auto next = engine.read("Account", {.action = "by_secret", .limit = 1, .after = own[0].cursor()}).value();
  REQUIRE(next.size() == 1);
  CHECK(next[0]["name"] == Value("Bob"));
  // That very cursor is refused from outside, forwards and backwards.
  for (bool forwards : {true, false}) {
    Query q{.action = "by_secret", .public_only = true};
    (forwards ? q.after : q.before) = own[0].cursor();
    auto refused = engine.read("Account", q);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().fields.at(0) ==
          FieldError{forwards ? "after" : "before", "invalid_cursor", "is not a cursor this query returned"});
    CHECK(refused.error().action == "by_secret");
  }
  // A preparation's filter and sort are the model's too.
  auto prepared = engine.read("Account", {.action = "open_ones", .filter = ref("name") != "Cy", .public_only = true});
  REQUIRE(prepared);
  REQUIRE(prepared->size() == 2);
  CHECK((*prepared)[0]["name"] == Value("Bob"));
  CHECK((*prepared)[0].cursor().empty());
  // An offset past the end is an empty page, however large, also after a cursor.
  auto skipped = engine.read("Account", {.action = "by_secret", .offset = SIZE_MAX, .after = own[0].cursor()});
  REQUIRE(skipped);
  CHECK(skipped->empty());
  auto by_name = engine.read("Account", {.sort = {SortKey::desc("name")}, .limit = 1, .public_only = true}).value();
  REQUIRE(by_name.size() == 1);
  CHECK_FALSE(by_name[0].cursor().empty());
  auto after = engine.read("Account", {.sort = {SortKey::desc("name")}, .limit = 1, .after = by_name[0].cursor(),
                                       .public_only = true})
                   .value();
  REQUIRE(after.size() == 1);
  CHECK(after[0]["name"] == Value("Bob"));
}

TEST_CASE("an aggregate's filter picks the related records it counts, sums or lists, in a query's filter") {
  TempDir dir;
  auto engine = Engine::open(dir.path(), vault_domain(), {.durability = Durability::no_sync}).value();
  auto ann = engine.create("Account", {{"name", "Ann"}}).value();
  auto bob = engine.create("Account", {{"name", "Bob"}}).value();
  for (const char* device : {"phone", "phone", "laptop"})
    engine.create("Login", {{"device", device}, {"account_id", ann.id()}}).value();
  engine.create("Login", {{"device", "laptop"}, {"account_id", bob.id()}}).value();
  auto names = [&](const char* filter) {
    std::vector<std::string> out;
    Query q{.filter = parse_expr(filter).value(), .sort = {SortKey::asc("name")}};
    for (const auto& r : engine.read("Account", q).value()) out.push_back(*r["name"].as_string());
    return out;
  };
  CHECK(names("count(logins) >= 1") == std::vector<std::string>{"Ann", "Bob"});
  CHECK(names("count(logins, device == \"phone\") == 2") == std::vector<std::string>{"Ann"});
  CHECK(names("count(logins, device == \"laptop\") == 1") == std::vector<std::string>{"Ann", "Bob"});
  CHECK(names("count(logins, device == \"tablet\") == 0") == std::vector<std::string>{"Ann", "Bob"});
  CHECK(names("first(logins, device, device != \"phone\") == \"laptop\"") == std::vector<std::string>{"Ann", "Bob"});
  CHECK(names("list(logins, device, device == \"phone\") == [\"phone\", \"phone\"]") ==
        std::vector<std::string>{"Ann"});
  CHECK(names("exists(logins, device == \"phone\")") == std::vector<std::string>{"Ann"});
}
