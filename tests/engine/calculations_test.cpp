// Calculations: expressions and C++ code, loaded like attributes, with arguments, in
// filters and sorts (also inside aggregates' and relationships' filters), in the read's
// snapshot and in time-travel reads; and the errors a bad one gets.
#include "support/engine_helpers.hpp"
#include "support/temp_dir.hpp"

#include <ashlar/ashlar.hpp>
#include <ashlar/store_reader.hpp>

#include <catch2/catch.hpp>

using namespace ashlar;
using namespace ashlar::dsl;
using ashlar::test::log_length;
using ashlar::test::TempDir;

namespace {

// The sizes of the batches the C++ calculation was called with.
std::vector<std::size_t> g_batches;

std::shared_ptr<const Calculation> initials() {
  return calculation([](const std::vector<Record>& records, const CalculationContext& c) -> Result<std::vector<Value>> {
    g_batches.push_back(records.size());
    std::vector<Value> out;
    std::string dot = *find_field(c.arguments, "separator")->as_string();
    for (const auto& r : records)
      out.push_back(r["first_name"].as_string()->substr(0, 1) + dot + r["last_name"].as_string()->substr(0, 1) + dot);
    return out;
  });
}

Domain people() {
  return domain("people")
      .resource(resource("User")
                    .uuid_primary_key("id")
                    .attribute("first_name", type::string, {.allow_nil = false})
                    .attribute("last_name", type::string, {.allow_nil = false})
                    .attribute("score", type::floating)
                    .has_many("posts", "Post")
                    .has_many("popular_posts", "Post", {.filter = ref("popular") == true})
                    .calculate("full_name", type::string, concat(concat(ref("first_name"), " "), ref("last_name")))
                    .calculate("name_length", type::integer, string_length(ref("full_name")))
                    .calculate("greeting", type::string, concat(concat(arg("prefix"), " "), ref("last_name")),
                               {argument("prefix", type::string, {.allow_nil = false, .default_value = "Mx."})})
                    .calculate("rating", type::floating, round(ref("score") * arg("weight"), 1),
                               {argument("weight", type::floating, {.allow_nil = false})})
                    .calculate("activity", type::string,
                               cond({{count("posts") == 0, "none"}, {count("posts") == 1, "one"}}, "many"))
                    .calculate("initials", type::string, initials(),
                               {argument("separator", type::string, {.default_value = "."})})
                    .defaults({"read", "create:*", "update:*"}))
      .resource(resource("Post")
                    .uuid_primary_key("id")
                    .attribute("title", type::string, {.allow_nil = false})
                    .attribute("likes", type::integer, {.default_value = 0})
                    .belongs_to("user", "User")
                    .calculate("popular", type::boolean, ref("likes") > 10)
                    .defaults({"read", "create:*"}))
      .build()
      .value();
}

struct People {
  TempDir dir;
  Engine engine = Engine::open(dir.path(), people(), {.durability = Durability::no_sync}).value();
  Record ada = user("Ada", "Lovelace", 4.24);
  Record alan = user("Alan", "Turing", 3.0);
  Record grace = user("Grace", "Hopper", 5.0);

  Record user(const char* first, const char* last, double score) {
    return engine.create("User", {{"first_name", first}, {"last_name", last}, {"score", score}}).value();
  }
  void post(const Record& u, const char* title, int likes) {
    engine.create("Post", {{"title", title}, {"likes", likes}, {"user_id", u.id()}}).value();
  }
  std::vector<std::string> names(const std::vector<Record>& users) {
    std::vector<std::string> out;
    for (const auto& u : users) out.push_back(*u["first_name"].as_string());
    return out;
  }
};

}  // namespace

TEST_CASE("calculations load like attributes and are read from the Record") {
  People p;
  p.post(p.ada, "notes", 12);
  auto ada = p.engine.get("User", p.ada.id(), {.load = {"full_name", "name_length", "greeting", "activity"}}).value();
  CHECK(ada["full_name"] == Value("Ada Lovelace"));
  CHECK(ada["name_length"] == Value(12));
  CHECK(ada["greeting"] == Value("Mx. Lovelace"));
  CHECK(ada["activity"] == Value("one"));
  auto plain = p.engine.get("User", p.ada.id()).value();
  CHECK(plain.field("full_name").error().message ==
        "User.full_name is a calculation this record was read without: load it (Query::load) to read it");
}

TEST_CASE("a calculation's arguments come from the load, cast, with their defaults") {
  People p;
  auto ada = p.engine
                 .get("User", p.ada.id(),
                      {.load = {Load("greeting", {.args = {{"prefix", "Dr."}}}), Load("rating", {.args = {{"weight", 2}}})}})
                 .value();
  CHECK(ada["greeting"] == Value("Dr. Lovelace"));
  CHECK(ada["rating"] == Value(8.5));  // round(4.24 * 2, 1)
}

TEST_CASE("a bad, unknown or missing calculation argument is Invalid, naming the calculation and the argument") {
  People p;
  auto bad = p.engine.get("User", p.ada.id(), {.load = {Load("greeting", {.args = {{"prefix", Value(Map{})}}})}});
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().cls == ErrorClass::invalid);
  CHECK(bad.error().fields ==
        std::vector<FieldError>{{"greeting.prefix", "invalid_argument", "calculation greeting, argument prefix: expected string, got map"}});
  auto unknown = p.engine.get("User", p.ada.id(), {.load = {Load("greeting", {.args = {{"title", "Dr."}}})}});
  REQUIRE_FALSE(unknown.has_value());
  CHECK(unknown.error().fields ==
        std::vector<FieldError>{{"greeting.title", "unknown_argument", "calculation greeting has no argument title"}});
  auto missing = p.engine.read("User", {.load = {"rating"}});
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.error().cls == ErrorClass::invalid);
  CHECK(missing.error().fields ==
        std::vector<FieldError>{{"rating.weight", "required", "calculation rating, argument weight: is required"}});
}

TEST_CASE("an unknown calculation is Invalid naming it, in a load, a filter and a sort") {
  People p;
  auto load = p.engine.read("User", {.load = {"nickname"}});
  REQUIRE_FALSE(load.has_value());
  CHECK(load.error().fields.at(0) ==
        FieldError{"load", "unknown_relationship", "User has no relationship, aggregate or calculation named nickname"});
  auto filter = p.engine.read("User", {.filter = ref("nickname") == "x"});
  REQUIRE_FALSE(filter.has_value());
  CHECK(filter.error().fields.at(0) == FieldError{"filter", "unknown_attribute", "User has no attribute nickname"});
  auto sort = p.engine.read("User", {.sort = {SortKey::asc("nickname")}});
  REQUIRE_FALSE(sort.has_value());
  CHECK(sort.error().fields.at(0) == FieldError{"sort", "unknown_attribute", "User has no attribute nickname"});
}

TEST_CASE("calculations filter and sort, by the DSL and by text") {
  People p;
  auto found = p.engine.read("User", {.filter = ref("full_name") == "Alan Turing"}).value();
  CHECK(p.names(found) == std::vector<std::string>{"Alan"});
  auto longer = p.engine.read("User", {.filter = parse_expr("string_length(full_name) > 11").value(),
                                       .sort = {SortKey::asc("full_name")}})
                    .value();
  CHECK(p.names(longer) == std::vector<std::string>{"Ada", "Grace"});
  auto sorted = p.engine.read("User", {.sort = {SortKey{"name_length", false}, SortKey{"full_name", true}}}).value();
  CHECK(p.names(sorted) == std::vector<std::string>{"Alan", "Grace", "Ada"});
  // A calculation with arguments is filtered by with its defaults.
  CHECK(p.names(p.engine.read("User", {.filter = ref("greeting") == "Mx. Hopper"}).value()) ==
        std::vector<std::string>{"Grace"});
}

TEST_CASE("calculations work inside aggregates' filters and relationships' filters") {
  People p;
  p.post(p.ada, "notes", 12);
  p.post(p.ada, "letters", 3);
  p.post(p.alan, "paper", 5);
  auto with_popular = p.engine.read("User", {.filter = exists("posts", ref("popular") == true)}).value();
  CHECK(p.names(with_popular) == std::vector<std::string>{"Ada"});
  auto ada = p.engine.get("User", p.ada.id(), {.load = {"popular_posts", "activity"}}).value();
  REQUIRE(ada.related("popular_posts").size() == 1);
  CHECK(ada.related("popular_posts")[0]["title"] == Value("notes"));
  CHECK(ada["activity"] == Value("many"));
  // A calculation of the related records, loaded with them.
  auto posts = p.engine.get("User", p.ada.id(), {.load = {Load("posts", {.load = {"popular"}})}}).value();
  for (const auto& post : posts.related("posts")) CHECK(post["popular"] == Value(*post["likes"].as_int() > 10));
}

TEST_CASE("a C++ calculation computes a whole batch of records in one call") {
  People p;
  g_batches.clear();
  auto all = p.engine.read("User", {.sort = {SortKey::asc("first_name")}, .load = {"initials"}}).value();
  CHECK(g_batches == std::vector<std::size_t>{3});
  std::vector<Value> got;
  for (const auto& u : all) got.push_back(u["initials"]);
  CHECK(got == std::vector<Value>{Value("A.L."), Value("A.T."), Value("G.H.")});
  // In a filter and a sort it is computed once for every candidate, not once per record.
  g_batches.clear();
  auto filtered = p.engine.read("User", {.filter = ref("initials") != "A.T.", .sort = {SortKey{"initials", true}}}).value();
  CHECK(p.names(filtered) == std::vector<std::string>{"Grace", "Ada"});
  CHECK(g_batches == std::vector<std::size_t>{3, 2});
  auto dashed = p.engine.get("User", p.ada.id(), {.load = {Load("initials", {.args = {{"separator", "-"}}})}}).value();
  CHECK(dashed["initials"] == Value("A-L-"));
}

TEST_CASE("calculations are computed in the read's snapshot, in time-travel reads too") {
  People p;
  auto before = log_length(p.engine.log());
  p.engine.update("User", p.ada.id(), {{"last_name", "King"}}).value();
  auto now = p.engine.get("User", p.ada.id(), {.load = {"full_name"}}).value();
  CHECK(now["full_name"] == Value("Ada King"));
  auto then = p.engine.get("User", p.ada.id(), {.load = {"full_name"}, .as_of = AsOf{.position = before}}).value();
  CHECK(then["full_name"] == Value("Ada Lovelace"));
  auto found = p.engine.read("User", {.filter = ref("full_name") == "Ada Lovelace", .as_of = AsOf{.position = before}}).value();
  CHECK(p.names(found) == std::vector<std::string>{"Ada"});
  CHECK(p.engine.read("User", {.filter = ref("full_name") == "Ada Lovelace"}).value().empty());
}

TEST_CASE("a C++ calculation that returns the wrong count or a value of another type is an error naming it") {
  TempDir dir;
  auto wrong = calculation([](const std::vector<Record>&, const CalculationContext&) -> Result<std::vector<Value>> {
    return std::vector<Value>{};
  });
  auto typed = calculation([](const std::vector<Record>& rs, const CalculationContext&) -> Result<std::vector<Value>> {
    return std::vector<Value>(rs.size(), Value(Map{}));
  });
  auto d = domain("d")
               .resource(resource("R").uuid_primary_key("id").calculate("wrong", type::integer, wrong)
                             .calculate("typed", type::integer, typed).defaults({"read", "create:*"}))
               .build()
               .value();
  auto engine = Engine::open(dir.path(), d, {.durability = Durability::no_sync}).value();
  engine.create("R", {}).value();
  auto w = engine.read("R", {.load = {"wrong"}});
  REQUIRE_FALSE(w.has_value());
  CHECK(w.error().message == "calculation R.wrong returned 0 values for 1 records");
  auto t = engine.read("R", {.load = {"typed"}});
  REQUIRE_FALSE(t.has_value());
  CHECK(t.error().fields == std::vector<FieldError>{{"typed", "invalid_value", "calculation typed: expected integer, got map"}});
}

TEST_CASE("mistakes in calculations are reported when the domain is built") {
  auto built = domain("d")
                   .resource(resource("R")
                                 .uuid_primary_key("id")
                                 .attribute("n", type::integer)
                                 .calculate("early", type::integer, ref("late") + 1)
                                 .calculate("late", type::integer, ref("n") + arg("step"))
                                 .calculate("colour", type::string, ref("hue"))
                                 .calculate("n", type::integer, ref("n"))
                                 .belongs_to("mom", "R")
                                 .has_many("kids", "R", {.destination_attribute = "mom_id"})
                                 .calculate("up", type::integer, parent(ref("n")))
                                 .calculate("up_count", type::integer, parent(count("kids"))))
                   .build();
  REQUIRE_FALSE(built.has_value());
  CHECK(built.error().fields ==
        std::vector<FieldError>{
            {"R.early", "invalid_calculation", "uses calculation late, which is not declared before it"},
            {"R.late", "unknown_argument", "uses ^arg(:step), which is not an argument of the calculation"},
            {"R.colour", "unknown_attribute", "R has no attribute hue"},
            {"R.n", "duplicate_name", "a calculation has the name of an attribute, relationship or aggregate"},
            {"R.up", "invalid", "parent(...) has no parent record in a calculation"},
            {"R.up_count", "invalid", "parent(...) has no parent record in a calculation"}});
}

TEST_CASE("the stored model keeps expression calculations, and C++ ones are listed and cannot be computed") {
  TempDir dir;
  auto stored = domain_from_json(domain_to_json(people())).value();
  const CalculationDef* greeting = stored.resource("User")->calculation("greeting");
  REQUIRE(greeting);
  CHECK(to_string(*greeting->expr) == "^arg(:prefix) <> \" \" <> last_name");
  CHECK(greeting->arguments.at(0).default_value == Value("Mx."));
  CHECK(stored.resource("User")->calculation("activity")->expr->equals(
      *people().resource("User")->calculation("activity")->expr));
  const CalculationDef* code = stored.resource("User")->calculation("initials");
  REQUIRE(code);
  CHECK_FALSE(code->computable());

  // A store read without the program (as the command line reads it).
  {
    auto engine = Engine::open(dir.path(), people(), {.durability = Durability::no_sync}).value();
    engine.create("User", {{"first_name", "Ada"}, {"last_name", "Lovelace"}}).value();
  }
  auto reader = StoreReader::open(dir.path()).value();
  auto users = reader.read("User", {.load = {"full_name"}}).value();
  CHECK(users.at(0)["full_name"] == Value("Ada Lovelace"));
  auto code_load = reader.read("User", {.load = {"initials"}});
  REQUIRE_FALSE(code_load.has_value());
  CHECK(code_load.error().message ==
        "User.initials is a calculation in C++ code, which a stored model does not hold; compute it in the program "
        "that declares it");
}

TEST_CASE("calculations that reach each other through relationships are an error, not an endless read") {
  auto d = domain("loop")
               .resource(resource("A")
                             .uuid_primary_key("id")
                             .has_one("b", "B")
                             .calculate("x", type::integer, ref("b.y"))
                             .defaults({"read", "create:*"}))
               .resource(resource("B")
                             .uuid_primary_key("id")
                             .belongs_to("a", "A")
                             .calculate("y", type::integer, ref("a.x"))
                             .defaults({"read", "create:*"}))
               .build()
               .value();
  TempDir dir;
  auto engine = Engine::open(dir.path(), d, {.durability = Durability::no_sync}).value();
  auto a = engine.create("A", {}).value();
  engine.create("B", {{"a_id", a.id()}}).value();
  auto loaded = engine.get("A", a.id(), {.load = {"x"}});
  REQUIRE_FALSE(loaded.has_value());
  CHECK(loaded.error().cls == ErrorClass::framework);
  CHECK(loaded.error().message ==
        "calculation A.x nests more than 32 calculations; do they reach each other through relationships?");
}
