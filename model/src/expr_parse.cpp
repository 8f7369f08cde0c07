// A recursive-descent parser for Ash's expression syntax. Binary operators go through one
// table of precedence levels; function calls parse their arguments as expressions first
// and then check them, so every error can point at the argument at fault.

#include "expr_syntax.hpp"

#include <ashlar/model/json.hpp>
#include <ashlar/model/type.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>

namespace ashlar {
namespace {

using namespace syntax;
using Kind = Token::Kind;

constexpr int kMaxDepth = 200;  // deeper input would only be an attack on the stack

// The binary levels, loosest first; the printer's precedences, in the same order.
constexpr std::array<std::array<std::string_view, 4>, 7> kLevels = {{
    {"or", "||"}, {"and", "&&"}, {"==", "!="}, {"<", "<=", ">", ">="},
    {"in"},       {"+", "-", "<>"}, {"*", "/"},
}};

struct Arg {
  Expr expr;
  std::size_t pos;
};

Expr combine(std::string_view op, Expr a, Expr b) {
  if (op == "or" || op == "||") return a || b;
  if (op == "and" || op == "&&") return a && b;
  if (op == "in") return dsl::in(std::move(a), std::move(b));
  if (op == "not in") return !dsl::in(std::move(a), std::move(b));
  static constexpr std::string_view kCompare[] = {"==", "!=", "<", "<=", ">", ">="};
  for (int i = 0; i < 6; ++i)
    if (op == kCompare[i])
      return dsl::compare(static_cast<CompareOp>(i), std::move(a), std::move(b));
  static constexpr std::string_view kArith[] = {"+", "-", "*", "/", "<>"};
  for (int i = 0; i < 5; ++i)
    if (op == kArith[i]) return dsl::arith(static_cast<ArithOp>(i), std::move(a), std::move(b));
  return a;
}

std::string describe(const Token& t) {
  if (t.kind == Kind::end) return "end of input";
  std::string text(t.text.substr(0, 24));
  if (t.text.size() > 24) text += "...";
  return t.kind == Kind::string ? "string " + text : "\"" + text + "\"";
}

// An argument that names something: `:user_id` or `user_id`.
const std::string* name_of(const Expr& e) {
  if (e.kind() == ExprKind::ref && e.path().size() == 1) return &e.path()[0];
  if (e.is_literal() && e.literal().as_atom()) return &e.literal().as_atom()->name;
  return nullptr;
}

class Parser {
 public:
  Parser(std::string_view input) : input_(input), tokens_(lex(input)) {}

  Result<Expr> parse() {
    auto e = parse_level(0);
    if (!e) return e;
    const Token& t = peek();
    if (t.kind == Kind::end) return e;
    if (at(")")) return error_at(t, "unexpected \")\" with no \"(\" to close");
    return expected("an operator or the end of input");
  }

 private:
  const Token& peek(std::size_t ahead = 0) const {
    return tokens_[std::min(i_ + ahead, tokens_.size() - 1)];
  }
  const Token& advance() { return tokens_[i_ < tokens_.size() - 1 ? i_++ : i_]; }
  bool is(const Token& t, std::string_view text) const {
    return (t.kind == Kind::symbol || t.kind == Kind::ident) && t.text == text;
  }
  bool at(std::string_view text) const { return is(peek(), text); }

  Error error_at(const Token& t, const std::string& what) const {
    if (t.kind == Kind::error) return syntax_error("filter", input_, t.pos, t.value);
    return syntax_error("filter", input_, t.pos, what);
  }
  Error error_at(std::size_t pos, const std::string& what) const {
    return syntax_error("filter", input_, pos, what);
  }
  // "expected <what>, found <the current token>"; a lexer error speaks for itself.
  Error expected(const std::string& what) const {
    return error_at(peek(), fmt::format("expected {}, found {}", what, describe(peek())));
  }

  std::optional<std::string_view> level_op(int level) {
    if (level == 4 && at("not") && is(peek(1), "in")) {
      advance();
      return "not in";
    }
    for (auto op : kLevels[level])
      if (!op.empty() && at(op)) return op;
    return std::nullopt;
  }

  // Every node the parser builds passes through here within a few tokens, so a tree past
  // kMaxFilterNodes is refused before it grows much further.
  Result<Expr> parse_level(int level) {
    if (level == static_cast<int>(kLevels.size())) return parse_unary();
    std::size_t pos = peek().pos;
    auto left = parse_level(level + 1);
    if (!left) return left;
    if (left->node_count() > kMaxFilterNodes) return too_complex(pos);
    while (auto op = level_op(level)) {
      pos = advance().pos;
      auto right = parse_level(level + 1);
      if (!right) return right;
      left = combine(*op, std::move(*left), std::move(*right));
      if (left->node_count() > kMaxFilterNodes) return too_complex(pos);
    }
    return left;
  }

  Error too_complex(std::size_t pos) const {
    Error e = error_at(pos, fmt::format("too complex: more than the limit of {} nodes (values, "
                                        "names and operators)",
                                        kMaxFilterNodes));
    e.fields[0].code = codes::kTooComplex;
    return std::move(e).with_code(codes::kTooComplex);
  }

  Result<Expr> parse_unary() {
    if (depth_ >= kMaxDepth)
      return error_at(peek(),
                      fmt::format("expression nested too deeply (more than {} levels)", kMaxDepth));
    ++depth_;
    auto e = parse_unary_inner();
    --depth_;
    return e;
  }

  Result<Expr> parse_unary_inner() {
    if (at("not") || at("!")) {
      advance();
      auto operand = parse_unary();
      if (!operand) return operand;
      return !*operand;
    }
    if (at("-")) {
      std::size_t pos = advance().pos;
      if (peek().kind == Kind::integer || peek().kind == Kind::floating) return parse_number(pos);
      auto operand = parse_unary();
      if (!operand) return operand;
      return Expr(0) - *operand;
    }
    return parse_primary();
  }

  Result<Expr> parse_primary() {
    const Token& t = peek();
    switch (t.kind) {
      case Kind::integer:
      case Kind::floating: return parse_number(std::nullopt);
      case Kind::string: return Expr(advance().value);
      case Kind::atom: return Expr(Atom{advance().value});
      case Kind::ident: {
        if (t.text == "true" || t.text == "false") return Expr(advance().text == "true");
        if (t.text == "nil") {
          advance();
          return Expr();
        }
        if (t.text != "and" && t.text != "or" && t.text != "in" && t.text != "not")
          return parse_name();
        break;
      }
      default:
        if (at("(")) return parse_parens();
        if (at("[")) return parse_list();
        if (at("%{")) return parse_map();
        if (at("^")) return parse_pinned();
    }
    if (i_ == 0) return expected("a value");
    return expected(fmt::format("a value after \"{}\"", tokens_[i_ - 1].text));
  }

  // `minus_pos` is the position of a leading "-", folded into the literal.
  Result<Expr> parse_number(std::optional<std::size_t> minus_pos) {
    const Token& t = advance();
    std::string text = minus_pos ? "-" : "";
    for (char c : t.text)
      if (c != '_') text += c;
    std::size_t pos = minus_pos.value_or(t.pos);
    const char* end = text.data() + text.size();
    if (t.kind == Kind::integer) {
      std::int64_t v = 0;
      auto r = std::from_chars(text.data(), end, v);
      if (r.ec != std::errc() || r.ptr != end)
        return error_at(pos, fmt::format("integer {} is out of range", text));
      return Expr(v);
    }
    double v = 0;
    auto r = std::from_chars(text.data(), end, v);
    if (r.ec != std::errc() || r.ptr != end)
      return error_at(pos, fmt::format("float {} is out of range", text));
    return Expr(v);
  }

  Result<Expr> parse_parens() {
    const Token& open = advance();
    auto e = parse_level(0);
    if (!e) return e;
    if (!at(")"))
      return expected(
          fmt::format("\")\" to close the \"(\" at column {}", column_at(input_, open.pos)));
    advance();
    return e;
  }

  Result<Expr> parse_list() {
    const Token& open = advance();
    std::vector<Expr> items;
    while (!at("]")) {
      if (!items.empty()) {
        if (!at(","))
          return expected(fmt::format("\",\" or \"]\" to close the \"[\" at column {}",
                                      column_at(input_, open.pos)));
        advance();
      }
      auto item = parse_level(0);
      if (!item) return item;
      items.push_back(std::move(*item));
    }
    advance();
    return dsl::list_of(std::move(items));
  }

  Result<Expr> parse_map() {
    const Token& open = advance();
    Map entries;
    while (!at("}")) {
      if (!entries.empty()) {
        if (!at(","))
          return expected(fmt::format("\",\" or \"}}\" to close the \"%{{\" at column {}",
                                      column_at(input_, open.pos)));
        advance();
      }
      if (peek().kind != Kind::string) return expected("a string key in the map");
      std::string key = advance().value;
      if (!at("=>")) return expected("\"=>\" after the map key");
      advance();
      std::size_t pos = peek().pos;
      auto value = parse_level(0);
      if (!value) return value;
      if (!value->is_literal()) return error_at(pos, "map values must be literals");
      entries.emplace_back(std::move(key), value->literal());
    }
    advance();
    return Expr(Value(std::move(entries)));
  }

  Result<Expr> parse_pinned() {
    advance();
    if (!(at("arg") || at("actor")) || !is(peek(1), "("))
      return expected("arg(...) or actor(...) after \"^\"");
    return parse_name();
  }

  // A ref (`a.b.c`) or, when a single name is followed by "(", a call.
  Result<Expr> parse_name() {
    const Token& first = advance();
    if (at("(")) return parse_call(first);
    std::vector<std::string> path{std::string(first.text)};
    while (at(".")) {
      advance();
      if (peek().kind != Kind::ident)
        return expected("a relationship or attribute name after \".\"");
      path.emplace_back(advance().text);
    }
    return dsl::ref(std::move(path));
  }

  Result<Expr> parse_call(const Token& name) {
    advance();
    std::vector<Arg> args;
    while (!at(")")) {
      if (!args.empty()) {
        if (!at(","))
          return expected(fmt::format("\",\" or \")\" to close \"{}(\" at column {}", name.text,
                                      column_at(input_, name.pos)));
        advance();
      }
      std::size_t pos = peek().pos;
      auto arg = parse_level(0);
      if (!arg) return arg;
      args.push_back(Arg{std::move(*arg), pos});
    }
    advance();
    return build_call(name, args);
  }

  Result<Expr> build_call(const Token& name, const std::vector<Arg>& args);
  Result<Expr> build_aggregate(AggregateKind kind, const Token& name, const std::vector<Arg>& args);
  Result<Expr> build_actor(const std::vector<Arg>& args);
  Result<Expr> build_time(const Token& name, const std::vector<Arg>& args);
  Result<Expr> build_cast(const std::vector<Arg>& args);
  Result<Expr> build_cond(const std::vector<Arg>& args);
  std::optional<Error> check_arity(const Token& name, std::size_t count, std::size_t min,
                                   std::size_t max) const;

  std::string_view input_;
  std::vector<Token> tokens_;
  std::size_t i_ = 0;
  int depth_ = 0;
};

std::optional<Error> Parser::check_arity(const Token& name, std::size_t count, std::size_t min,
                                         std::size_t max) const {
  if (count >= min && count <= max) return std::nullopt;
  std::string wanted = min == max       ? std::to_string(min)
                       : max == SIZE_MAX ? fmt::format("at least {}", min)
                                         : fmt::format("{} or {}", min, max);
  return error_at(name, fmt::format("{} takes {} argument{}, found {}", name.text, wanted,
                                    max == 1 ? "" : "s", count));
}

Result<Expr> Parser::build_call(const Token& name, const std::vector<Arg>& args) {
  struct Fn {
    std::string_view name;
    std::size_t min, max;
  };
  static constexpr Fn kFns[] = {{"arg", 1, 1},    {"actor", 0, 1},   {"parent", 1, 1},
                                {"is_nil", 1, 1}, {"contains", 2, 2}, {"now", 0, 0},
                                {"ago", 2, 2},    {"from_now", 2, 2}, {"type", 2, 2},
                                {"if", 2, 3},     {"cond", 2, SIZE_MAX}, {"string_length", 1, 1},
                                {"round", 1, 2}};
  for (int k = 0; k <= static_cast<int>(AggregateKind::list); ++k)
    if (name.text == to_string(static_cast<AggregateKind>(k)))
      return build_aggregate(static_cast<AggregateKind>(k), name, args);
  auto fn = std::find_if(std::begin(kFns), std::end(kFns),
                         [&](const Fn& f) { return f.name == name.text; });
  if (fn == std::end(kFns))
    return error_at(name, fmt::format("unknown function \"{}\"", name.text));
  if (auto e = check_arity(name, args.size(), fn->min, fn->max)) return *e;
  if (name.text == "arg") {
    const std::string* n = name_of(args[0].expr);
    if (!n) return error_at(args[0].pos, "arg takes the argument's name, as in arg(:user_id)");
    return dsl::arg(*n);
  }
  if (name.text == "actor") return build_actor(args);
  if (name.text == "parent") return dsl::parent(args[0].expr);
  if (name.text == "is_nil") return dsl::is_nil(args[0].expr);
  if (name.text == "contains") return dsl::contains(args[0].expr, args[1].expr);
  if (name.text == "now") return dsl::now();
  if (name.text == "type") return build_cast(args);
  if (name.text == "if") return dsl::if_(args[0].expr, args[1].expr, args.size() > 2 ? args[2].expr : Expr());
  if (name.text == "cond") return build_cond(args);
  if (name.text == "string_length") return dsl::string_length(args[0].expr);
  if (name.text == "round") return dsl::round(args[0].expr, args.size() > 1 ? args[1].expr : Expr(0));
  return build_time(name, args);
}

// count(rel[, filter]), exists(rel[, filter]), sum(rel, field[, filter]), ...
Result<Expr> Parser::build_aggregate(AggregateKind kind, const Token& name,
                                     const std::vector<Arg>& args) {
  bool has_field = kind != AggregateKind::count && kind != AggregateKind::exists;
  std::size_t min = has_field ? 2 : 1;
  if (auto e = check_arity(name, args.size(), min, min + 1)) return *e;
  const Expr& rel = args[0].expr;
  if (rel.kind() != ExprKind::ref)
    return error_at(args[0].pos,
                    fmt::format("{} expects a relationship, found {}", name.text, to_string(rel)));
  Aggregate a{kind, rel.path(), {}, std::nullopt};
  if (has_field) {
    const std::string* field = name_of(args[1].expr);
    if (!field)
      return error_at(args[1].pos, fmt::format("{} expects a field name, found {}", name.text,
                                               to_string(args[1].expr)));
    a.field = *field;
  }
  if (args.size() > min) a.filter = args[min].expr;
  return dsl::aggregate(std::move(a));
}

Result<Expr> Parser::build_actor(const std::vector<Arg>& args) {
  if (args.empty()) return dsl::actor();
  if (const std::string* field = name_of(args[0].expr)) return dsl::actor(*field);
  const Expr& e = args[0].expr;
  if (e.is_literal() && e.literal().as_array()) {
    std::vector<std::string> path;
    for (const auto& item : *e.literal().as_array()) {
      if (!item.as_atom()) break;
      path.push_back(item.as_atom()->name);
    }
    if (path.size() == e.literal().as_array()->size()) return dsl::actor(std::move(path));
  }
  return error_at(args[0].pos, "actor takes a key or a list of keys, as in actor(:id)");
}

Result<Expr> Parser::build_time(const Token& name, const std::vector<Arg>& args) {
  const Expr& unit = args[1].expr;
  std::optional<TimeUnit> u;
  if (unit.is_literal() && unit.literal().as_atom())
    u = parse_time_unit(unit.literal().as_atom()->name);
  if (!u)
    return error_at(args[1].pos,
                    fmt::format("expected a time unit (:microsecond, :millisecond, :second, "
                                ":minute, :hour, :day or :week), found {}",
                                to_string(unit)));
  return name.text == "ago" ? dsl::ago(args[0].expr, *u) : dsl::from_now(args[0].expr, *u);
}

// type(literal, :type): a literal of a kind with no syntax of its own (what the printer
// writes for uuids and times). Only literals: the cast happens here, once.
Result<Expr> Parser::build_cast(const std::vector<Arg>& args) {
  const Expr& value = args[0].expr;
  const Expr& type_arg = args[1].expr;
  const Atom* type_name = type_arg.is_literal() ? type_arg.literal().as_atom() : nullptr;
  std::optional<Type> type = type_name ? Type::parse(type_name->name) : std::nullopt;
  if (!type)
    return error_at(args[1].pos,
                    fmt::format("expected a type such as :uuid, found {}", to_string(type_arg)));
  if (!value.is_literal())
    return error_at(args[0].pos,
                    fmt::format("type(...) casts literals only, found {}", to_string(value)));
  if (type->kind == TypeKind::binary && value.literal().as_string()) {
    auto bytes = base64_decode(*value.literal().as_string());
    if (!bytes) return error_at(args[0].pos, "expected base64 for a binary value");
    return Expr(Binary{*bytes});
  }
  CastResult cast = cast_value(*type, value.literal());
  if (!cast.value) return error_at(args[0].pos, cast.error);
  return Expr(std::move(*cast.value));
}

// cond(c1, v1, c2, v2, ..., otherwise): pairs, then an optional last value.
Result<Expr> Parser::build_cond(const std::vector<Arg>& args) {
  std::vector<std::pair<Expr, Expr>> branches;
  for (std::size_t i = 0; i + 1 < args.size(); i += 2) branches.emplace_back(args[i].expr, args[i + 1].expr);
  return dsl::cond(std::move(branches), args.size() % 2 ? args.back().expr : Expr());
}

}  // namespace

Result<Expr> parse_expr(std::string_view text) {
  if (text.size() > kMaxFilterText)
    return Error::invalid({}, {},
                          {FieldError{"filter", codes::kTooComplex,
                                      fmt::format("too long: {} bytes, more than the limit of {}",
                                                  text.size(), kMaxFilterText)}})
        .with_code(codes::kTooComplex);
  return Parser(text).parse();
}

}  // namespace ashlar
