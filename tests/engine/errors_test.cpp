// Every bad input gets its own error, names resource, action and field, and appends nothing.
#include "support/domains.hpp"
#include "support/engine_helpers.hpp"
#include "support/small_stack.hpp"
#include "support/temp_dir.hpp"

#include <ashlar/model/json.hpp>
#include <ashlar/projections/state.hpp>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <cmath>

using namespace ashlar;
using ashlar::test::blog_domain;
using ashlar::test::log_length;
using ashlar::test::TempDir;

namespace {

struct Fixture {
  TempDir dir;
  Engine engine = Engine::open(dir.path(), blog_domain()).value();
  Record alice = engine.create("User", {{"name", "Alice"}}).value();
  std::uint64_t length = log_length(engine.log());

  // The single field error of a failed result, after checking nothing was written.
  FieldError only_field(const Result<Record>& r, ErrorClass cls = ErrorClass::invalid) {
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().cls == cls);
    CHECK(log_length(engine.log()) == length);
    CHECK(engine.read("User").value().size() == 1);
    REQUIRE(r.error().fields.size() == 1);
    return r.error().fields[0];
  }
};

}  // namespace

TEST_CASE_METHOD(Fixture, "a missing required attribute is Invalid naming the field") {
  auto r = engine.create("User", {{"age", 3}});
  CHECK(r.error().resource == "User");
  CHECK(r.error().action == "create");
  CHECK(only_field(r) == FieldError{"name", "required", "is required"});
  CHECK(r.error().describe() == "invalid: User.create: invalid input: name: is required");
}

TEST_CASE_METHOD(Fixture, "an explicit nil for a required attribute is Invalid, on create and update") {
  CHECK(only_field(engine.create("User", {{"name", nullptr}})) == FieldError{"name", "required", "is required"});
  CHECK(only_field(engine.update("User", alice.id(), {{"name", nullptr}})) ==
        FieldError{"name", "required", "is required"});
}

TEST_CASE_METHOD(Fixture, "a value of the wrong type is Invalid with what was expected") {
  CHECK(only_field(engine.create("User", {{"name", "B"}, {"age", "old"}})) ==
        FieldError{"age", "invalid_type", "expected integer, got string"});
  CHECK(only_field(engine.update("User", alice.id(), {{"name", 42}})) ==
        FieldError{"name", "invalid_type", "expected string, got integer"});
}

TEST_CASE_METHOD(Fixture, "unknown and non-accepted inputs are errors, not silently dropped") {
  CHECK(only_field(engine.create("User", {{"name", "B"}, {"nickname", "b"}})) ==
        FieldError{"nickname", "unknown_input", "is not an attribute or argument of User.create"});
  CHECK(only_field(engine.create("User", {{"name", "B"}, {"id", Uuid::v4()}})) ==
        FieldError{"id", "not_accepted", "is not accepted by User.create"});
  CHECK(only_field(engine.create("User", {{"name", "B"}, {"name", "C"}})) ==
        FieldError{"name", "duplicate_input", "is given more than once"});
}

TEST_CASE_METHOD(Fixture, "constraint violations name the rule") {
  CHECK(only_field(engine.create("User", {{"name", "B"}, {"age", -1}})) == FieldError{"age", "min", "must be at least 0"});
  CHECK(only_field(engine.create("User", {{"name", "B"}, {"email", "@"}})) ==
        FieldError{"email", "match", "must match the pattern [^@ ]+@[^@ ]+"});
  CHECK(only_field(engine.create("User", {{"name", "B"}, {"email", "nope"}})) ==
        FieldError{"email", "match", "must match the pattern [^@ ]+@[^@ ]+"});
  CHECK(only_field(engine.create("User", {{"name", "B"}, {"role", "boss"}})) ==
        FieldError{"role", "one_of", "must be one of :member, :admin, got :boss"});
  CHECK(only_field(engine.update("User", alice.id(), {{"age", 151}})) == FieldError{"age", "max", "must be at most 150"});
}

TEST_CASE_METHOD(Fixture, "several bad inputs are reported all at once") {
  auto r = engine.create("User", {{"age", "x"}, {"email", "nope"}, {"colour", "red"}});
  REQUIRE_FALSE(r.has_value());
  CHECK(log_length(engine.log()) == length);
  CHECK(r.error().fields == std::vector<FieldError>{
                                {"age", "invalid_type", "expected integer, got string"},
                                {"email", "match", "must match the pattern [^@ ]+@[^@ ]+"},
                                {"colour", "unknown_input", "is not an attribute or argument of User.create"},
                                {"name", "required", "is required"},
                            });
  CHECK(r.error().message == "4 invalid inputs");
}

TEST_CASE_METHOD(Fixture, "updating or destroying a missing record is NotFound") {
  auto id = *Uuid::parse("8ba0ab56-c6e3-4ab0-9c9c-df70e9945281");
  for (auto r : {engine.update("User", id, {{"name", "X"}}), engine.destroy("User", id)}) {
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().cls == ErrorClass::not_found);
    CHECK(r.error().resource == "User");
    CHECK(r.error().message == "no User with primary key 8ba0ab56-c6e3-4ab0-9c9c-df70e9945281");
    CHECK(log_length(engine.log()) == length);
  }
  CHECK(engine.update("User", id, {{"name", "X"}}).error().action == "update");
  CHECK(engine.destroy("User", id).error().action == "destroy");
}

TEST_CASE_METHOD(Fixture, "an id that does not cast is Invalid naming the key attribute") {
  CHECK(only_field(engine.update("User", "not-a-uuid", {{"name", "X"}})) ==
        FieldError{"id", "invalid_type", "\"not-a-uuid\" is not a uuid"});
  auto composite = engine.get("Tag", "just-a-string");
  REQUIRE_FALSE(composite.has_value());
  CHECK(composite.error().fields.at(0).message ==
        "Tag has a composite primary key; give the id as a map of its attributes");
}

TEST_CASE_METHOD(Fixture, "unknown resources and actions are Framework errors") {
  auto r = engine.create("Post", {});
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().cls == ErrorClass::framework);
  CHECK(r.error().message == "domain blog has no resource named Post");
  CHECK(engine.create("User", {{"name", "B"}}, {.action = "register"}).error().message ==
        "User has no action named register");
  CHECK(engine.create("Comment", {{"content", "x"}}, {.action = "edit"}).error().message ==
        "Comment.edit is an update action, not a create action");
  CHECK(log_length(engine.log()) == length);
}

TEST_CASE("a resource without a primary action of the type needs the action named") {
  using namespace ashlar::dsl;
  auto d = domain("d").resource(resource("Note").uuid_primary_key("id").create("write")).build().value();
  TempDir dir;
  auto engine = Engine::open(dir.path(), d).value();
  auto r = engine.create("Note", {});
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().message == "Note has no primary create action; name one in CallOptions::action or mark one primary");
  CHECK(engine.create("Note", {}, {.action = "write"}).has_value());
  CHECK(engine.read("Note").error().message ==
        "Note has no primary read action; name one in Query::action or mark one primary");
}

TEST_CASE("the throwing accessor carries the structured error") {
  TempDir dir;
  auto engine = Engine::open(dir.path(), blog_domain()).value();
  try {
    engine.create("User", {}).value();
    FAIL("expected an exception");
  } catch (const Exception& e) {
    CHECK(e.error().cls == ErrorClass::invalid);
    CHECK(std::string(e.what()) == "invalid: User.create: invalid input: name: is required");
  }
}

TEST_CASE_METHOD(Fixture, "a primary key too long for an index key is Invalid naming the attribute") {
  auto r = engine.create("Tag", {{"scope", "s"}, {"name", std::string(600, 'n')}});
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().fields.at(0) ==
        FieldError{"name", "key_too_long", "the primary key takes 619 bytes; a key can take at most 511"});
  CHECK(log_length(engine.log()) == length);
}

TEST_CASE_METHOD(Fixture, "a value nested deeper than events can hold is Invalid naming the field, as is such an actor") {
  auto nest = [](int depth) {
    Value v = 1;
    for (int i = 0; i < depth; ++i) v = i % 2 ? Value(Map{{"k", v}}) : Value(Array{v});
    return v;
  };
  // As deep as allowed: stored, and read back.
  auto fits = engine.create("Tag", {{"scope", "s"}, {"name", "deep"}, {"meta", Map{{"k", nest(15)}}}});
  REQUIRE(fits.has_value());
  CHECK(engine.get("Tag", Map{{"scope", "s"}, {"name", "deep"}}).value()["meta"] == Value(Map{{"k", nest(15)}}));
  std::uint64_t before = log_length(engine.log());

  auto deep = engine.create("Tag", {{"scope", "s"}, {"name", "deeper"}, {"meta", Map{{"k", nest(40)}}}});
  REQUIRE_FALSE(deep.has_value());
  CHECK(deep.error().code == "too_complex");
  CHECK(deep.error().describe() == "invalid: Tag.create: invalid input: meta: nests maps and arrays more than 16 levels deep");
  auto actor = engine.create("User", {{"name", "Bob"}}, {.actor = nest(100)});
  REQUIRE_FALSE(actor.has_value());
  CHECK(actor.error().fields.at(0) == FieldError{"actor", "too_complex", "nests maps and arrays more than 16 levels deep"});
  CHECK(log_length(engine.log()) == before);
}

TEST_CASE_METHOD(Fixture, "an actor, tenant or correlation id the log could not keep as given is Invalid naming it") {
  const std::string bad("ok\xff", 3);
  auto refused = [&](const CallOptions& call) {
    auto r = engine.create("User", {{"name", "Bob"}}, call);
    REQUIRE_FALSE(r.has_value());
    CHECK(log_length(engine.log()) == length);
    return r.error().describe();
  };
  CHECK(refused({.actor = Map{{"id", std::nan("")}}}) ==
        "invalid: User.create: invalid input: actor: holds a float that is not finite");
  CHECK(refused({.actor = Value(Map{{"roles", Array{Value(bad)}}})}) ==
        "invalid: User.create: invalid input: actor: holds text that is not valid UTF-8");
  CHECK(refused({.actor = Value(Map{{bad, 1}})}) == "invalid: User.create: invalid input: actor: holds text that is not valid UTF-8");
  CHECK(refused({.tenant = bad}) == "invalid: User.create: invalid input: tenant: is not valid UTF-8 text");
  CHECK(refused({.correlation_id = bad}) == "invalid: User.create: invalid input: correlation_id: is not valid UTF-8 text");
  CHECK(refused({.idempotency_key = bad}) == "invalid: User.create: invalid input: idempotency_key: is not valid UTF-8 text");
  // Several at once, each named.
  CHECK(refused({.actor = Value(std::numeric_limits<double>::infinity()), .tenant = bad}) ==
        "invalid: User.create: 2 invalid inputs: actor: holds a float that is not finite; tenant: is not valid UTF-8 text");
  CHECK(engine.create("User", {{"name", "Zoë"}}, {.actor = Map{{"name", "Zoë 🦀"}, {"level", 2.5}}}).has_value());
}

namespace {

// Strings as Ash casts them: "" is nil unless allow_empty is set.
Domain notes_domain() {
  using namespace ashlar::dsl;
  return domain("notes")
      .resource(resource("Note")
                    .uuid_primary_key("id")
                    .attribute("title", type::string, {.allow_nil = false})
                    .attribute("body", type::string)
                    .attribute("marker", type::string, {.allow_nil = false, .allow_empty = true})
                    .defaults({"read", "destroy", "create:*", "update:*"})
                    .create("file", {.accept = {"title", "marker"},
                                     .arguments = {argument("folder", type::string, {.allow_nil = false}),
                                                   argument("label", type::string, {.allow_nil = false, .allow_empty = true}),
                                                   argument("comment", type::string)},
                                     .steps = {changes::change([](Changeset& cs) -> Result<void> {
                                       // What the arguments were cast to, where a test can see it.
                                       Value label = cs.argument("label"), comment = cs.argument("comment");
                                       cs.force_change("body", Value(fmt::format("label={} comment={}", label.str(),
                                                                                 comment.is_null() ? "nil" : comment.str())));
                                       return {};
                                     })}}))
      .build()
      .value();
}

}  // namespace

TEST_CASE("an empty string for a required attribute is required on create and update (Ash's allow_empty? false)") {
  TempDir dir;
  Engine engine = Engine::open(dir.path(), notes_domain()).value();
  auto empty = engine.create("Note", {{"title", ""}, {"marker", "m"}});
  REQUIRE_FALSE(empty.has_value());
  CHECK(empty.error().fields == std::vector<FieldError>{{"title", "required", "is required"}});
  CHECK(empty.error().describe() == "invalid: Note.create: invalid input: title: is required");
  CHECK(log_length(engine.log()) == 0);

  Record note = engine.create("Note", {{"title", "Groceries"}, {"marker", "m"}}).value();
  auto cleared = engine.update("Note", note.id(), {{"title", ""}});
  REQUIRE_FALSE(cleared.has_value());
  CHECK(cleared.error().fields == std::vector<FieldError>{{"title", "required", "is required"}});
  CHECK(engine.get("Note", note.id()).value()["title"] == Value("Groceries"));
  CHECK(log_length(engine.log()) == 1);
}

TEST_CASE("an empty string for an optional attribute is stored as nil, allow_empty keeps it") {
  TempDir dir;
  Engine engine = Engine::open(dir.path(), notes_domain()).value();
  Record note = engine.create("Note", {{"title", "Groceries"}, {"body", ""}, {"marker", ""}}).value();
  CHECK(note["body"].is_null());
  CHECK(note["marker"] == Value(""));  // allow_empty: "" is a value, so not required

  Record filled = engine.update("Note", note.id(), {{"body", "milk"}}).value();
  CHECK(filled["body"] == Value("milk"));
  Record emptied = engine.update("Note", note.id(), {{"body", ""}, {"marker", ""}}).value();
  CHECK(emptied["body"].is_null());
  CHECK(emptied["marker"] == Value(""));
  Record stored = engine.get("Note", note.id()).value();
  CHECK(stored["body"].is_null());
  CHECK(stored["marker"] == Value(""));

  auto nil_marker = engine.update("Note", note.id(), {{"marker", nullptr}});
  REQUIRE_FALSE(nil_marker.has_value());
  CHECK(nil_marker.error().fields == std::vector<FieldError>{{"marker", "required", "is required"}});
}

TEST_CASE("an empty string for a required argument is required, allow_empty keeps it, optional ones become nil") {
  TempDir dir;
  Engine engine = Engine::open(dir.path(), notes_domain()).value();
  CallOptions file{.action = "file"};
  auto missing = engine.create("Note", {{"title", "T"}, {"marker", "m"}, {"folder", ""}, {"label", ""}}, file);
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.error().fields == std::vector<FieldError>{{"folder", "required", "is required"}});
  CHECK(log_length(engine.log()) == 0);

  Record filed =
      engine.create("Note", {{"title", "T"}, {"marker", "m"}, {"folder", "inbox"}, {"label", ""}, {"comment", ""}}, file)
          .value();
  CHECK(filed["body"] == Value("label=\"\" comment=nil"));
  auto nil_label = engine.create("Note", {{"title", "T"}, {"marker", "m"}, {"folder", "inbox"}, {"label", nullptr}}, file);
  REQUIRE_FALSE(nil_label.has_value());
  CHECK(nil_label.error().fields == std::vector<FieldError>{{"label", "required", "is required"}});
}

TEST_CASE_METHOD(Fixture, "text that is not UTF-8 is Invalid naming the field, in strings, atoms and maps, while binary takes any bytes") {
  const std::string bad("ok\xff\xfe", 4);
  auto name = engine.create("User", {{"name", bad}});
  CHECK(only_field(name) == FieldError{"name", "invalid_type", "is not valid UTF-8 text (a binary attribute holds any bytes)"});
  CHECK(name.error().describe() ==
        "invalid: User.create: invalid input: name: is not valid UTF-8 text (a binary attribute holds any bytes)");
  // An overlong encoding and a UTF-16 surrogate are not UTF-8 either.
  CHECK(only_field(engine.create("User", {{"name", std::string("\xC0\xAF")}})).field == "name");
  CHECK(only_field(engine.create("User", {{"name", std::string("\xED\xA0\x80")}})).field == "name");
  auto tag = engine.create("Tag", {{"scope", "s"}, {"name", "t"}, {"meta", Map{{"k", Array{Value(bad)}}}}});
  REQUIRE_FALSE(tag.has_value());
  CHECK(tag.error().describe() == "invalid: Tag.create: invalid input: meta: holds text that is not valid UTF-8");
  CHECK(log_length(engine.log()) == length);
  // Well-formed text of every length is fine.
  CHECK(engine.create("User", {{"name", "Zoë 🦀 日本"}}).has_value());
}

TEST_CASE("0.0 and -0.0 are one value to indexes and identities as to filters, and NaN in a filter compares with nothing") {
  using namespace ashlar::dsl;
  TempDir dir;
  auto d = domain("d")
               .resource(resource("M")
                             .uuid_primary_key("id")
                             .attribute("name", type::string)
                             .attribute("x", type::floating)
                             .attribute("y", type::floating)
                             .identity("unique_x", {"x"})  // an index on x: lookups by x use it
                             .defaults({"read", "create:*"}))
               .build()
               .value();
  auto engine = Engine::open(dir.path(), d, {.durability = Durability::no_sync}).value();
  engine.create("M", {{"name", "neg"}, {"x", -0.0}, {"y", -0.0}}).value();
  engine.create("M", {{"name", "one"}, {"x", 1.0}, {"y", 1.0}}).value();
  auto names = [&](const Expr& filter) {
    std::vector<std::string> out;
    for (const auto& r : engine.read("M", {.filter = filter, .sort = {SortKey{"name"}}}).value())
      out.push_back(*r["name"].as_string());
    return out;
  };
  // x is looked up in its index, y scanned: the same answer either way.
  CHECK(names(ref("x") == 0.0) == std::vector<std::string>{"neg"});
  CHECK(names(ref("y") == 0.0) == std::vector<std::string>{"neg"});
  CHECK(names(ref("x").in({Expr(0.0)})) == std::vector<std::string>{"neg"});
  CHECK(names(ref("x") == 0) == std::vector<std::string>{"neg"});
  // The identity holds -0.0: 0.0 is that value.
  std::uint64_t before = log_length(engine.log());
  auto taken = engine.create("M", {{"name", "again"}, {"x", 0.0}});
  REQUIRE_FALSE(taken.has_value());
  CHECK(taken.error().code == "identity_taken");
  CHECK(log_length(engine.log()) == before);
  CHECK(*engine.get_by("M", "unique_x", {{"x", 0.0}}).value()["name"].as_string() == "neg");
  CHECK(engine.verify().value().ok());  // the log's own keys keep the value's bits

  for (const char* attribute : {"x", "y"}) {
    auto nan = engine.read("M", {.filter = ref(attribute) == Expr(Value(std::nan("")))});
    REQUIRE_FALSE(nan.has_value());
    CHECK_THAT(nan.error().describe(), Catch::Contains("NaN compares with nothing; compare finite numbers"));
  }
}

TEST_CASE("get_by refuses a field its identity does not hold, rather than dropping the condition") {
  using namespace ashlar::dsl;
  TempDir dir;
  auto d = domain("d")
               .resource(resource("User")
                             .uuid_primary_key("id")
                             .attribute("name", type::string)
                             .attribute("age", type::integer)
                             .identity("unique_name", {"name"})
                             .defaults({"read", "create:*"}))
               .build()
               .value();
  auto engine = Engine::open(dir.path(), d, {.durability = Durability::no_sync}).value();
  engine.create("User", {{"name", "b"}, {"age", 20}}).value();
  auto error = [&](const Fields& fields) { return engine.get_by("User", "unique_name", fields).error().describe(); };
  CHECK(error({{"name", "b"}, {"age", 3}}) ==
        "invalid: User.get_by: invalid input: age: is not an attribute of identity unique_name of User (name)");
  CHECK(error({{"name", "b"}, {"zzz", 3}}) ==
        "invalid: User.get_by: invalid input: zzz: is not an attribute of identity unique_name of User (name)");
  CHECK(error({{"name", "b"}, {"name", "c"}}) == "invalid: User.get_by: invalid input: name: is given more than once");
  CHECK(error({}) == "invalid: User.get_by: invalid input: name: is required to find the record");
  CHECK(engine.get_by("User", "unique_name", {{"name", "b"}}).value()["age"] == Value(20));
}

namespace {

// A resource keyed by a float.
Domain float_keyed() {
  using namespace ashlar::dsl;
  return domain("d")
      .resource(resource("F")
                    .attribute("k", type::floating, {.allow_nil = false, .primary_key = true})
                    .attribute("note", type::string)
                    .defaults({"read", "destroy", "create:*", "update:*"}))
      .build()
      .value();
}

}  // namespace

TEST_CASE("a float primary key: 0.0 and -0.0 name one record") {
  TempDir dir;
  Domain d = float_keyed();
  auto engine = Engine::open(dir.path(), d, {.durability = Durability::no_sync}).value();
  engine.create("F", {{"k", 0.0}, {"note", "zero"}}).value();
  std::uint64_t before = log_length(engine.log());
  auto again = engine.create("F", {{"k", -0.0}});
  REQUIRE_FALSE(again.has_value());
  CHECK(again.error().code == "already_exists");
  CHECK(log_length(engine.log()) == before);
  CHECK(engine.get("F", -0.0).value()["note"] == Value("zero"));
  engine.update("F", -0.0, {{"note", "still zero"}}).value();
  CHECK(engine.read("F").value().size() == 1);
  CHECK(engine.history("F", 0.0).value().size() == 2);
  // Created as -0.0, it is 0.0.
  engine.destroy("F", 0.0).value();
  auto negative = engine.create("F", {{"k", -0.0}}).value();
  CHECK_FALSE(std::signbit(*negative["k"].as_float()));
  CHECK(engine.history("F", 0.0).value().size() == 4);
}

TEST_CASE("a record an earlier build keyed by -0.0 is found by its key, as 0.0 or -0.0") {
  TempDir dir;
  Domain d = float_keyed();
  Engine::open(dir.path(), d).value();  // the store and its model
  {
    // Its create, as a build that kept a key's bits appended and folded it.
    auto log = Log::open(dir.path()).value();
    auto state = StateProjection::open(*log, d).value();
    log->write([&](Txn& txn) -> Result<void> {
         Event e;
         e.domain = "d";
         e.resource = "F";
         e.action = "create";
         e.type = ActionType::create;
         e.version = 1;
         e.key = {{"k", -0.0}};
         e.changes = {{"k", -0.0}, {"note", "old"}};
         ASHLAR_TRY(stored, log->append(txn, std::move(e)));
         ASHLAR_TRY(applied, state.apply(txn, stored->event));
         return {};
       }).value();
  }
  auto engine = Engine::open(dir.path(), d).value();
  CHECK(engine.get("F", -0.0).value()["note"] == Value("old"));
  CHECK(engine.get("F", 0.0).value()["note"] == Value("old"));
  auto updated = engine.update("F", 0.0, {{"note", "kept"}}).value();
  CHECK(updated.version() == 2);
  CHECK(std::signbit(*updated["k"].as_float()));  // its key as stored
  // Its history, asked for by either zero, is the record's: the old create and the update.
  for (double id : {0.0, -0.0}) {
    auto history = engine.history("F", id).value();
    REQUIRE(history.size() == 2);
    CHECK(history[0].event.changes == Fields{{"k", -0.0}, {"note", "old"}});
    CHECK(history[1].event.changes == Fields{{"note", "kept"}});
  }
  CHECK(engine.read("F").value().size() == 1);
  CHECK(engine.verify().value().ok());
}

TEST_CASE("a filter that compares an attribute with what it never compares with is refused whatever is stored") {
  TempDir dir;
  using namespace ashlar::dsl;
  Domain d = domain("d")
                 .resource(resource("Item")
                               .uuid_primary_key("id")
                               .attribute("name", type::string)
                               .attribute("price", type::floating)
                               .attribute("qty", type::integer)
                               .attribute("due", type::date)
                               .defaults({"read", "create:*"}))
                 .build()
                 .value();
  auto engine = Engine::open(dir.path(), d, {.durability = Durability::no_sync}).value();
  auto refused = [&](const Expr& filter) {
    auto read = engine.read("Item", {.filter = filter});
    REQUIRE_FALSE(read.has_value());
    return read.error().describe();
  };
  const std::string nan = "invalid: Item.read: invalid input: filter: NaN compares with nothing; compare finite "
                          "numbers in `price == nan`";
  // An empty store, then one whose price is nil, then one with a price: the same error.
  CHECK(refused(ref("price") == Expr(Value(std::nan("")))) == nan);
  Record nil_price = engine.create("Item", {{"name", "a"}}).value();
  CHECK(refused(ref("price") == Expr(Value(std::nan("")))) == nan);
  CHECK(engine.get("Item", nil_price.id(), {.filter = ref("price") == Expr(Value(std::nan("")))}).error().describe() ==
        nan);
  // Short-circuited by what comes before it, and inside `not`: refused all the same.
  CHECK_THAT(refused(ref("name") == "zz" && ref("price") < Expr(Value(std::nan("")))), Catch::Contains("NaN compares"));
  CHECK_THAT(refused(!(ref("qty") == "abc")), Catch::Contains("Item.read: invalid input: filter: "));
  CHECK_THAT(refused(ref("qty").in({Expr(1), Expr("abc")})), Catch::Contains("in `qty in [1, \"abc\"]`"));
  CHECK_THAT(refused(ref("due") > "soon"), Catch::Contains("not an ISO 8601 date"));
  engine.create("Item", {{"name", "b"}, {"price", 2.5}, {"qty", 3}}).value();
  CHECK(refused(ref("price") == Expr(Value(std::nan("")))) == nan);
  // A filter of any depth is checked without recursion: a read of 100,000 terms on a small
  // stack, the last of them refused.
  Expr deep = ref("qty") == 0;
  for (int i = 1; i < 100000; ++i) deep = std::move(deep) || (ref("qty") == i);
  deep = std::move(deep) || (ref("qty") == "abc");
  std::string deep_error;
  test::on_small_stack([&] {
    auto read = engine.read("Item", {.filter = deep});
    deep_error = read ? "" : read.error().describe();
  });
  CHECK(deep_error == "invalid: Item.read: invalid input: filter: cannot compare integer with string in "
                     "`qty == \"abc\"`");
  // A long literal is quoted by its first 100 bytes and its length, not whole.
  Array many;
  for (int i = 0; i < 1000; ++i) many.push_back(Value("abcdefghij"));
  std::string long_error = refused(ref("name") == Expr(Value(many)));
  CHECK(long_error.size() < 300);
  CHECK_THAT(long_error, Catch::StartsWith("invalid: Item.read: invalid input: filter: cannot compare string with "
                                           "array in `name == [\"abcdefghij\", ") &&
                             Catch::EndsWith("... (14008 bytes)`"));
  // What compares is not refused: numbers with numbers, a date with a date's text.
  CHECK(engine.read("Item", {.filter = ref("qty") == 3.0}).value().size() == 1);
  CHECK(engine.read("Item", {.filter = ref("due") > "2024-01-01"}).value().empty());
}

TEST_CASE("JSON nested past any stored depth is cut, not recursed through, and integers past int64 are floats") {
  std::string deep;
  for (int i = 0; i < 200000; ++i) deep += '[';
  for (int i = 0; i < 200000; ++i) deep += ']';
  Value cut = value_from_json(nlohmann::json::parse(deep));
  int depth = 0;
  for (const Value* v = &cut; v && v->as_array(); v = v->as_array()->empty() ? nullptr : &v->as_array()->front())
    ++depth;
  CHECK(depth == 64);
  CHECK(value_from_json(nlohmann::json::parse("9223372036854775807")) == Value(std::int64_t{9223372036854775807}));
  CHECK(value_from_json(nlohmann::json::parse("9223372036854775808")).as_float());
  CHECK(value_from_json(nlohmann::json::parse("18446744073709551615")).as_float());
  CHECK(cast_json(Type{TypeKind::integer}, nlohmann::json::parse("18446744073709551615")).error == "expected integer, got float");
}

TEST_CASE_METHOD(Fixture, "an input with an empty name is an unknown input that says so") {
  auto r = engine.create("User", {{"name", "Bo"}, {"", 1}});
  CHECK(only_field(r) == FieldError{"", "unknown_input", "an input with an empty name names no attribute or argument of User.create"});
  CHECK(r.error().describe() ==
        "invalid: User.create: invalid input: an input with an empty name names no attribute or argument of User.create");
}

TEST_CASE_METHOD(Fixture, "a message shows an oversized value cut, with its length, never the whole input") {
  std::string long_name(10000, 'a');
  auto missing = engine.get("Tag", Map{{"scope", "s"}, {"name", long_name}});
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.error().cls == ErrorClass::not_found);
  CHECK(missing.error().message == "no Tag with primary key s, " + std::string(100, 'a') + "... (10000 bytes)");

  // An identity's values and a text that does not cast are shown the same way.
  using namespace ashlar::dsl;
  TempDir other;
  auto shop = Engine::open(other.path(),
                           domain("shop")
                               .resource(resource("Item")
                                             .uuid_primary_key("id")
                                             .attribute("name", type::string)
                                             .attribute("shop_id", type::uuid)
                                             .attribute("due", type::date)
                                             .identity("unique_name", {"name"})
                                             .defaults({"read", "create:*"}))
                               .build()
                               .value(),
                           {.durability = Durability::no_sync})
                  .value();
  std::string cut = std::string(100, 'x') + "... (300 bytes)";
  shop.create("Item", {{"name", std::string(300, 'x')}}).value();
  auto taken = shop.create("Item", {{"name", std::string(300, 'x')}});
  REQUIRE_FALSE(taken.has_value());
  // (The filter language's form: the quotes count.)
  CHECK(taken.error().message ==
        "identity unique_name is taken: another Item has \"" + std::string(99, 'x') + "... (302 bytes)");
  auto not_uuid = shop.create("Item", {{"shop_id", std::string(300, 'x')}});
  REQUIRE_FALSE(not_uuid.has_value());
  CHECK(not_uuid.error().fields.at(0).message == "\"" + cut + "\" is not a uuid");
  auto not_date = shop.create("Item", {{"due", std::string(300, 'x')}});
  REQUIRE_FALSE(not_date.has_value());
  CHECK(not_date.error().fields.at(0).message == "\"" + cut + "\" is not an ISO 8601 date");
}

TEST_CASE("an argument nested past what the log holds is too_complex, as an attribute is, and a map holds finite floats only") {
  using namespace ashlar::dsl;
  TempDir dir;
  int runs = 0;
  auto d = domain("d")
               .resource(resource("R")
                             .uuid_primary_key("id")
                             .attribute("meta", type::map)
                             .defaults({"read", "create:*"})
                             .action("inspect", {.returns = type::integer,
                                                 .arguments = {argument("tree", type::map)},
                                                 .transaction = false,
                                                 .run = [&runs](ActionInput&) -> Result<Value> { return Value(++runs); }}))
               .build()
               .value();
  auto engine = Engine::open(dir.path(), d, {.durability = Durability::no_sync}).value();
  auto nest = [](int depth) {
    Value v = 1;
    for (int i = 0; i < depth; ++i) v = Value(Map{{"k", v}});
    return v;
  };
  CHECK(engine.run_action("R", "inspect", {{"tree", nest(16)}}).value() == Value(1));
  auto deep = engine.run_action("R", "inspect", {{"tree", nest(17)}});
  REQUIRE_FALSE(deep.has_value());
  CHECK(deep.error().code == "too_complex");
  CHECK(deep.error().describe() == "invalid: R.inspect: invalid input: tree: nests maps and arrays more than 16 levels deep");
  CHECK(runs == 1);

  auto nan = engine.create("R", {{"meta", Map{{"ratio", std::nan("")}}}});
  REQUIRE_FALSE(nan.has_value());
  CHECK(nan.error().describe() == "invalid: R.create: invalid input: meta: holds a float that is not finite");
  CHECK(engine.read("R").value().empty());
}

TEST_CASE("a float primary key of -0.0 is found by a filter on 0.0 or -0.0") {
  using namespace ashlar::dsl;
  TempDir dir;
  auto d = domain("d")
               .resource(resource("Reading")
                             .attribute("at", type::floating, {.primary_key = true})
                             .attribute("label", type::string)
                             .defaults({"read", "create:*"}))
               .build()
               .value();
  auto engine = Engine::open(dir.path(), d, {.durability = Durability::no_sync}).value();
  engine.create("Reading", {{"at", -0.0}, {"label", "origin"}}).value();
  for (double zero : {0.0, -0.0}) {
    auto found = engine.read("Reading", {.filter = ref("at") == zero}).value();
    REQUIRE(found.size() == 1);
    CHECK(*found[0]["label"].as_string() == "origin");
  }
  CHECK(engine.verify().value().ok());
}
