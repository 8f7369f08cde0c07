// Long and large filters and sorts: a chain of a few thousand terms parses, evaluates,
// prints and compares without recursing per term (checked on a thread with a small stack,
// as a server's worker might have), and input past the limits is a too_complex error.
#include <ashlar/model/expr.hpp>
#include <ashlar/model/json.hpp>
#include <ashlar/model/sort.hpp>

#include <catch2/catch.hpp>

#include "support/small_stack.hpp"

#include <functional>
#include <string>

using namespace ashlar;
using namespace ashlar::dsl;
using ashlar::test::on_small_stack;

namespace {

// `first`, then `op term(i)` for i in 1..count-1.
std::string chain(const std::string& first, const std::string& op, int count,
                  const std::function<std::string(int)>& term) {
  std::string text = first;
  for (int i = 1; i < count; ++i) text += " " + op + " " + term(i);
  return text;
}

EvalContext record_with(Value x) {
  EvalContext ctx;
  ctx.ref = [x](const std::vector<std::string>&) -> Result<Value> { return x; };
  return ctx;
}

// What a caught failure on the small-stack thread says (Catch2's macros stay on the
// test's own thread).
struct Outcome {
  std::string error;  // empty on success
  Value value;
  std::string printed;
  bool reparsed_equal = false;
  std::size_t nodes = 0;
};

Outcome parse_evaluate_print(const std::string& text, const EvalContext& ctx) {
  Outcome out;
  on_small_stack([&] {
    auto e = parse_expr(text);
    if (!e) {
      out.error = e.error().describe();
      return;
    }
    out.nodes = e->node_count();
    auto v = evaluate(*e, ctx);
    if (!v) {
      out.error = v.error().describe();
      return;
    }
    out.value = *v;
    out.printed = to_string(*e);
    auto again = parse_expr(out.printed);
    out.reparsed_equal = again && again->equals(*e);
  });
  return out;
}

}  // namespace

TEST_CASE("a chain of a few thousand terms joined by one operator parses, evaluates and prints") {
  auto number = [](int i) { return std::to_string(i); };
  auto same = [](int) { return std::string("x"); };
  struct Case {
    std::string text;
    Value x;
    Value want;
    std::size_t nodes;
  };
  const Case cases[] = {
      {chain("x", "+", 4000, same), Value(1), Value(4000), 7999},
      {chain("x", "*", 4000, same), Value(1), Value(1), 7999},
      {chain("x", "-", 4000, same), Value(1), Value(1 - 3999), 7999},
      {chain("x", "==", 4000, same), Value(true), Value(true), 7999},
      {chain("x", "and", 4000, same), Value(true), Value(true), 7999},
      {chain("x", "or", 4000, same), Value(false), Value(false), 7999},
      // The last term decides: every one before it is evaluated and false.
      {chain("x == 0", "or", 2000, [](int i) { return "x == " + std::to_string(i); }), Value(1999),
       Value(true), 2000 * 3 + 1999},
      {chain("x != 0", "and", 2000, [](int i) { return "x != " + std::to_string(i); }),
       Value(5000), Value(true), 2000 * 3 + 1999},
      {chain("1", "+", 4000, number) + " == x", Value(1 + 3999 * 4000 / 2), Value(true), 8001},
  };
  for (const auto& c : cases) {
    INFO(c.text.substr(0, 60) << "... (" << c.text.size() << " bytes)");
    Outcome out = parse_evaluate_print(c.text, record_with(c.x));
    REQUIRE(out.error == "");
    CHECK(out.nodes == c.nodes);
    CHECK(out.value == c.want);
    CHECK(out.printed == c.text);
    CHECK(out.reparsed_equal);
  }
}

TEST_CASE("a filter past the node limit is a too_complex error naming the limit") {
  std::string text = chain("x", "+", 6000, [](int) { return std::string("x"); });  // 11999 nodes
  auto e = parse_expr(text);
  REQUIRE_FALSE(e);
  CHECK(e.error().cls == ErrorClass::invalid);
  CHECK(e.error().code == codes::kTooComplex);
  REQUIRE(e.error().fields.size() == 1);
  CHECK(e.error().fields[0].field == "filter");
  CHECK(e.error().fields[0].code == "too_complex");
  // The 5000th "+" joins the 5001st term, making 10001 nodes; "x + " is 4 bytes a term.
  CHECK(e.error().fields[0].message ==
        "at column 19999: too complex: more than the limit of 10000 nodes (values, names and "
        "operators)");

  // 5000 terms and 4999 operators under a `not`: exactly the limit, which parses.
  std::string terms = chain("x", "+", 5000, [](int) { return std::string("x"); });
  auto at_limit = parse_expr("not (" + terms + ")");
  REQUIRE(at_limit);
  CHECK(at_limit->node_count() == kMaxFilterNodes);
  auto over = parse_expr(terms + " == x");
  REQUIRE_FALSE(over);
  CHECK(over.error().fields[0].message ==
        "at column 19999: too complex: more than the limit of 10000 nodes (values, names and "
        "operators)");
}

TEST_CASE("a filter past the text limit is a too_complex error naming the limit") {
  std::string text = "x == \"" + std::string(kMaxFilterText, 'a') + "\"";
  auto e = parse_expr(text);
  REQUIRE_FALSE(e);
  CHECK(e.error().code == codes::kTooComplex);
  REQUIRE(e.error().fields.size() == 1);
  CHECK(e.error().fields[0].field == "filter");
  CHECK(e.error().fields[0].code == "too_complex");
  CHECK(e.error().fields[0].message == "too long: 65543 bytes, more than the limit of 65536");

  // One byte under the limit is only text: it parses.
  CHECK(parse_expr("x == \"" + std::string(kMaxFilterText - 7, 'a') + "\"").has_value());
}

TEST_CASE("an expression built by the DSL of any depth compares, prints, evaluates and destroys") {
  constexpr int kTerms = 100000;
  // Catch2's assertions belong to the test's thread: collect on the small stack, check after.
  struct {
    bool same = false, differs = true;
    std::size_t printed = 0, terms = 0, nodes = 0;
    int refs = 0;
    std::string total, all;
  } seen;
  on_small_stack([&] {
    Expr sum = ref("x");
    Expr conjunction = ref("b");
    for (int i = 1; i < kTerms; ++i) {
      sum = sum + ref("x");
      conjunction = ref("b") && conjunction;  // right-leaning, which the parser never builds
    }
    Expr copy = ref("x");
    for (int i = 1; i < kTerms; ++i) copy = copy + ref("x");
    seen.same = sum.equals(copy);
    seen.differs = sum.equals(copy + 1);
    seen.printed = to_string(sum).size();
    seen.nodes = sum.node_count();
    auto total = evaluate(sum, record_with(Value(2)));
    seen.total = total ? value_to_json(*total).dump() : total.error().describe();
    auto all = evaluate(conjunction, record_with(Value(true)));
    seen.all = all ? value_to_json(*all).dump() : all.error().describe();
    seen.terms = conjuncts(conjunction).size();
    visit_refs(sum, [&](const std::vector<std::string>&, bool) { ++seen.refs; });
  });  // every tree is destroyed on the small stack as well
  CHECK(seen.same);
  CHECK_FALSE(seen.differs);
  CHECK(seen.printed == kTerms + (kTerms - 1) * 3);  // "x + x + ..."
  CHECK(seen.nodes == 2 * kTerms - 1);
  CHECK(seen.total == std::to_string(2 * kTerms));
  CHECK(seen.all == "true");
  CHECK(seen.terms == kTerms);
  CHECK(seen.refs == kTerms);
}

TEST_CASE("a sort past its limits is a too_complex error naming the limit") {
  std::string keys = "a";
  for (int i = 1; i < 65; ++i) keys += ",a";
  auto r = parse_sort(keys);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == codes::kTooComplex);
  REQUIRE(r.error().fields.size() == 1);
  CHECK(r.error().fields[0].field == "sort");
  CHECK(r.error().fields[0].code == "too_complex");
  CHECK(r.error().fields[0].message == "at column 129: too complex: more than the limit of 64 keys");
  CHECK(parse_sort(keys.substr(2)).value().size() == kMaxSortKeys);

  auto long_text = parse_sort(std::string(5000, 'a'));
  REQUIRE_FALSE(long_text);
  CHECK(long_text.error().code == codes::kTooComplex);
  CHECK(long_text.error().fields[0].message == "too long: 5000 bytes, more than the limit of 4096");
  CHECK(parse_sort(std::string(kMaxSortText, 'a')).value().size() == 1);
}
