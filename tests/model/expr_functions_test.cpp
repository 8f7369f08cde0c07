// The functions calculations need — `<>`, if, cond, string_length, round — in the DSL,
// their text form, and evaluation, including chains long enough to blow a recursion.
#include <ashlar/model/expr.hpp>

#include <catch2/catch.hpp>

#include <map>

using namespace ashlar;
using namespace ashlar::dsl;

namespace {

EvalContext record(std::map<std::string, Value> values) {
  EvalContext ctx;
  ctx.ref = [values = std::move(values)](const std::vector<std::string>& path) -> Result<Value> {
    auto it = values.find(path[0]);
    return it == values.end() ? Value() : it->second;
  };
  return ctx;
}

Value eval(std::string_view text, const EvalContext& ctx = record({})) {
  auto e = parse_expr(text);
  INFO(text);
  if (!e) FAIL(e.error().describe());
  auto v = evaluate(*e, ctx);
  if (!v) FAIL(v.error().describe());
  return *v;
}

std::string eval_error(std::string_view text, const EvalContext& ctx = record({})) {
  auto e = parse_expr(text);
  if (!e) return "parse: " + e.error().describe();
  auto v = evaluate(*e, ctx);
  if (v) return "evaluated";
  REQUIRE(v.error().fields.size() == 1);
  return v.error().fields[0].code + ": " + v.error().fields[0].message;
}

std::string parse_error(std::string_view text) {
  auto e = parse_expr(text);
  if (e) return "parsed as " + to_string(*e);
  return e.error().fields.at(0).message;
}

}  // namespace

TEST_CASE("<> joins strings, nil when either side is nil, and binds as + does") {
  auto people = record({{"first", Value("Ada")}, {"last", Value("Lovelace")}});
  CHECK(eval("first <> \" \" <> last", people) == Value("Ada Lovelace"));
  CHECK(eval("first <> nil", people).is_null());
  CHECK(eval("first <> \"!\" == \"Ada!\"", people) == Value(true));
  CHECK(eval_error("first <> 1", people) ==
        "type_mismatch: cannot apply <> to string and integer in `first <> 1`");
  Expr built = concat(concat(ref("first"), " "), ref("last"));
  CHECK(to_string(built) == "first <> \" \" <> last");
  CHECK(parse_expr(to_string(built))->equals(built));
}

TEST_CASE("if picks a branch and evaluates only that one, and a non-boolean condition is an error") {
  auto r = record({{"n", Value(0)}});
  CHECK(eval("if(n == 0, \"zero\", \"other\")", r) == Value("zero"));
  CHECK(eval("if(n > 0, \"positive\")", r).is_null());
  CHECK(eval("if(nil, 1, 2)", r) == Value(2));
  // The branch not taken would divide by zero.
  CHECK(eval("if(n == 0, 0, 10 / n)", r) == Value(0));
  CHECK(eval_error("if(n, 1, 2)", r) == "not_boolean: expected a boolean, got integer from `n` in `if(n, 1, 2)`");
  CHECK(to_string(if_(ref("n") > 1, "big")) == "if(n > 1, \"big\", nil)");
  CHECK(parse_error("if(1)") == "at column 1: if takes 2 or 3 arguments, found 1");
}

TEST_CASE("cond takes conditions and values in pairs, then the value when none holds") {
  auto at = [](int n) { return record({{"n", Value(n)}}); };
  const char* text = "cond(n > 10, \"many\", n > 1, \"some\", \"few\")";
  CHECK(eval(text, at(20)) == Value("many"));
  CHECK(eval(text, at(5)) == Value("some"));
  CHECK(eval(text, at(0)) == Value("few"));
  CHECK(eval("cond(n > 10, \"many\")", at(0)).is_null());
  Expr built = cond({{ref("n") > 10, "many"}, {ref("n") > 1, "some"}}, "few");
  CHECK(to_string(built) == text);
  CHECK(parse_expr(text)->equals(built));
  CHECK(parse_expr("if(n > 10, \"many\", if(n > 1, \"some\", \"few\"))")->equals(built));
  CHECK(parse_error("cond(true)") == "at column 1: cond takes at least 2 arguments, found 1");
}

TEST_CASE("string_length counts code points, and round rounds half away from zero to the digits asked") {
  CHECK(eval("string_length(s)", record({{"s", Value("héllo")}})) == Value(5));
  CHECK(eval("string_length(nil)").is_null());
  CHECK(eval_error("string_length(3)") == "type_mismatch: string_length needs a string, got integer in `string_length(3)`");
  CHECK(eval("round(2.345, 2)") == Value(2.35));
  CHECK(eval("round(2.5)") == Value(3.0));
  CHECK(eval("round(-2.5)") == Value(-3.0));
  CHECK(eval("round(7)") == Value(7));
  CHECK(eval("round(1250, -2)") == Value(1300));
  CHECK(eval("round(nil, 2)").is_null());
  CHECK(eval_error("round(1.5, 40)") ==
        "type_mismatch: round takes a number of digits from -15 to 15, got 40 in `round(1.5, 40)`");
  CHECK(eval_error("round(\"x\")") == "type_mismatch: round needs a number, got string in `round(\"x\", 0)`");
  CHECK(to_string(round(ref("score"), 2)) == "round(score, 2)");
  CHECK(to_string(string_length(ref("title"))) == "string_length(title)");
  CHECK(parse_error("round()") == "at column 1: round takes 1 or 2 arguments, found 0");
}

TEST_CASE("a cond of a few thousand branches and a <> chain of as many parse, evaluate and print") {
  std::string text = "cond(";
  for (int i = 0; i < 1500; ++i) text += "n == " + std::to_string(i) + ", " + std::to_string(i * 2) + ", ";
  text += "-1)";
  auto e = parse_expr(text);
  REQUIRE(e.has_value());
  CHECK(eval(text, record({{"n", Value(1499)}})) == Value(2998));
  CHECK(eval(text, record({{"n", Value(5000)}})) == Value(-1));
  CHECK(to_string(*e) == text);
  CHECK(parse_expr(to_string(*e))->equals(*e));

  std::string joined = "s";
  for (int i = 0; i < 3000; ++i) joined += " <> s";
  CHECK(eval(joined, record({{"s", Value("a")}})) == Value(std::string(3001, 'a')));

  // Past the node limit, a cond is refused like any other filter.
  std::string huge = "cond(";
  for (int i = 0; i < 4000; ++i) huge += "n == 1, 2, ";
  huge += "3)";
  CHECK(parse_expr(huge).error().code == codes::kTooComplex);
}
