#include <ashlar/model/expr.hpp>
#include <ashlar/model/sort.hpp>

#include <catch2/catch.hpp>

#include <map>
#include <random>

using namespace ashlar;
using namespace ashlar::dsl;

namespace {

Expr parsed(std::string_view text) {
  auto e = parse_expr(text);
  INFO(text);
  if (!e) FAIL(e.error().describe());
  return *e;
}

// The message of the single field error, or "" with the error described on failure.
std::string syntax_message(std::string_view text) {
  auto e = parse_expr(text);
  if (e) return "parsed as " + to_string(*e);
  const Error& err = e.error();
  CHECK(err.cls == ErrorClass::invalid);
  REQUIRE(err.fields.size() == 1);
  CHECK(err.fields[0].field == "filter");
  CHECK(err.fields[0].code == "syntax");
  return err.fields[0].message;
}

#define CHECK_SAME(a, b)                      \
  do {                                        \
    Expr a_ = (a), b_ = (b);                  \
    INFO(to_string(a_) << "  vs  " << to_string(b_)); \
    CHECK(a_.equals(b_));                     \
  } while (0)

// A record as a map of paths ("representative.priority_threshold") to values.
struct Record {
  std::map<std::string, Value> values;
  std::map<std::string, Value> aggregates;

  EvalContext context() const {
    EvalContext ctx;
    ctx.ref = [this](const std::vector<std::string>& path) -> Result<Value> {
      std::string key;
      for (const auto& s : path) key += (key.empty() ? "" : ".") + s;
      auto it = values.find(key);
      return it == values.end() ? Value() : it->second;
    };
    ctx.aggregate = [this](const Aggregate& a) -> Result<Value> {
      auto it = aggregates.find(to_string(a));
      if (it == aggregates.end()) return Error::framework("no aggregate " + to_string(a));
      return it->second;
    };
    return ctx;
  }
};

Value eval(const Expr& e, const EvalContext& ctx) {
  auto v = evaluate(e, ctx);
  if (!v) FAIL(v.error().describe());
  return *v;
}

Value eval(std::string_view text, const Record& record = {}) {
  return eval(parsed(text), record.context());
}

std::string eval_error(std::string_view text, const EvalContext& ctx) {
  auto v = evaluate(parsed(text), ctx);
  if (v) return "evaluated to " + v->str();
  REQUIRE(v.error().fields.size() == 1);
  CHECK(v.error().fields[0].field == "filter");
  return v.error().fields[0].message;
}

}  // namespace

// ---- The DSL and the parser build the same trees -------------------------------------

TEST_CASE("the reference's Ticket.top filter reads the same in C++ and in Ash's syntax") {
  Expr dsl_top = ref("priority").in({Atom{"medium"}, Atom{"high"}}) &&
                 ref("representative_id") == arg("user_id") && ref("status") == Atom{"open"};
  CHECK_SAME(dsl_top, parsed("priority in [:medium, :high] and representative_id == ^arg(:user_id) "
                             "and status == :open"));
  CHECK_SAME(ref("opened_at") > ago(10, TimeUnit::minute), parsed("opened_at > ago(10, :minute)"));
  CHECK_SAME(ref("priority") > parent(ref("priority")), parsed("priority > parent(priority)"));
  CHECK_SAME(ref("priority") > ref("representative.priority_threshold"),
             parsed("priority > representative.priority_threshold"));
  CHECK_SAME(ref("representative_id").in(arg("rep_ids")),
             parsed("representative_id in ^arg(:rep_ids)"));
}

TEST_CASE("every node kind has a DSL spelling and a text spelling") {
  CHECK_SAME(ref("priority") > 3 && ref("status") == "open",
             parsed("priority > 3 && status == \"open\""));
  CHECK_SAME(!is_nil(ref("closed_at")), parsed("not is_nil(closed_at)"));
  CHECK_SAME(!is_nil(ref("closed_at")), parsed("!is_nil(closed_at)"));
  CHECK_SAME(ref("a") == 1 || ref("b") != 2.5, parsed("a == 1 or b != 2.5"));
  CHECK_SAME(in(ref("priority"), {Atom{"low"}}), parsed("priority in [:low]"));
  CHECK_SAME(contains(ref("title"), "x"), parsed("contains(title, \"x\")"));
  CHECK_SAME(ref("owner_id") == actor("id"), parsed("owner_id == actor(:id)"));
  CHECK_SAME(ref("owner_id") == actor("id"), parsed("owner_id == ^actor(:id)"));
  CHECK_SAME(ref("owner") == actor(), parsed("owner == actor()"));
  CHECK_SAME(ref("org_id") == actor(std::vector<std::string>{"org", "id"}),
             parsed("org_id == ^actor([:org, :id])"));
  CHECK_SAME(arg("user_id"), parsed("arg(user_id)"));
  CHECK_SAME(count("comments") > 2, parsed("count(comments) > 2"));
  CHECK_SAME(exists("comments"), parsed("exists(comments)"));
  CHECK_SAME(exists("comments", ref("likes") > parent(ref("min_likes"))),
             parsed("exists(comments, likes > parent(min_likes))"));
  CHECK_SAME(sum("post.comments", "likes") >= 10, parsed("sum(post.comments, likes) >= 10"));
  CHECK_SAME(aggregate(Aggregate{AggregateKind::sum, {"comments"}, "likes", ref("spam") == false}),
             parsed("sum(comments, likes, spam == false)"));
  CHECK_SAME(aggregate(Aggregate{AggregateKind::count, {"comments"}, "", is_nil(ref("x"))}),
             parsed("count(comments, is_nil(x))"));
  CHECK_SAME(min("comments", "likes") <= max("comments", "likes"),
             parsed("min(comments, likes) <= max(comments, :likes)"));
  CHECK_SAME(first("comments", "body") == "hi", parsed("first(comments, body) == \"hi\""));
  CHECK_SAME(contains(list("comments", "body"), "hi"),
             parsed("contains(list(comments, body), \"hi\")"));
  CHECK_SAME(ref("due_at") < now(), parsed("due_at < now()"));
  CHECK_SAME(ref("due_at") < from_now(2, TimeUnit::day), parsed("due_at < from_now(2, :day)"));
  CHECK_SAME(ref("a") + 1 * ref("b") - ref("c") / 2, parsed("a + 1 * b - c / 2"));
  CHECK_SAME(ref("a") == Value(), parsed("a == nil"));
  CHECK_SAME(ref("done") == true, parsed("done == true"));
  CHECK_SAME(ref("x").in({ref("a"), 1}), parsed("x in [a, 1]"));
  CHECK(parsed("x in [a, 1]").operands()[1].kind() == ExprKind::list);
  CHECK(parsed("x in [1, 2]").operands()[1].literal() == Value(Array{1, 2}));
  CHECK_SAME(ref("x").in({}), parsed("x in []"));
}

TEST_CASE("the DSL's operators build trees, equals compares them") {
  static_assert(std::is_same_v<decltype(ref("a") == "x"), Expr>);
  static_assert(std::is_same_v<decltype(3 < ref("a")), Expr>);
  static_assert(std::is_same_v<decltype(!ref("a") || Atom{"x"} != ref("b")), Expr>);
  static_assert(std::is_same_v<decltype(Value(1) == Value(1)), bool>);
  CHECK(Expr().literal().is_null());
  CHECK_FALSE((ref("a") == 1).equals(ref("a") == 2));
  CHECK_FALSE((ref("a") == 1).equals(ref("a") != 1));
  CHECK_FALSE((ref("a") == 1).equals(ref("b") == 1));
  CHECK_FALSE((ref("a") == 1).equals(ref("a") == 1.0));
  CHECK_FALSE(ref("a.b").equals(ref("a")));
  CHECK_FALSE(arg("a").equals(ref("a")));
  CHECK_FALSE(exists("c").equals(exists("c", ref("x"))));
  CHECK_FALSE(exists("c", ref("x")).equals(exists("c", ref("y"))));
  CHECK_FALSE(sum("c", "x").equals(max("c", "x")));
  CHECK_FALSE(ago(1, TimeUnit::day).equals(ago(1, TimeUnit::hour)));
  CHECK_FALSE((ref("a") && ref("b")).equals(ref("a") || ref("b")));
  Expr shared = ref("x") > 1;
  CHECK((shared && shared).equals(parsed("x > 1 and x > 1")));
}

TEST_CASE("a std::string argument builds a ref, not std::ref") {
  std::string name = "rel.attr";
  const std::string field = "likes";
  CHECK_SAME(ref(name), parsed("rel.attr"));
  CHECK_SAME(arg(name), parsed("^arg(:\"rel.attr\")"));
  CHECK_SAME(min(field, field), parsed("min(likes, likes)"));
}

TEST_CASE("precedence follows Elixir: not, arithmetic, in, comparison, and, or") {
  CHECK_SAME(parsed("a or b and c"), ref("a") || (ref("b") && ref("c")));
  CHECK_SAME(parsed("a and b or c"), (ref("a") && ref("b")) || ref("c"));
  CHECK_SAME(parsed("not a and b"), !ref("a") && ref("b"));
  CHECK_SAME(parsed("not (a and b)"), !(ref("a") && ref("b")));
  CHECK_SAME(parsed("a + b * c == d"), ref("a") + ref("b") * ref("c") == ref("d"));
  CHECK_SAME(parsed("a - b - c"), (ref("a") - ref("b")) - ref("c"));
  CHECK_SAME(parsed("a - (b - c)"), ref("a") - (ref("b") - ref("c")));
  CHECK_SAME(parsed("a < b == true"), (ref("a") < ref("b")) == true);
  CHECK_SAME(parsed("x in [1] == false"), in(ref("x"), {1}) == false);
  CHECK_SAME(parsed("x not in [1, 2]"), !in(ref("x"), {1, 2}));
  CHECK_SAME(parsed("-3 * -x"), Expr(-3) * (Expr(0) - ref("x")));
  CHECK_SAME(parsed("a and b and c"), ref("a") && ref("b") && ref("c"));
}

TEST_CASE("literals of every kind parse") {
  CHECK(parsed("42").literal() == Value(42));
  CHECK(parsed("1_000").literal() == Value(1000));
  CHECK(parsed("-9223372036854775808").literal() == Value(INT64_MIN));
  CHECK(parsed("2.5e3").literal() == Value(2500.0));
  CHECK(parsed("1e-2").literal() == Value(0.01));
  CHECK(parsed("\"say \\\"hi\\\"\\\\\\n\"").literal() == Value("say \"hi\"\\\n"));
  CHECK(parsed(":open").literal() == Value(Atom{"open"}));
  CHECK(parsed(":\"two words\"").literal() == Value(Atom{"two words"}));
  CHECK(parsed("[]").literal() == Value(Array{}));
  CHECK(parsed("[[1], [:a, nil]]").literal() == Value(Array{Array{1}, Array{Atom{"a"}, Value()}}));
  CHECK(parsed("%{\"a\" => 1, \"b\" => [true]}").literal() ==
        Value(Map{{"a", 1}, {"b", Array{true}}}));
  auto id = *Uuid::parse("8ba0ab56-c6e3-4ab0-9c9c-df70e9945281");
  CHECK(parsed("type(\"8ba0ab56-c6e3-4ab0-9c9c-df70e9945281\", :uuid)").literal() == Value(id));
  CHECK(parsed("type(\"2026-01-02\", :date)").literal() == Value(*Date::parse("2026-01-02")));
  CHECK(parsed("type(\"aGk=\", :binary)").literal() == Value(Binary{"hi"}));
  CHECK(parsed("  active?  ").equals(ref("active?")));
}

// ---- Printing ------------------------------------------------------------------------

TEST_CASE("to_string prints Ash's syntax that parses back to the same tree") {
  auto id = *Uuid::parse("8ba0ab56-c6e3-4ab0-9c9c-df70e9945281");
  std::vector<Expr> cases = {
      ref("priority").in({Atom{"medium"}, Atom{"high"}}) &&
          ref("representative_id") == arg("user_id") && ref("status") == Atom{"open"},
      !(ref("a") && ref("b")) || !!ref("c"),
      ref("a") - (ref("b") - ref("c")) * (Expr(2) + 3) / -1.5,
      (ref("a") == ref("b")) == (ref("c") < 1),
      !in(ref("x"), {1, 2}) && in(ref("y"), arg("ys")),
      ref("id") == id && ref("at") > Value(*DateTime::parse("2026-01-01T00:00:00Z")),
      ref("blob") == Binary{std::string("\0\xff", 2)} &&
          ref("m") == Map{{"k", Array{1.0, "s\"\\"}}},
      ref("tag") == Atom{"needs quoting"} && ref("f") == 3.0 && ref("g") == 1e300,
      exists("post.comments", ref("likes") > parent(ref("min"))) && count("c") / 2 > sum("c", "n"),
      ref("x") == actor() || ref("y") == actor(std::vector<std::string>{"org", "id"}),
      ref("t") > ago(arg("n"), TimeUnit::week) && ref("t") < from_now(1, TimeUnit::microsecond),
      contains(ref("tags"), "a") && is_nil(first("c", "d")) && ref("l") == list("c", "d"),
      ref("x").in({ref("a"), ref("b") + 1}),
      Expr(Value()),
  };
  for (const auto& e : cases) {
    std::string text = to_string(e);
    INFO(text);
    auto back = parse_expr(text);
    REQUIRE(back);
    CHECK(back->equals(e));
    CHECK(to_string(*back) == text);
  }
  CHECK(to_string(cases[0]) ==
        "priority in [:medium, :high] and representative_id == ^arg(:user_id) and status == :open");
  CHECK(to_string(cases[1]) == "not (a and b) or not not c");
  CHECK(to_string(cases[2]) == "a - (b - c) * (2 + 3) / -1.5");
  CHECK(to_string(cases[5]) ==
        "id == type(\"8ba0ab56-c6e3-4ab0-9c9c-df70e9945281\", :uuid) and "
        "at > type(\"2026-01-01T00:00:00.000000Z\", :utc_datetime)");
  CHECK(to_string(cases[7]) == "tag == :\"needs quoting\" and f == 3.0 and g == 1e+300");
}

// Random trees of every kind, to check the printer's parentheses against the parser.
class RandomExpr {
 public:
  explicit RandomExpr(unsigned seed) : rng_(seed) {}

  Expr operator()(int depth) {
    if (depth == 0) return leaf();
    Expr a = (*this)(depth - 1), b = (*this)(depth - 1);
    switch (pick(14)) {
      case 0: return compare(static_cast<CompareOp>(pick(6)), a, b);
      case 1: return arith(static_cast<ArithOp>(pick(4)), a, b);
      case 2: return a && b;
      case 3: return a || b;
      case 4: return !a;
      case 5: return in(a, b);
      case 6: return in(a, {b, leaf()});
      case 7: return is_nil(a);
      case 8: return contains(a, b);
      case 9: return parent(a);
      case 10: return pick(2) ? exists("post.comments", a)
                              : aggregate(Aggregate{AggregateKind::first, {"c"}, "d", a});
      case 11: return ago(a, static_cast<TimeUnit>(pick(7)));
      case 12: return list_of({a, b});
      default: return from_now(b, TimeUnit::day);
    }
  }

 private:
  int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }

  Expr leaf() {
    static const Value kValues[] = {
        Value(), true, false, 0, -7, INT64_MIN, 2.5, -0.125, 1e20, "", "a \"q\" \\ \n\t", Atom{"open"},
        Atom{"two words"}, *Uuid::parse("8ba0ab56-c6e3-4ab0-9c9c-df70e9945281"),
        *DateTime::parse("2026-01-01T00:00:00.5Z"), *Date::parse("2026-02-03"), Binary{"\x01\x02"},
        Map{{"k", Array{1, "v"}}}, Array{}, Array{Array{1}, Atom{"x"}}};
    switch (pick(8)) {
      case 0: return ref("priority");
      case 1: return ref("representative.priority_threshold");
      case 2: return arg("user_id");
      case 3: return actor("id");
      case 4: return count("comments");
      case 5: return sum("comments", "likes");
      case 6: return now();
      default: return kValues[pick(std::size(kValues))];
    }
  }

  std::mt19937 rng_;
};

TEST_CASE("random trees print to text that parses back to the same tree") {
  RandomExpr random(20240601);
  for (int i = 0; i < 3000; ++i) {
    Expr e = random(1 + i % 5);
    std::string text = to_string(e);
    INFO(text);
    auto back = parse_expr(text);
    REQUIRE(back);
    REQUIRE(back->equals(e));
  }
}

// ---- Syntax errors -------------------------------------------------------------------

TEST_CASE("syntax errors name the column and what was found there") {
  CHECK(syntax_message("priority ==") ==
        "at column 12: expected a value after \"==\", found end of input");
  CHECK(syntax_message("") == "at column 1: expected a value, found end of input");
  CHECK(syntax_message("status == :open and") ==
        "at column 20: expected a value after \"and\", found end of input");
  CHECK(syntax_message("title == \"abc") ==
        "at column 10: unclosed string: expected a closing \", found end of input");
  CHECK(syntax_message("title == \"a\\qb\"") == "at column 12: unknown escape \"\\q\" in a string");
  CHECK(syntax_message("(a == 1 and b") ==
        "at column 14: expected \")\" to close the \"(\" at column 1, found end of input");
  CHECK(syntax_message("a == 1)") == "at column 7: unexpected \")\" with no \"(\" to close");
  CHECK(syntax_message("a == $x") == "at column 6: unexpected character \"$\"");
  CHECK(syntax_message("é == ü") == "at column 1: unexpected character \"é\"");
  CHECK(syntax_message("a == 1 €") == "at column 8: unexpected character \"€\"");
  CHECK(syntax_message("a = 1") == "at column 3: unexpected \"=\" (compare with \"==\")");
  CHECK(syntax_message("a & b") == "at column 3: unexpected \"&\" (did you mean \"&&\"?)");
  CHECK(syntax_message("status == :open priority") ==
        "at column 17: expected an operator or the end of input, found \"priority\"");
  CHECK(syntax_message("a in [1, 2") ==
        "at column 11: expected \",\" or \"]\" to close the \"[\" at column 6, found end of input");
  CHECK(syntax_message("a == and") == "at column 6: expected a value after \"==\", found \"and\"");
  CHECK(syntax_message("a == : b") ==
        "at column 6: expected an atom name after \":\", found \" \"");
  CHECK(syntax_message("a.") ==
        "at column 3: expected a relationship or attribute name after \".\", found end of input");
  CHECK(syntax_message("a == \"x\" \"y\"") ==
        "at column 10: expected an operator or the end of input, found string \"y\"");
  CHECK(syntax_message("a > 99999999999999999999") ==
        "at column 5: integer 99999999999999999999 is out of range");
  CHECK(syntax_message(std::string(300, '(') + "a" + std::string(300, ')')) ==
        "at column 201: expression nested too deeply (more than 200 levels)");
}

TEST_CASE("calls check their name, arguments and arity") {
  CHECK(syntax_message("foo(1) == 2") == "at column 1: unknown function \"foo\"");
  CHECK(syntax_message("is_nil(a, b)") == "at column 1: is_nil takes 1 argument, found 2");
  CHECK(syntax_message("x and contains(a)") == "at column 7: contains takes 2 arguments, found 1");
  CHECK(syntax_message("exists()") == "at column 1: exists takes 1 or 2 arguments, found 0");
  CHECK(syntax_message("max(a, b, c, d)") == "at column 1: max takes 2 or 3 arguments, found 4");
  CHECK(
      syntax_message("is_nil(a") ==
      "at column 9: expected \",\" or \")\" to close \"is_nil(\" at column 1, found end of input");
  CHECK(syntax_message("count(3) > 1") == "at column 7: count expects a relationship, found 3");
  CHECK(syntax_message("sum(c, 1 + 2) > 1") ==
        "at column 8: sum expects a field name, found 1 + 2");
  CHECK(syntax_message("arg(\"x\")") ==
        "at column 5: arg takes the argument's name, as in arg(:user_id)");
  CHECK(syntax_message("^status") ==
        "at column 2: expected arg(...) or actor(...) after \"^\", found \"status\"");
  CHECK(syntax_message("t > ago(1, :fortnight)") ==
        "at column 12: expected a time unit (:microsecond, :millisecond, :second, :minute, :hour, "
        ":day or :week), found :fortnight");
  CHECK(syntax_message("id == type(\"nope\", :uuid)") == "at column 12: \"nope\" is not a uuid");
  CHECK(syntax_message("id == type(x, :uuid)") ==
        "at column 12: type(...) casts literals only, found x");
  CHECK(syntax_message("m == %{\"a\" => b}") == "at column 15: map values must be literals");
}

// ---- Evaluation ----------------------------------------------------------------------

TEST_CASE("and, or and not are three-valued, a filter keeps only true") {
  Record r{{{"t", true}, {"f", false}}, {}};  // "n" is nil
  CHECK(eval("f and n", r) == Value(false));
  CHECK(eval("n and f", r) == Value(false));
  CHECK(eval("t and n", r).is_null());
  CHECK(eval("t and t", r) == Value(true));
  CHECK(eval("t or n", r) == Value(true));
  CHECK(eval("n or t", r) == Value(true));
  CHECK(eval("f or n", r).is_null());
  CHECK(eval("f or f", r) == Value(false));
  CHECK(eval("not n", r).is_null());
  CHECK(eval("not f", r) == Value(true));
  auto ctx = r.context();
  CHECK(matches(parsed("t"), ctx).value());
  CHECK_FALSE(matches(parsed("n"), ctx).value());
  CHECK_FALSE(matches(parsed("not n"), ctx).value());
  CHECK(matches(parsed("f or not t"), ctx).value() == false);
  auto bad = matches(parsed("1 + 1"), ctx);
  REQUIRE_FALSE(bad);
  CHECK(bad.error().fields[0].message ==
        "a filter must be true, false or nil, got integer from `1 + 1`");
  CHECK(eval_error("t and 3", ctx) == "expected a boolean, got integer from `3`");
}

TEST_CASE("comparisons with nil give nil, across int and float compare numerically") {
  Record r{{{"priority", 3}, {"score", 2.5}, {"status", Atom{"open"}}, {"title", "Broken"}}, {}};
  CHECK(eval("closed_at == nil", r).is_null());
  CHECK(eval("priority > closed_at", r).is_null());
  CHECK(eval("is_nil(closed_at)", r) == Value(true));
  CHECK(eval("not is_nil(closed_at)", r) == Value(false));
  CHECK(eval("priority == 3.0", r) == Value(true));
  CHECK(eval("score < priority", r) == Value(true));
  CHECK(eval("priority >= 3 and priority <= 3 and priority != 4", r) == Value(true));
  CHECK(eval("status == :open", r) == Value(true));
  CHECK(eval("status == \"open\"", r) == Value(true));
  CHECK(eval("\"closed\" != status", r) == Value(true));
  CHECK(eval("title > \"Apple\"", r) == Value(true));
  CHECK(eval("[1, 2] < [1, 3]", r) == Value(true));
  CHECK(eval("%{\"a\" => 1} == %{\"a\" => 1}", r) == Value(true));
}

TEST_CASE("uuids, times and dates compare with their own kind and their string form") {
  auto id = *Uuid::parse("8ba0ab56-c6e3-4ab0-9c9c-df70e9945281");
  auto at = *DateTime::parse("2026-03-01T12:00:00Z");
  Record r{{{"id", id}, {"at", at}, {"day", *Date::parse("2026-03-01")}}, {}};
  CHECK(eval("id == \"8BA0AB56-C6E3-4AB0-9C9C-DF70E9945281\"", r) == Value(true));
  CHECK(eval("\"8ba0ab56-c6e3-4ab0-9c9c-df70e9945281\" == id", r) == Value(true));
  CHECK(eval("at > \"2026-03-01T11:00:00Z\"", r) == Value(true));
  CHECK(eval("\"2026-03-01T11:00:00Z\" > at", r) == Value(false));
  CHECK(eval("at == type(\"2026-03-01T13:00:00+01:00\", :utc_datetime)", r) == Value(true));
  CHECK(eval("day < \"2026-03-02\"", r) == Value(true));
  auto ctx = r.context();
  CHECK(eval_error("id == \"nope\"", ctx) ==
        "cannot compare uuid with string \"nope\": not a uuid in `id == \"nope\"`");
  CHECK(eval_error("at < 3", ctx) == "cannot compare utc_datetime with integer in `at < 3`");
}

TEST_CASE("kinds that cannot be compared are an Invalid error naming both") {
  Record r{{{"priority", 3}, {"status", Atom{"open"}}}, {}};
  auto ctx = r.context();
  auto v = evaluate(parsed("priority == \"high\""), ctx);
  REQUIRE_FALSE(v);
  CHECK(v.error().cls == ErrorClass::invalid);
  CHECK(v.error().fields ==
        std::vector<FieldError>{{"filter", "type_mismatch",
                                 "cannot compare integer with string in `priority == \"high\"`"}});
  CHECK(eval_error("status > 1 or true", ctx) == "cannot compare atom with integer in `status > 1`");
  CHECK(eval_error("true < 1", ctx) == "cannot compare boolean with integer in `true < 1`");
  CHECK(eval_error("%{} < %{\"a\" => 1}", ctx) ==
        "maps can be compared for equality only in `%{} < %{\"a\" => 1}`");
}

TEST_CASE("in matches any element, and gives nil when it finds none but the list holds nil") {
  Record r{{{"priority", Atom{"high"}}, {"n", 2}, {"ids", Array{1, 2}}}, {}};
  CHECK(eval("priority in [:medium, :high]", r) == Value(true));
  CHECK(eval("priority in [\"medium\", \"high\"]", r) == Value(true));
  CHECK(eval("priority in [:low]", r) == Value(false));
  CHECK(eval("priority in []", r) == Value(false));
  CHECK(eval("priority in [:low, nil]", r).is_null());
  CHECK(eval("missing in [:low]", r).is_null());
  CHECK(eval("n in ids", r) == Value(true));
  CHECK(eval("n in [1, n + 0.0]", r) == Value(true));
  CHECK(eval("n not in [1, 3]", r) == Value(true));
  auto ctx = r.context();
  CHECK(eval_error("n in 2", ctx) == "in needs a list, got integer in `n in 2`");
  CHECK(eval_error("n in [\"two\"]", ctx) ==
        "cannot compare integer with string in `n in [\"two\"]`");
}

TEST_CASE("contains looks for a substring in strings and an element in lists") {
  Record r{{{"title", "Printer on fire"}, {"tags", Array{Atom{"urgent"}, Atom{"hw"}}}}, {}};
  CHECK(eval("contains(title, \"on f\")", r) == Value(true));
  CHECK(eval("contains(title, \"ON\")", r) == Value(false));
  CHECK(eval("contains(title, :fire)", r) == Value(true));
  CHECK(eval("contains(tags, :hw)", r) == Value(true));
  CHECK(eval("contains(tags, \"urgent\")", r) == Value(true));
  CHECK(eval("contains(tags, :sw)", r) == Value(false));
  CHECK(eval("contains(missing, \"x\")", r).is_null());
  CHECK(eval_error("contains(3, \"x\")", r.context()) ==
        "contains needs a string or a list, got integer in `contains(3, \"x\")`");
  CHECK(eval_error("contains(title, 3)", r.context()) ==
        "cannot look for integer in a string in `contains(title, 3)`");
}

TEST_CASE("arithmetic keeps integers integers, divides to floats and reports overflow") {
  Record r{{{"a", 7}, {"b", 2}, {"big", INT64_MAX}}, {}};
  CHECK(eval("a + b * 3", r) == Value(13));
  CHECK(eval("a - b - 1", r) == Value(4));
  CHECK(eval("a / b", r) == Value(3.5));
  CHECK(eval("a + 0.5", r) == Value(7.5));
  CHECK(eval("-a", r) == Value(-7));
  CHECK(eval("a + missing", r).is_null());
  CHECK(eval("a * 2 > b + 10", r) == Value(true));
  auto ctx = r.context();
  CHECK(eval_error("a / 0", ctx) == "division by zero in `a / 0`");
  CHECK(eval_error("big + 1", ctx) == "integer overflow in `big + 1`");
  CHECK(eval_error("a + \"x\"", ctx) == "cannot apply + to integer and string in `a + \"x\"`");
}

TEST_CASE("args, the actor and the parent record come from the context") {
  Fields args{{"user_id", "u1"}, {"ids", Array{1, 2}}};
  Record parent_record{{{"priority", 2}, {"id", "u1"}}, {}};
  Record r{{{"priority", 3}, {"owner", "u1"}, {"n", 1}}, {}};
  EvalContext parent_ctx = parent_record.context();
  EvalContext ctx = r.context();
  ctx.args = &args;
  ctx.actor = Value(Map{{"id", "u1"}, {"org", Map{{"id", 9}}}});
  ctx.parent = &parent_ctx;
  CHECK(eval(parsed("owner == ^arg(:user_id) and n in ^arg(:ids)"), ctx) == Value(true));
  CHECK(eval(parsed("owner == ^actor(:id)"), ctx) == Value(true));
  CHECK(eval(parsed("^actor([:org, :id]) == 9"), ctx) == Value(true));
  CHECK(eval(parsed("is_nil(actor(:missing))"), ctx) == Value(true));
  CHECK(eval(parsed("priority > parent(priority)"), ctx) == Value(true));
  CHECK(eval(parsed("parent(id) == owner"), ctx) == Value(true));
  CHECK(eval_error("owner == ^arg(:nope)", ctx) == "unknown argument \"nope\"");
  ctx.actor = Value();
  CHECK(eval(parsed("actor(:id)"), ctx).is_null());
  ctx.actor = Value(*Uuid::parse("8ba0ab56-c6e3-4ab0-9c9c-df70e9945281"));
  CHECK(eval(parsed("actor() == \"8ba0ab56-c6e3-4ab0-9c9c-df70e9945281\""), ctx) == Value(true));
  CHECK(eval_error("actor(:id) == 1", ctx) == "`^actor(:id)` needs the actor to be a map, got uuid");
  EvalContext orphan = r.context();
  CHECK(eval_error("parent(priority) == 1", orphan) ==
        "parent(...) needs a parent record; use it in relationship filters");
  auto unknown = evaluate(parsed("arg(:user_id)"), orphan);
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().fields ==
        std::vector<FieldError>{{"filter", "unknown_argument", "unknown argument \"user_id\""}});
}

TEST_CASE("aggregates come from the context's resolver, now and ago from its clock") {
  Record r{{{"opened_at", *DateTime::parse("2026-03-01T11:55:00Z")}},
           {{"count(comments)", 3}, {"exists(comments, likes > 1)", true}}};
  EvalContext ctx = r.context();
  ctx.now = *DateTime::parse("2026-03-01T12:00:00Z");
  CHECK(eval(parsed("count(comments) > 2 and exists(comments, likes > 1)"), ctx) == Value(true));
  CHECK(eval(parsed("opened_at > ago(10, :minute)"), ctx) == Value(true));
  CHECK(eval(parsed("opened_at > ago(1, :minute)"), ctx) == Value(false));
  CHECK(eval(parsed("from_now(1, :hour)"), ctx) == Value(*DateTime::parse("2026-03-01T13:00:00Z")));
  CHECK(eval(parsed("now()"), ctx) == Value(ctx.now));
  CHECK(eval_error("ago(1.5, :day) < now()", ctx) ==
        "the amount must be an integer, got float in `ago(1.5, :day)`");
  EvalContext bare;
  auto missing = evaluate(parsed("count(comments)"), bare);
  REQUIRE_FALSE(missing);
  CHECK(missing.error().cls == ErrorClass::framework);
}

// ---- Analysis ------------------------------------------------------------------------

TEST_CASE("conjuncts split top-level ands only") {
  auto parts = conjuncts(parsed("a == 1 and (b == 2 and c) and (d or e)"));
  REQUIRE(parts.size() == 4);
  CHECK_SAME(parts[0], ref("a") == 1);
  CHECK_SAME(parts[1], ref("b") == 2);
  CHECK_SAME(parts[2], ref("c"));
  CHECK_SAME(parts[3], ref("d") || ref("e"));
  CHECK(conjuncts(parsed("a or b")).size() == 1);
}

TEST_CASE("index_term recognizes equality and in against values that need no record") {
  auto term = index_term(parsed("representative_id == ^arg(:user_id)"));
  REQUIRE(term);
  CHECK(term->attribute == "representative_id");
  CHECK_SAME(term->value, arg("user_id"));
  CHECK_FALSE(term->in);
  term = index_term(parsed(":open == status"));
  REQUIRE(term);
  CHECK(term->attribute == "status");
  CHECK(term->value.literal() == Value(Atom{"open"}));
  term = index_term(parsed("priority in [:medium, :high]"));
  REQUIRE(term);
  CHECK(term->in);
  CHECK(term->value.literal() == Value(Array{Atom{"medium"}, Atom{"high"}}));
  term = index_term(parsed("owner_id in [actor(:id), parent(owner_id)]"));
  REQUIRE(term);
  CHECK(term->attribute == "owner_id");
  CHECK(index_term(parsed("id == parent(representative_id)")));
  CHECK_FALSE(index_term(parsed("a == b")));
  CHECK_FALSE(index_term(parsed("rep.id == 1")));
  CHECK_FALSE(index_term(parsed("a != 1")));
  CHECK_FALSE(index_term(parsed("a > 1")));
  CHECK_FALSE(index_term(parsed("a == count(c)")));
  CHECK_FALSE(index_term(parsed("a in [1, b]")));
  CHECK_FALSE(index_term(parsed("a == 1 and b == 2")));
}

TEST_CASE("visit_refs and visit_aggregates find what the runtime must validate and load") {
  std::vector<std::string> refs;
  visit_refs(parsed("a.b > parent(c) and exists(comments, likes > parent(d) and e) and f"),
             [&](const std::vector<std::string>& path, bool under_parent) {
               std::string s = under_parent ? "^" : "";
               for (const auto& p : path) s += (s.empty() || s == "^" ? "" : ".") + p;
               refs.push_back(s);
             });
  CHECK(refs == std::vector<std::string>{"a.b", "^c", "d", "f"});
  std::vector<std::string> aggregates;
  visit_aggregates(parsed("count(a) > parent(sum(b, x)) or exists(c, count(d) > 1)"),
                   [&](const Aggregate& a, bool under_parent) {
                     aggregates.push_back((under_parent ? "^" : "") + to_string(a));
                   });
  CHECK(aggregates ==
        std::vector<std::string>{"count(a)", "^sum(b, x)", "exists(c, count(d) > 1)"});

  // An aggregate under parent(...) is the parent's; its filter is about c's records, and a
  // parent(...) inside that filter leads back to the parent, not further out.
  refs.clear();
  visit_refs(parsed("parent(exists(c, x > parent(y))) and z"),
             [&](const std::vector<std::string>& path, bool under_parent) {
               refs.push_back((under_parent ? "^" : "") + path[0]);
             });
  CHECK(refs == std::vector<std::string>{"^y", "z"});
  aggregates.clear();
  visit_aggregates(parsed("parent(exists(c, count(d) > parent(count(e))))"),
                   [&](const Aggregate& a, bool under_parent) {
                     aggregates.push_back((under_parent ? "^" : "") + to_string(a));
                   });
  CHECK(aggregates == std::vector<std::string>{"^exists(c, count(d) > parent(count(e)))", "^count(e)"});
}

// ---- Sort input ----------------------------------------------------------------------

TEST_CASE("parse_sort reads Ash's sort input with its nils defaults") {
  CHECK(parse_sort("-opened_at,priority").value() ==
        std::vector<SortKey>{SortKey::desc("opened_at"), SortKey::asc("priority")});
  CHECK(
      parse_sort("+a, ++b , --c,rep.name").value() ==
      std::vector<SortKey>{
          {"a", false, false}, {"b", false, true}, {"c", true, false}, {"rep.name", false, false}});
  CHECK(parse_sort("-a").value()[0].nils_first);
  CHECK(parse_sort("").value().empty());
  CHECK(parse_sort("  ").value().empty());
  std::vector<SortKey> keys{
      SortKey::desc("a"), {"b", false, true}, {"c", true, false}, SortKey::asc("d.e")};
  CHECK(to_string(keys) == "-a,++b,--c,d.e");
  CHECK(parse_sort(to_string(keys)).value() == keys);
}

TEST_CASE("parse_sort errors name the position") {
  auto message = [](std::string_view text) {
    auto r = parse_sort(text);
    if (r) return std::string("parsed");
    CHECK(r.error().fields[0].field == "sort");
    CHECK(r.error().fields[0].code == "syntax");
    return r.error().fields[0].message;
  };
  CHECK(message("a,,b") == "at column 3: expected a field name, found \",\"");
  CHECK(message("a,") == "at column 3: expected a field name, found end of input");
  CHECK(message("-") == "at column 2: expected a field name, found end of input");
  CHECK(message("a b") == "at column 3: expected \",\" or the end of input, found \"b\"");
  CHECK(message("a.") == "at column 3: expected a field name, found end of input");
  CHECK(message("---a") == "at column 3: expected a field name, found \"-\"");
  CHECK(message("1a") == "at column 1: \"1a\" is not a field name");
}
