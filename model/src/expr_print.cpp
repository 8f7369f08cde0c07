// Expressions back to Ash's text syntax, with the parentheses the parser needs and no
// others, so parse_expr(to_string(e)) rebuilds the same tree.

#include "expr_syntax.hpp"

#include <ashlar/model/json.hpp>

#include <fmt/format.h>

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
      return e.arith_op() == ArithOp::add || e.arith_op() == ArithOp::sub ? kAdditive
                                                                          : kMultiplicative;
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
  }
  return "nil";
}

std::string dotted(const std::vector<std::string>& path) {
  std::string s;
  for (std::size_t i = 0; i < path.size(); ++i) s += (i ? "." : "") + path[i];
  return s;
}

std::string print(const Expr& e, int min_precedence);

std::string joined(const std::vector<Expr>& items) {
  std::string s;
  for (std::size_t i = 0; i < items.size(); ++i) s += (i ? ", " : "") + print(items[i], 0);
  return s;
}

std::string call(std::string_view name, const std::vector<Expr>& args) {
  return fmt::format("{}({})", name, joined(args));
}

std::string binary(const Expr& e, std::string_view op) {
  int p = precedence(e);
  // Every binary level is left-associative, so only the right side needs the bump.
  return fmt::format("{} {} {}", print(e.operands()[0], p), op, print(e.operands()[1], p + 1));
}

std::string actor_text(const std::vector<std::string>& path) {
  if (path.empty()) return "^actor()";
  if (path.size() == 1) return "^actor(" + atom_text(path[0]) + ")";
  std::string s = "^actor([";
  for (std::size_t i = 0; i < path.size(); ++i) s += (i ? ", " : "") + atom_text(path[i]);
  return s + "])";
}

std::string print_node(const Expr& e) {
  const auto& ops = e.operands();
  switch (e.kind()) {
    case ExprKind::literal: return literal_text(e.literal());
    case ExprKind::ref: return dotted(e.path());
    case ExprKind::arg: return "^arg(" + atom_text(e.name()) + ")";
    case ExprKind::actor: return actor_text(e.path());
    case ExprKind::parent: return call("parent", ops);
    case ExprKind::compare: return binary(e, to_string(e.compare_op()));
    case ExprKind::logical_and: return binary(e, "and");
    case ExprKind::logical_or: return binary(e, "or");
    case ExprKind::logical_not: return "not " + print(ops[0], kUnary);
    case ExprKind::in: return binary(e, "in");
    case ExprKind::is_nil: return call("is_nil", ops);
    case ExprKind::contains: return call("contains", ops);
    case ExprKind::arith: return binary(e, to_string(e.arith_op()));
    case ExprKind::list: return "[" + joined(ops) + "]";
    case ExprKind::aggregate: return to_string(e.aggregate());
    case ExprKind::now: return "now()";
    case ExprKind::ago:
    case ExprKind::from_now:
      return fmt::format("{}({}, :{})", e.kind() == ExprKind::ago ? "ago" : "from_now",
                         print(ops[0], 0), to_string(e.unit()));
  }
  return "nil";
}

std::string print(const Expr& e, int min_precedence) {
  std::string text = print_node(e);
  return precedence(e) < min_precedence ? "(" + text + ")" : text;
}

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
  std::string s = fmt::format("{}({}", to_string(a.kind), dotted(a.path));
  if (!a.field.empty()) s += ", " + (syntax::is_identifier(a.field, false) ? a.field : atom_text(a.field));
  if (a.filter) s += ", " + print(*a.filter, 0);
  return s + ")";
}

std::string to_string(const Expr& e) { return print(e, 0); }

}  // namespace ashlar
