#pragma once
// Filter expressions, after Ash's `expr(...)`: an immutable AST, a C++ operator DSL that
// builds it, a parser and printer for Ash's text syntax, an evaluator with SQL's
// three-valued logic, and the analysis a query planner needs.
//
//   using namespace ashlar::dsl;
//   Expr top = ref("priority").in({Atom{"medium"}, Atom{"high"}}) &&
//              ref("representative_id") == arg("user_id") && ref("status") == Atom{"open"};
//   Expr same = parse_expr("priority in [:medium, :high] and "
//                          "representative_id == ^arg(:user_id) and status == :open").value();
//   top.equals(same);  // true
//
// `==`, `<`, `&&`, ... on Exprs build Exprs; compare two trees with equals().

#include <ashlar/model/export.hpp>
#include <ashlar/model/result.hpp>
#include <ashlar/model/value.hpp>

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace ashlar {

enum class ExprKind : std::uint8_t {
  literal,      // literal(): a Value; lists of literals fold into one Array literal
  ref,          // path(): attribute, or to-one relationships then an attribute
  arg,          // name(): an action argument
  actor,        // path(): keys into the actor map; empty for the actor itself
  parent,       // operands()[0], evaluated against the parent record
  compare,      // compare_op(), two operands
  logical_and,  // two operands
  logical_or,   // two operands
  logical_not,  // one operand
  in,           // operands()[0] in operands()[1] (a list)
  is_nil,       // one operand
  contains,     // substring of a string, or element of a list
  arith,        // arith_op(), two operands
  list,         // a list with at least one non-literal element
  aggregate,    // aggregate()
  now,          // the context's current time
  ago,          // now minus operands()[0] of unit()
  from_now,     // now plus operands()[0] of unit()
  call,         // function() applied to operands()
};

enum class CompareOp : std::uint8_t { eq, ne, lt, le, gt, ge };
enum class ArithOp : std::uint8_t { add, sub, mul, div, concat };  // concat: strings, `<>`
// Functions of ExprKind::call. if_: if(cond, then, else), lazy: only the branch taken is
// evaluated; string_length(s): code points; round(x, digits): half away from zero.
enum class ExprFunction : std::uint8_t { if_, string_length, round };
enum class AggregateKind : std::uint8_t { count, exists, sum, min, max, first, list };
enum class TimeUnit : std::uint8_t { microsecond, millisecond, second, minute, hour, day, week };

ASHLAR_API const char* to_string(CompareOp op);      // "==", "<", ...
ASHLAR_API const char* to_string(ArithOp op);        // "+", ...
ASHLAR_API const char* to_string(AggregateKind kind);  // "count", ...
ASHLAR_API const char* to_string(TimeUnit unit);     // "minute", ...
ASHLAR_API const char* to_string(ExprFunction fn);   // "if", "string_length", "round"
ASHLAR_API std::optional<TimeUnit> parse_time_unit(std::string_view name);

struct Aggregate;

class ASHLAR_API Expr {
 public:
  Expr();  // the literal nil
  Expr(Value value);
  // Any literal: ints, doubles, strings, Atom, Uuid, DateTime, nullptr... One conversion
  // step, so `ref("status") == "open"` builds an Expr.
  template <typename T>
    requires(std::is_constructible_v<Value, T> && !std::is_same_v<std::remove_cvref_t<T>, Expr> &&
             !std::is_same_v<std::remove_cvref_t<T>, Value>)
  Expr(T&& value) : Expr(Value(std::forward<T>(value))) {}

  ExprKind kind() const;
  // Each accessor is valid for the kinds listed on ExprKind (asserted).
  const Value& literal() const;
  const std::vector<std::string>& path() const;
  const std::string& name() const;
  const std::vector<Expr>& operands() const;
  CompareOp compare_op() const;
  ArithOp arith_op() const;
  TimeUnit unit() const;
  ExprFunction function() const;
  const Aggregate& aggregate() const;

  bool is_literal() const { return kind() == ExprKind::literal; }
  // Nodes in the tree, this one, its operands' and aggregate filters' included (a subtree
  // used twice counts twice); saturates at SIZE_MAX. Known at construction: O(1).
  std::size_t node_count() const;
  // Same tree: kinds, operators, literal values (Value equality) and names.
  bool equals(const Expr& other) const;

  // ref("priority").in({Atom{"medium"}, Atom{"high"}}); in(list) takes any expression
  // that evaluates to a list, such as arg("ids").
  Expr in(std::initializer_list<Expr> items) const;
  Expr in(Expr list) const;

  // The DSL's operators, found by argument-dependent lookup only (hidden friends), so
  // they never take part in comparisons of other types.
  friend ASHLAR_API Expr operator==(const Expr& a, const Expr& b);
  friend ASHLAR_API Expr operator!=(const Expr& a, const Expr& b);
  friend ASHLAR_API Expr operator<(const Expr& a, const Expr& b);
  friend ASHLAR_API Expr operator<=(const Expr& a, const Expr& b);
  friend ASHLAR_API Expr operator>(const Expr& a, const Expr& b);
  friend ASHLAR_API Expr operator>=(const Expr& a, const Expr& b);
  friend ASHLAR_API Expr operator&&(const Expr& a, const Expr& b);
  friend ASHLAR_API Expr operator||(const Expr& a, const Expr& b);
  friend ASHLAR_API Expr operator!(const Expr& a);
  friend ASHLAR_API Expr operator+(const Expr& a, const Expr& b);
  friend ASHLAR_API Expr operator-(const Expr& a, const Expr& b);
  friend ASHLAR_API Expr operator*(const Expr& a, const Expr& b);
  friend ASHLAR_API Expr operator/(const Expr& a, const Expr& b);

 private:
  struct Node;
  friend struct ExprFactory;
  explicit Expr(std::shared_ptr<const Node> node) : node_(std::move(node)) {}
  std::shared_ptr<const Node> node_;
};

// count(comments), sum(comments, likes), exists(comments, likes > 10), ...
struct ASHLAR_API Aggregate {
  AggregateKind kind = AggregateKind::count;
  std::vector<std::string> path;  // relationships from the record, e.g. {"post", "comments"}
  std::string field;              // the destination attribute; empty for count and exists
  // Which related records count: evaluated against each, with the record the aggregate
  // is evaluated for as its parent. Text: exists(rel, filter), sum(rel, field, filter).
  std::optional<Expr> filter;

  bool equals(const Aggregate& other) const;
};

// The builders. ref, arg, min and max are function objects: that turns off
// argument-dependent lookup, which with std::string arguments would otherwise pick
// std::ref or std::min over them.
namespace dsl {

struct ASHLAR_API RefFn {
  Expr operator()(std::string_view dotted) const;  // "representative.priority_threshold"
  Expr operator()(std::vector<std::string> path) const;
};
inline constexpr RefFn ref{};

struct ASHLAR_API ArgFn {
  Expr operator()(std::string_view name) const;
};
inline constexpr ArgFn arg{};

ASHLAR_API Expr actor();                        // the actor itself
ASHLAR_API Expr actor(std::string_view field);  // a key of the actor map; nil when there is no actor
ASHLAR_API Expr actor(std::vector<std::string> path);
ASHLAR_API Expr parent(Expr e);
ASHLAR_API Expr is_nil(Expr e);
ASHLAR_API Expr contains(Expr haystack, Expr needle);
ASHLAR_API Expr in(Expr e, std::initializer_list<Expr> items);
ASHLAR_API Expr in(Expr e, Expr list);
ASHLAR_API Expr list_of(std::vector<Expr> items);  // a literal Array when every item is a literal
ASHLAR_API Expr compare(CompareOp op, Expr a, Expr b);
ASHLAR_API Expr arith(ArithOp op, Expr a, Expr b);

// Aggregates over a relationship path ("comments", "post.comments").
ASHLAR_API Expr count(std::string_view relationship);
ASHLAR_API Expr exists(std::string_view relationship);
ASHLAR_API Expr exists(std::string_view relationship, Expr filter);
ASHLAR_API Expr sum(std::string_view relationship, std::string_view field);
ASHLAR_API Expr first(std::string_view relationship, std::string_view field);
ASHLAR_API Expr list(std::string_view relationship, std::string_view field);
struct ASHLAR_API MinFn {
  Expr operator()(std::string_view relationship, std::string_view field) const;
};
struct ASHLAR_API MaxFn {
  Expr operator()(std::string_view relationship, std::string_view field) const;
};
inline constexpr MinFn min{};
inline constexpr MaxFn max{};
ASHLAR_API Expr aggregate(Aggregate aggregate);

ASHLAR_API Expr now();
ASHLAR_API Expr ago(Expr amount, TimeUnit unit);       // ago(10, TimeUnit::minute)
ASHLAR_API Expr from_now(Expr amount, TimeUnit unit);

// String and conditional functions, for calculations and filters alike.
ASHLAR_API Expr concat(Expr a, Expr b);  // a <> b: nil when either is nil
// if(cond, then, else): `then` when cond is true, `else` when it is false or nil.
ASHLAR_API Expr if_(Expr cond, Expr then, Expr otherwise = Expr());
// cond(c1, v1, c2, v2, ..., otherwise): the value of the first condition that holds;
// built as nested if_, so it is an if_ chain to evaluate and compare.
ASHLAR_API Expr cond(std::vector<std::pair<Expr, Expr>> branches, Expr otherwise = Expr());
ASHLAR_API Expr string_length(Expr s);
ASHLAR_API Expr round(Expr x, Expr digits = Expr(0));

}  // namespace dsl

// ---- Text ----------------------------------------------------------------------------

// What parse_expr accepts. Evaluation, printing, comparison and destruction walk trees of
// any size without recursing per node, so these bound work and memory, not the stack.
inline constexpr std::size_t kMaxFilterText = 64 * 1024;  // bytes of filter text
inline constexpr std::size_t kMaxFilterNodes = 10000;     // Expr::node_count() of the result

// Parses Ash's expression syntax: `status == :open and priority in [:medium, :high]`,
// `not is_nil(closed_at)`, `representative.priority_threshold < priority`,
// `^arg(:user_id)`, `actor(:id)`, `parent(x)`, `count(comments) > 2`,
// `exists(comments, likes > 10)`, `contains(title, "x")`, `ago(10, :minute)`,
// `x not in [1, 2]`, `type("...", :uuid)`, `first_name <> " " <> last_name`,
// `if(priority > 2, "urgent", "normal")`, `cond(a > 2, "x", a > 1, "y", "z")` (pairs of
// condition and value, then the value when none holds; nil when left out),
// `string_length(title)`, `round(score, 2)`. Precedence, tightest
// first: not ! and unary -; * /; + - <>; in, not in; < <= > >=; == !=; and &&; or ||.
// Fails with an Invalid error, field "filter", code "syntax", whose message names the
// 1-based column and what was found there:
//   at column 12: expected a value after "==", found end of input
// Input past a limit above fails with an Invalid error whose code and field error's code
// are codes::kTooComplex ("too_complex"), naming the limit:
//   too long: 70000 bytes, more than the limit of 65536
//   at column 20001: too complex: more than the limit of 10000 nodes (values, names and operators)
[[nodiscard]] ASHLAR_API Result<Expr> parse_expr(std::string_view text);

// The same syntax; parse_expr(to_string(e)) gives a tree that equals(e). Literals with no
// syntax of their own print as casts: type("8ba0...", :uuid). Non-finite floats have no
// text form.
ASHLAR_API std::string to_string(const Expr& e);
ASHLAR_API std::string to_string(const Aggregate& a);
// The expression as an error message quotes it: its text, cut at a character's start
// after about 100 bytes, saying its length, when longer than 120.
ASHLAR_API std::string describe_expr(const Expr& e);

// ---- Evaluation ----------------------------------------------------------------------

// What an expression is evaluated against. The runtime fills in the callbacks.
struct ASHLAR_API EvalContext {
  // The value at `path` of the current record, following to-one relationships; nil when
  // a relationship on the way is nil.
  std::function<Result<Value>(const std::vector<std::string>& path)> ref{};
  // The aggregate's value for the current record (count 0 and exists false when empty).
  std::function<Result<Value>(const Aggregate&)> aggregate{};
  const Fields* args = nullptr;  // the action's arguments, by name
  Value actor{};                 // nil when there is none
  std::string tenant{};          // the call's tenant; empty when none (reads scope to it)
  const EvalContext* parent = nullptr;  // for parent(...) in relationship filters
  DateTime now = DateTime::now();       // now() and ago(); set once per query
};

// Evaluates with Ash's (and SQL's) semantics: a comparison, arithmetic, `in` or
// `contains` with nil gives nil; `and`/`or` are three-valued (false and nil = false,
// true or nil = true); int and float compare numerically; atoms compare with atoms and
// with strings by name; uuids, times and dates with their own kind and their string
// form. Fails (Invalid, field "filter") on kinds that cannot be compared or combined,
// naming both kinds; on an unknown argument, naming it; on division by zero or integer
// overflow; on parent(...) with no parent. A missing ref/aggregate callback is a
// Framework error.
[[nodiscard]] ASHLAR_API Result<Value> evaluate(const Expr& e, const EvalContext& context);

// Whether a filter keeps the record: only when `e` evaluates to true (nil and false do
// not). A non-boolean result is an Invalid error.
[[nodiscard]] ASHLAR_API Result<bool> matches(const Expr& e, const EvalContext& context);

// The order of two values by the rules evaluate() compares with: -1, 0 or 1. Arrays
// compare element by element, maps only for equality; nil sorts before everything (a
// sort applies its own nils_first). Fails as evaluate() does on kinds it cannot compare.
[[nodiscard]] ASHLAR_API Result<int> compare_values(const Value& a, const Value& b);

// ---- Analysis ------------------------------------------------------------------------

// The top-level conjuncts: `a and (b and c)` gives {a, b, c}; anything else gives {e}.
ASHLAR_API std::vector<Expr> conjuncts(const Expr& e);

// A conjunct an index on `attribute` can answer: `attr == v`, `v == attr` or
// `attr in list`, where `attr` is a one-segment ref and `value` needs no record to
// evaluate (literals, args, actor, now, and anything under parent(...)).
struct ASHLAR_API IndexTerm {
  std::string attribute;
  Expr value;  // evaluates to the wanted value, or for `in` to a list of them
  bool in = false;
};
// Evaluate `value`, cast each wanted value to the attribute's type (cast_value); nil
// wants nothing (`attr == nil` matches no record). Where a cast fails, scan instead:
// the evaluator decides those.
ASHLAR_API std::optional<IndexTerm> index_term(const Expr& conjunct);

// Calls `fn` for every ref evaluated against the record (under_parent false) or against
// its parent record (under_parent true, inside parent(...)). Refs inside an aggregate's
// filter belong to the related resource and are not visited, except those under
// parent(...) there, which are the record's own.
using RefVisitor = std::function<void(const std::vector<std::string>& path, bool under_parent)>;
ASHLAR_API void visit_refs(const Expr& e, const RefVisitor& fn);
// The same walk for aggregates.
using AggregateVisitor = std::function<void(const Aggregate& aggregate, bool under_parent)>;
ASHLAR_API void visit_aggregates(const Expr& e, const AggregateVisitor& fn);

}  // namespace ashlar
