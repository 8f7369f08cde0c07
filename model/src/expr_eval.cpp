// Evaluation with Ash's (and SQL's) semantics: nil propagates through comparisons and
// arithmetic, `and`/`or` are three-valued, and values of different kinds compare only
// where Ash would cast one to the other (int/float, atom/string, uuid or time/string).

#include <ashlar/model/expr.hpp>

#include "shown.hpp"

#include <fmt/format.h>

#include <cmath>
#include <iterator>
#include <optional>
#include <vector>

namespace ashlar {
namespace {

Error eval_error(std::string code, std::string message) {
  return Error::invalid({}, {}, {FieldError{"filter", std::move(code), std::move(message)}});
}

// Names the expression an operation failed in, so a user can find it in a long filter.
Error in_expr(Error error, const Expr& e) {
  if (!error.fields.empty()) error.fields[0].message += " in `" + describe_expr(e) + "`";
  return error;
}

Error mismatch_in(const Expr& e, std::string message) {
  return in_expr(eval_error("type_mismatch", std::move(message)), e);
}

template <typename T>
int order(const T& a, const T& b) {
  return a < b ? -1 : (b < a ? 1 : 0);
}

const char* kind_name(const Value& v) { return to_string(v.kind()); }

Error mismatch(const Value& a, const Value& b) {
  return eval_error("type_mismatch",
                    fmt::format("cannot compare {} with {}", kind_name(a), kind_name(b)));
}

bool is_number(const Value& v) { return v.as_int() || v.as_float(); }
double to_double(const Value& v) {
  return v.as_int() ? static_cast<double>(*v.as_int()) : *v.as_float();
}

// A uuid, time or date against its string form, as Ash casts the string to the
// attribute's type. `typed_first` keeps the order of the original operands.
Result<int> compare_with_text(const Value& typed, const std::string& text, bool typed_first) {
  auto ordered = [&](const auto& x, const auto& parsed) {
    return typed_first ? order(x, parsed) : order(parsed, x);
  };
  const char* what = nullptr;
  if (const Uuid* u = typed.as_uuid()) {
    if (auto p = Uuid::parse(text)) return ordered(*u, *p);
    what = "a uuid";
  } else if (const DateTime* t = typed.as_datetime()) {
    if (auto p = DateTime::parse(text)) return ordered(*t, *p);
    what = "an ISO 8601 date and time";
  } else if (const Date* d = typed.as_date()) {
    if (auto p = Date::parse(text)) return ordered(*d, *p);
    what = "an ISO 8601 date";
  }
  if (!what) return typed_first ? mismatch(typed, Value(text)) : mismatch(Value(text), typed);
  return eval_error("type_mismatch", fmt::format("cannot compare {} with string \"{}\": not {}",
                                                 kind_name(typed), shown(text), what));
}

Result<int> compare_arrays(const Array& a, const Array& b) {
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) {
    auto c = compare_values(a[i], b[i]);
    if (!c || *c != 0) return c;
  }
  return order(a.size(), b.size());
}

Result<int> compare_same_kind(const Value& a, const Value& b) {
  switch (a.kind()) {
    case ValueKind::null: return 0;
    case ValueKind::boolean: return order(*a.as_bool(), *b.as_bool());
    case ValueKind::string: return order(*a.as_string(), *b.as_string());
    case ValueKind::uuid: return order(*a.as_uuid(), *b.as_uuid());
    case ValueKind::datetime: return order(*a.as_datetime(), *b.as_datetime());
    case ValueKind::date: return order(*a.as_date(), *b.as_date());
    case ValueKind::atom: return order(a.as_atom()->name, b.as_atom()->name);
    case ValueKind::binary: return order(a.as_binary()->bytes, b.as_binary()->bytes);
    case ValueKind::array: return compare_arrays(*a.as_array(), *b.as_array());
    case ValueKind::map:
      if (a == b) return 0;
      return eval_error("type_mismatch", "maps can be compared for equality only");
    case ValueKind::integer:
    case ValueKind::floating:  // compared as numbers by the caller
    case ValueKind::forbidden: break;  // a field the actor may not read compares with nothing
  }
  return mismatch(a, b);
}

Result<bool> values_equal(const Value& a, const Value& b) {
  if (a.as_map() && b.as_map()) return a == b;
  auto c = compare_values(a, b);
  if (!c) return c.error();
  return *c == 0;
}

Result<std::optional<bool>> truth(const Value& v, const Expr& from) {
  if (v.is_null()) return std::optional<bool>();
  if (const bool* b = v.as_bool()) return std::optional<bool>(*b);
  return eval_error("not_boolean", fmt::format("expected a boolean, got {} from `{}`", kind_name(v),
                                               to_string(from)));
}

std::int64_t unit_micros(TimeUnit unit) {
  static constexpr std::int64_t kMicros[] = {1,           1000,         1000000,          60000000,
                                             3600000000LL, 86400000000LL, 604800000000LL};
  return kMicros[static_cast<int>(unit)];
}

bool is_logic(const Expr& e) {
  return e.kind() == ExprKind::logical_and || e.kind() == ExprKind::logical_or;
}

bool is_if(const Expr& e) { return e.kind() == ExprKind::call && e.function() == ExprFunction::if_; }

// Code points of UTF-8 text (bytes that do not continue a sequence).
std::int64_t code_points(const std::string& s) {
  std::int64_t n = 0;
  for (char c : s)
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  return n;
}

// Evaluates with an explicit stack: a chain of a few thousand terms (`a + a + ...`,
// `x == 1 or x == 2 or ...`) would otherwise recurse once per term. Each node's operands
// are evaluated left to right onto a stack of values, then the node applies its operator
// to them; the first error ends the evaluation, as it would unwind a recursion.
class Evaluator {
 public:
  Result<Value> run(const Expr& root, const EvalContext& context) {
    frames_.push_back({&root, &context, 0});
    while (true) {
      Frame& f = frames_.back();
      const auto& operands = f.e->operands();
      std::size_t done = values_.size() - f.base;
      std::optional<Result<Value>> out;
      if (is_logic(*f.e) && done > 0) {
        // false and x = false, true or x = true, whatever x is.
        auto t = truth(values_.back(), operands[done - 1]);
        if (!t) return t.error();
        if (*t && **t != (f.e->kind() == ExprKind::logical_and)) out = Value(**t);
      }
      if (!out && is_if(*f.e) && done == 1 && !f.branched) {
        // Only the branch taken is evaluated; its value is the if's.
        auto t = truth(values_.back(), operands[0]);
        if (!t) return in_expr(t.error(), *f.e);
        values_.pop_back();
        f.branched = true;
        const Expr* branch = &operands[*t && **t ? 1 : 2];
        frames_.push_back({branch, f.ctx, values_.size()});
        continue;
      }
      if (!out && f.branched) out = std::move(values_.back());
      if (!out && done < operands.size()) {
        const EvalContext* ctx = f.ctx;
        if (f.e->kind() == ExprKind::parent) {
          if (!ctx->parent)
            return eval_error("no_parent",
                              "parent(...) needs a parent record; use it in relationship filters");
          ctx = ctx->parent;
        }
        frames_.push_back({&operands[done], ctx, values_.size()});
        continue;
      }
      if (!out) out = Node(*f.ctx).apply(*f.e, values_.data() + f.base);
      values_.resize(f.base);
      frames_.pop_back();
      if (!*out || frames_.empty()) return std::move(*out);
      values_.push_back(std::move(**out));
    }
  }

 private:
  struct Frame {
    const Expr* e;
    const EvalContext* ctx;
    std::size_t base;  // where the node's operand values start in values_
    bool branched = false;  // an if whose branch is (being) evaluated
  };

  // One node, its operands already evaluated (in order, in `v`), against its context.
  class Node {
   public:
    explicit Node(const EvalContext& ctx) : ctx_(ctx) {}

    Result<Value> apply(const Expr& e, Value* v) const {
      switch (e.kind()) {
        case ExprKind::literal: return e.literal();
        case ExprKind::ref:
          if (!ctx_.ref)
            return Error::framework("ref(" + to_string(e) +
                                    ") needs a record, and the context has no ref resolver");
          return ctx_.ref(e.path());
        case ExprKind::arg: return eval_arg(e);
        case ExprKind::actor: return eval_actor(e);
        case ExprKind::parent: return std::move(v[0]);
        case ExprKind::compare: return eval_compare(e, v[0], v[1]);
        case ExprKind::logical_and:
        case ExprKind::logical_or:
          // Neither side decided it: nil wins over the neutral value.
          if (v[0].is_null() || v[1].is_null()) return Value();
          return Value(e.kind() == ExprKind::logical_and);
        case ExprKind::logical_not: return eval_not(e, v[0]);
        case ExprKind::in: return eval_in(e, v[0], v[1]);
        case ExprKind::is_nil: return Value(v[0].is_null());
        case ExprKind::contains: return eval_contains(e, v[0], v[1]);
        case ExprKind::arith: return eval_arith(e, v[0], v[1]);
        case ExprKind::list:
          return Value(Array(std::make_move_iterator(v), std::make_move_iterator(v + e.operands().size())));
        case ExprKind::aggregate:
          if (!ctx_.aggregate)
            return Error::framework(to_string(e) + " needs the context's aggregate resolver");
          return ctx_.aggregate(e.aggregate());
        case ExprKind::now: return Value(ctx_.now);
        case ExprKind::ago:
        case ExprKind::from_now: return eval_time(e, v[0]);
        case ExprKind::call: return eval_call(e, v);
      }
      return Error::framework("unknown expression kind");
    }

   private:
    Result<Value> eval_arg(const Expr& e) const {
      const Value* v = ctx_.args ? find_field(*ctx_.args, e.name()) : nullptr;
      if (!v) return eval_error("unknown_argument", fmt::format("unknown argument \"{}\"", e.name()));
      return *v;
    }

    Result<Value> eval_actor(const Expr& e) const {
      const Value* v = &ctx_.actor;
      for (const auto& key : e.path()) {
        if (v->is_null()) return Value();
        const Map* map = v->as_map();
        if (!map)
          return eval_error("invalid_actor", fmt::format("`{}` needs the actor to be a map, got {}",
                                                         to_string(e), kind_name(*v)));
        const Value* next = nullptr;
        for (const auto& [k, item] : *map)
          if (k == key) next = &item;
        if (!next) return Value();
        v = next;
      }
      return *v;
    }

    Result<Value> eval_compare(const Expr& e, const Value& a, const Value& b) const {
      if (a.is_null() || b.is_null()) return Value();
      CompareOp op = e.compare_op();
      if (op == CompareOp::eq || op == CompareOp::ne) {
        auto eq = values_equal(a, b);
        if (!eq) return in_expr(eq.error(), e);
        return Value(*eq == (op == CompareOp::eq));
      }
      auto c = compare_values(a, b);
      if (!c) return in_expr(c.error(), e);
      switch (op) {
        case CompareOp::lt: return Value(*c < 0);
        case CompareOp::le: return Value(*c <= 0);
        case CompareOp::gt: return Value(*c > 0);
        default: return Value(*c >= 0);
      }
    }

    Result<Value> eval_not(const Expr& e, const Value& v) const {
      auto t = truth(v, e.operands()[0]);
      if (!t) return t.error();
      return *t ? Value(!**t) : Value();
    }

    // SQL's IN: true on a match; otherwise nil if the list holds a nil, else false.
    Result<Value> eval_in(const Expr& e, const Value& x, const Value& list) const {
      if (x.is_null() || list.is_null()) return Value();
      const Array* items = list.as_array();
      if (!items) return mismatch_in(e, fmt::format("in needs a list, got {}", kind_name(list)));
      bool saw_nil = false;
      for (const auto& item : *items) {
        if (item.is_null()) {
          saw_nil = true;
          continue;
        }
        auto eq = values_equal(x, item);
        if (!eq) return in_expr(eq.error(), e);
        if (*eq) return Value(true);
      }
      return saw_nil ? Value() : Value(false);
    }

    Result<Value> eval_contains(const Expr& e, const Value& haystack, const Value& needle) const {
      if (haystack.is_null() || needle.is_null()) return Value();
      if (const std::string* s = haystack.as_string()) {
        const std::string* part = needle.as_string() ? needle.as_string()
                                  : needle.as_atom() ? &needle.as_atom()->name : nullptr;
        if (!part)
          return mismatch_in(e, fmt::format("cannot look for {} in a string", kind_name(needle)));
        return Value(s->find(*part) != std::string::npos);
      }
      const Array* items = haystack.as_array();
      if (!items)
        return mismatch_in(
            e, fmt::format("contains needs a string or a list, got {}", kind_name(haystack)));
      for (const auto& item : *items) {
        if (item.is_null()) continue;
        auto eq = values_equal(item, needle);
        if (!eq) return in_expr(eq.error(), e);
        if (*eq) return Value(true);
      }
      return Value(false);
    }

    Result<Value> eval_arith(const Expr& e, const Value& a, const Value& b) const;
    Result<Value> eval_time(const Expr& e, const Value& amount) const;
    Result<Value> eval_call(const Expr& e, const Value* v) const;

    const EvalContext& ctx_;
  };

  std::vector<Frame> frames_;
  std::vector<Value> values_;
};

Result<Value> integer_arith(ArithOp op, std::int64_t a, std::int64_t b, const Expr& e) {
  std::int64_t out = 0;
  bool overflow = false;
  switch (op) {
    case ArithOp::add: overflow = __builtin_add_overflow(a, b, &out); break;
    case ArithOp::sub: overflow = __builtin_sub_overflow(a, b, &out); break;
    case ArithOp::mul: overflow = __builtin_mul_overflow(a, b, &out); break;
    case ArithOp::div: return Value(static_cast<double>(a) / static_cast<double>(b));
    case ArithOp::concat: break;  // strings only, handled by the caller
  }
  if (overflow) return in_expr(eval_error("overflow", "integer overflow"), e);
  return Value(out);
}

// `/` always gives a float, as in Elixir; the other operators keep integers integers.
Result<Value> Evaluator::Node::eval_arith(const Expr& e, const Value& a, const Value& b) const {
  if (a.is_null() || b.is_null()) return Value();
  ArithOp op = e.arith_op();
  if (op == ArithOp::concat) {
    if (!a.as_string() || !b.as_string())
      return mismatch_in(e, fmt::format("cannot apply <> to {} and {}", kind_name(a), kind_name(b)));
    return Value(*a.as_string() + *b.as_string());
  }
  if (!is_number(a) || !is_number(b))
    return mismatch_in(e, fmt::format("cannot apply {} to {} and {}", to_string(op), kind_name(a),
                                      kind_name(b)));
  if (op == ArithOp::div && to_double(b) == 0)
    return in_expr(eval_error("division_by_zero", "division by zero"), e);
  if (a.as_int() && b.as_int()) return integer_arith(op, *a.as_int(), *b.as_int(), e);
  double x = to_double(a), y = to_double(b);
  switch (op) {
    case ArithOp::add: return Value(x + y);
    case ArithOp::sub: return Value(x - y);
    case ArithOp::mul: return Value(x * y);
    case ArithOp::div: return Value(x / y);
    case ArithOp::concat: break;
  }
  return Value();
}

Result<Value> round_number(const Expr& e, const Value& x, const Value& digits) {
  if (x.is_null() || digits.is_null()) return Value();
  const std::int64_t* d = digits.as_int();
  if (!d || *d < -15 || *d > 15)
    return mismatch_in(e, fmt::format("round takes a number of digits from -15 to 15, got {}",
                                      d ? std::to_string(*d) : std::string(kind_name(digits))));
  if (!is_number(x)) return mismatch_in(e, fmt::format("round needs a number, got {}", kind_name(x)));
  double scale = std::pow(10.0, static_cast<double>(*d));
  if (const std::int64_t* n = x.as_int()) {
    if (*d >= 0) return x;
    double r = std::round(static_cast<double>(*n) / (1.0 / scale)) * (1.0 / scale);
    return Value(static_cast<std::int64_t>(r));
  }
  double v = *x.as_float();
  if (!std::isfinite(v)) return x;
  return Value(std::round(v * scale) / scale);
}

Result<Value> Evaluator::Node::eval_call(const Expr& e, const Value* v) const {
  switch (e.function()) {
    case ExprFunction::if_: return v[0];  // the evaluator evaluates the branch itself
    case ExprFunction::string_length:
      if (v[0].is_null()) return Value();
      if (const std::string* s = v[0].as_string()) return Value(code_points(*s));
      return mismatch_in(e, fmt::format("string_length needs a string, got {}", kind_name(v[0])));
    case ExprFunction::round: return round_number(e, v[0], v[1]);
  }
  return Error::framework("unknown function");
}

Result<Value> Evaluator::Node::eval_time(const Expr& e, const Value& amount) const {
  if (amount.is_null()) return Value();
  const std::int64_t* n = amount.as_int();
  if (!n)
    return mismatch_in(e, fmt::format("the amount must be an integer, got {}", kind_name(amount)));
  std::int64_t shift = 0, micros = 0;
  bool overflow = __builtin_mul_overflow(*n, unit_micros(e.unit()), &shift);
  if (e.kind() == ExprKind::ago)
    overflow = overflow || __builtin_sub_overflow(ctx_.now.micros, shift, &micros);
  else
    overflow = overflow || __builtin_add_overflow(ctx_.now.micros, shift, &micros);
  if (overflow) return in_expr(eval_error("overflow", "the time is out of range"), e);
  return Value(DateTime{micros});
}

}  // namespace

Result<int> compare_values(const Value& a, const Value& b) {
  if (a.is_null() || b.is_null()) return order(!a.is_null(), !b.is_null());  // nil first
  if (is_number(a) && is_number(b)) {
    if (a.as_int() && b.as_int()) return order(*a.as_int(), *b.as_int());
    if (std::isnan(to_double(a)) || std::isnan(to_double(b)))  // no order, and no value to store
      return eval_error("not_a_number", "NaN compares with nothing; compare finite numbers");
    return order(to_double(a), to_double(b));
  }
  if (a.kind() == b.kind()) return compare_same_kind(a, b);
  const std::string* a_text = a.as_string();
  const std::string* b_text = b.as_string();
  if (a.as_atom() && b_text) return order(a.as_atom()->name, *b_text);
  if (a_text && b.as_atom()) return order(*a_text, b.as_atom()->name);
  if (b_text) return compare_with_text(a, *b_text, true);
  if (a_text) return compare_with_text(b, *a_text, false);
  return mismatch(a, b);
}

Result<Value> evaluate(const Expr& e, const EvalContext& context) {
  return Evaluator().run(e, context);
}

Result<bool> matches(const Expr& e, const EvalContext& context) {
  auto v = evaluate(e, context);
  if (!v) return v.error();
  if (v->is_null()) return false;
  if (const bool* b = v->as_bool()) return *b;
  return eval_error("not_boolean",
                    fmt::format("a filter must be true, false or nil, got {} from `{}`",
                                kind_name(*v), describe_expr(e)));
}

}  // namespace ashlar
