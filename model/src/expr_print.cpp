// Expressions back to Ash's text syntax, with the parentheses the parser needs and no
// others, so parse_expr(to_string(e)) rebuilds the same tree.

#include "expr_syntax.hpp"
#include "shown.hpp"

#include <ashlar/model/json.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <vector>

namespace ashlar {
namespace {

using syntax::atom_text;
using syntax::quote_string;


// Binding strength, loosest first; the parser's levels, in the same order.
enum Precedence : int {
  kOr = 1, kAnd, kEquality, kRelational, kIn, kAdditive, kMultiplicative, kUnary, kPrimary,
};

int precedence(const Expr& e) {
  switch (e.kind()) {
    case ExprKind::logical_or: return kOr;
    case ExprKind::logical_and: return kAnd;
    case ExprKind::compare:
      return e.compare_op() == CompareOp::eq || e.compare_op() == CompareOp::ne ? kEquality
                                                                                : kRelational;
    case ExprKind::in: return kIn;
    case ExprKind::arith:
      return e.arith_op() == ArithOp::mul || e.arith_op() == ArithOp::div ? kMultiplicative
                                                                          : kAdditive;
    case ExprKind::logical_not: return kUnary;
    default: return kPrimary;
  }
}

std::string float_text(double v) {
  std::string s = fmt::format("{}", v);
  // "3" would read back as an integer.
  if (s.find_first_of(".en") == std::string::npos) s += ".0";
  return s;
}

std::string cast_text(const std::string& text, const char* type) {
  return fmt::format("type({}, :{})", quote_string(text), type);
}

std::string literal_text(const Value& v);

std::string array_text(const Array& items) {
  std::string s = "[";
  for (std::size_t i = 0; i < items.size(); ++i) s += (i ? ", " : "") + literal_text(items[i]);
  return s + "]";
}

std::string map_text(const Map& entries) {
  std::string s = "%{";
  for (std::size_t i = 0; i < entries.size(); ++i)
    s += fmt::format("{}{} => {}", i ? ", " : "", quote_string(entries[i].first),
                     literal_text(entries[i].second));
  return s + "}";
}

std::string literal_text(const Value& v) {
  switch (v.kind()) {
    case ValueKind::null: return "nil";
    case ValueKind::boolean: return *v.as_bool() ? "true" : "false";
    case ValueKind::integer: return std::to_string(*v.as_int());
    case ValueKind::floating: return float_text(*v.as_float());
    case ValueKind::string: return quote_string(*v.as_string());
    case ValueKind::atom: return atom_text(v.as_atom()->name);
    case ValueKind::uuid: return cast_text(v.as_uuid()->str(), "uuid");
    case ValueKind::datetime: return cast_text(v.as_datetime()->str(), "utc_datetime");
    case ValueKind::date: return cast_text(v.as_date()->str(), "date");
    case ValueKind::binary: return cast_text(base64_encode(v.as_binary()->bytes), "binary");
    case ValueKind::map: return map_text(*v.as_map());
    case ValueKind::array: return array_text(*v.as_array());
    case ValueKind::forbidden: return "#forbidden";
  }
  return "nil";
}

std::string dotted(const std::vector<std::string>& path) {
  std::string s;
  for (std::size_t i = 0; i < path.size(); ++i) s += (i ? "." : "") + path[i];
  return s;
}

std::string actor_text(const std::vector<std::string>& path) {
  if (path.empty()) return "^actor()";
  if (path.size() == 1) return "^actor(" + atom_text(path[0]) + ")";
  std::string s = "^actor([";
  for (std::size_t i = 0; i < path.size(); ++i) s += (i ? ", " : "") + atom_text(path[i]);
  return s + "])";
}

std::string aggregate_head(const Aggregate& a) {
  std::string s = fmt::format("{}({}", to_string(a.kind), dotted(a.path));
  if (!a.field.empty()) s += ", " + (syntax::is_identifier(a.field, false) ? a.field : atom_text(a.field));
  return s;
}

// Writes into one string with an explicit stack of what is left to write: a chain of a
// few thousand terms would otherwise recurse once per term (and copy its text as often).
class Printer {
 public:
  // Queues `e`, in parentheses when it binds looser than `min_precedence`.
  void expr(const Expr& e, int min_precedence) {
    std::size_t first = pieces_.size();
    bool parens = precedence(e) < min_precedence;
    if (parens) pieces_.push_back(Piece{nullptr, 0, "("});
    node(e);
    if (parens) pieces_.push_back(Piece{nullptr, 0, ")"});
    std::reverse(pieces_.begin() + static_cast<std::ptrdiff_t>(first), pieces_.end());
  }

  void aggregate(const Aggregate& a) {
    std::size_t first = pieces_.size();
    text(aggregate_head(a));
    if (a.filter) {
      text(", ");
      sub(*a.filter, 0);
    }
    text(")");
    std::reverse(pieces_.begin() + static_cast<std::ptrdiff_t>(first), pieces_.end());
  }

  std::string run() {
    std::string out;
    while (!pieces_.empty()) {
      Piece p = std::move(pieces_.back());
      pieces_.pop_back();
      if (p.e) expr(*p.e, p.min_precedence);
      else out += p.text;
    }
    return out;
  }

 private:
  struct Piece {
    const Expr* e;       // an expression still to expand, or null for text
    int min_precedence;
    std::string text;
  };

  void text(std::string s) { pieces_.push_back(Piece{nullptr, 0, std::move(s)}); }
  void sub(const Expr& e, int min_precedence) { pieces_.push_back(Piece{&e, min_precedence, {}}); }

  void joined(const std::vector<Expr>& items) {
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (i) text(", ");
      sub(items[i], 0);
    }
  }

  void call(std::string_view name, const std::vector<Expr>& args) {
    text(std::string(name) + "(");
    joined(args);
    text(")");
  }

  // Every binary level is left-associative, so only the right side needs the bump.
  void binary(const Expr& e, std::string_view op) {
    int p = precedence(e);
    sub(e.operands()[0], p);
    text(fmt::format(" {} ", op));
    sub(e.operands()[1], p + 1);
  }

  // An if whose else is an if prints as one flat cond(...), which parses back to the
  // same chain, without nesting a call per branch.
  void function(const Expr& e) {
    if (e.function() != ExprFunction::if_ || e.operands()[2].kind() != ExprKind::call ||
        e.operands()[2].function() != ExprFunction::if_)
      return call(to_string(e.function()), e.operands());
    text("cond(");
    const Expr* at = &e;
    for (; at->kind() == ExprKind::call && at->function() == ExprFunction::if_; at = &at->operands()[2]) {
      sub(at->operands()[0], 0);
      text(", ");
      sub(at->operands()[1], 0);
      text(", ");
    }
    sub(*at, 0);
    text(")");
  }

  // Queues the node's pieces in reading order; expr() reverses them onto the stack.
  void node(const Expr& e) {
    const auto& ops = e.operands();
    switch (e.kind()) {
      case ExprKind::literal: return text(literal_text(e.literal()));
      case ExprKind::ref: return text(dotted(e.path()));
      case ExprKind::arg: return text("^arg(" + atom_text(e.name()) + ")");
      case ExprKind::actor: return text(actor_text(e.path()));
      case ExprKind::parent: return call("parent", ops);
      case ExprKind::compare: return binary(e, to_string(e.compare_op()));
      case ExprKind::logical_and: return binary(e, "and");
      case ExprKind::logical_or: return binary(e, "or");
      case ExprKind::logical_not:
        text("not ");
        return sub(ops[0], kUnary);
      case ExprKind::in: return binary(e, "in");
      case ExprKind::is_nil: return call("is_nil", ops);
      case ExprKind::contains: return call("contains", ops);
      case ExprKind::arith: return binary(e, to_string(e.arith_op()));
      case ExprKind::list:
        text("[");
        joined(ops);
        return text("]");
      case ExprKind::aggregate:
        text(aggregate_head(e.aggregate()));
        if (e.aggregate().filter) {
          text(", ");
          sub(*e.aggregate().filter, 0);
        }
        return text(")");
      case ExprKind::call: return function(e);
      case ExprKind::now: return text("now()");
      case ExprKind::ago:
      case ExprKind::from_now:
        text(e.kind() == ExprKind::ago ? "ago(" : "from_now(");
        sub(ops[0], 0);
        return text(fmt::format(", :{})", to_string(e.unit())));
    }
    text("nil");
  }

  std::vector<Piece> pieces_;  // a stack: the next piece to write is at the back
};

}  // namespace

namespace syntax {

std::string quote_string(std::string_view text) {
  std::string s = "\"";
  for (char c : text) {
    switch (c) {
      case '"': s += "\\\""; break;
      case '\\': s += "\\\\"; break;
      case '\n': s += "\\n"; break;
      case '\t': s += "\\t"; break;
      case '\r': s += "\\r"; break;
      default: s += c;
    }
  }
  return s + "\"";
}

std::string atom_text(std::string_view name) {
  return is_identifier(name, true) ? ":" + std::string(name) : ":" + quote_string(name);
}

bool is_identifier(std::string_view text, bool allow_bang) {
  if (text.empty()) return false;
  auto head = [](char c) { return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
  auto tail = [&](char c) { return head(c) || (c >= '0' && c <= '9'); };
  if (!head(text[0])) return false;
  std::size_t end = text.size();
  if (text.back() == '?' || (allow_bang && text.back() == '!')) --end;
  for (std::size_t i = 1; i < end; ++i)
    if (!tail(text[i])) return false;
  return true;
}

}  // namespace syntax

std::string to_string(const Aggregate& a) {
  Printer printer;
  printer.aggregate(a);
  return printer.run();
}

std::string to_string(const Expr& e) {
  Printer printer;
  printer.expr(e, 0);
  return printer.run();
}

std::string describe_expr(const Expr& e) { return shown(to_string(e)); }

}  // namespace ashlar
