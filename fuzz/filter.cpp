// parse_expr on any text: an expression or an Invalid error on field "filter", never a
// crash. What parses is evaluated against a sample record (errors are fine, crashes are
// not), walked by the planner's analysis, and printed: the print must parse back to an
// equal expression, which prints the same.
#include <ashlar/model/expr.hpp>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

using namespace ashlar;

[[noreturn]] void fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "%s: %s\n", what, detail.c_str());
  std::abort();
}

// The sample record: a ticket with a representative and an actor, as a query sees it.
Result<Value> field(const std::vector<std::string>& path) {
  std::string name;
  for (const auto& segment : path) name += (name.empty() ? "" : ".") + segment;
  if (name == "status") return Value(Atom{"open"});
  if (name == "priority") return Value(Atom{"high"});
  if (name == "severity") return Value(3);
  if (name == "score") return Value(0.5);
  if (name == "subject") return Value("Printer on fire");
  if (name == "tags") return Value(Array{Value("a"), Value("b"), Value()});
  if (name == "opened_at") return Value(DateTime{1700000000000000});
  if (name == "representative.severity_threshold") return Value(2);
  if (name == "representative.name") return Value("Rita");
  return Value();
}

Result<Value> aggregate(const Aggregate& a) {
  if (a.kind == AggregateKind::count) return Value(2);
  if (a.kind == AggregateKind::exists) return Value(true);
  if (a.kind == AggregateKind::list) return Value(Array{Value(1), Value(2)});
  return Value(1);
}

// A literal with no text form (a non-finite float) anywhere in the tree.
bool has_non_finite(const Expr& root) {
  std::vector<const Expr*> exprs{&root};
  std::vector<const Value*> values;
  while (!exprs.empty() || !values.empty()) {
    if (!values.empty()) {
      const Value* v = values.back();
      values.pop_back();
      if (v->as_float() && !std::isfinite(*v->as_float())) return true;
      if (v->as_array())
        for (const auto& item : *v->as_array()) values.push_back(&item);
      if (v->as_map())
        for (const auto& entry : *v->as_map()) values.push_back(&entry.second);
      continue;
    }
    const Expr* e = exprs.back();
    exprs.pop_back();
    if (e->is_literal()) values.push_back(&e->literal());
    if (e->kind() == ExprKind::aggregate && e->aggregate().filter) exprs.push_back(&*e->aggregate().filter);
    for (const auto& operand : e->operands()) exprs.push_back(&operand);
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto e = parse_expr(text);
  if (!e) {
    const Error& err = e.error();
    if (err.cls != ErrorClass::invalid || err.fields.size() != 1 || err.fields[0].field != "filter")
      fail("not a filter error", err.describe());
    return 0;
  }
  if (e->node_count() > kMaxFilterNodes) fail("past the node limit", std::to_string(e->node_count()));

  Fields args{{"user_id", Value("8ba0c7a4-3a36-4d1c-9d4a-3b0f1a2c4d5e")}, {"min", Value(2)}};
  EvalContext parent;
  parent.ref = field;
  parent.aggregate = aggregate;
  EvalContext context = parent;
  context.args = &args;
  context.actor = Value(Map{{"id", Value(7)}, {"role", Value(Atom{"admin"})}});
  context.parent = &parent;
  context.now = DateTime{1800000000000000};
  (void)evaluate(*e, context);
  (void)matches(*e, context);
  for (const auto& conjunct : conjuncts(*e)) (void)index_term(conjunct);
  visit_refs(*e, [](const std::vector<std::string>&, bool) {});
  visit_aggregates(*e, [](const Aggregate&, bool) {});

  std::string printed = to_string(*e);
  auto again = parse_expr(printed);
  if (!again) {
    // Printing adds spaces and parentheses, which may take text past the length limit.
    if (has_non_finite(*e) || again.error().code == codes::kTooComplex) return 0;
    fail("the printed filter does not parse", again.error().describe() + "\n" + printed);
  }
  if (!again->equals(*e)) fail("the printed filter parses to another tree", printed + "\n" + to_string(*again));
  if (to_string(*again) != printed) fail("the reparsed filter prints otherwise", printed);
  return 0;
}
