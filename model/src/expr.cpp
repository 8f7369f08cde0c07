// The expression tree, its builders and operators, and the analysis helpers.

#include <ashlar/model/expr.hpp>

#include <cassert>

namespace ashlar {

struct Expr::Node {
  ExprKind kind = ExprKind::literal;
  std::uint8_t op = 0;  // CompareOp, ArithOp or TimeUnit, by kind
  Value value;
  std::vector<std::string> path;
  std::string name;
  std::vector<Expr> operands;
  Aggregate aggregate;
  std::size_t size = 1;  // nodes in the tree below and including this one; set by make()

  Node() = default;
  Node(Node&&) = default;
  Node& operator=(Node&&) = default;
  ~Node();
};

namespace {

std::size_t saturating_add(std::size_t a, std::size_t b) {
  return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

}  // namespace

// A chain of a few thousand terms would otherwise be torn down by as many nested
// destructor calls. Instead the node adopts each child it is the last owner of, and the
// loop below empties those before they are released, so no release recurses. Nodes are
// always created non-const (make()), which makes the const_cast below sound.
Expr::Node::~Node() {
  std::vector<std::shared_ptr<const Node>> doomed;
  auto adopt = [&doomed](Node& n) {
    for (auto& operand : n.operands)
      if (operand.node_.use_count() == 1) doomed.push_back(std::move(operand.node_));
    auto& filter = n.aggregate.filter;
    if (filter && filter->node_.use_count() == 1) doomed.push_back(std::move(filter->node_));
  };
  adopt(*this);
  while (!doomed.empty()) {
    std::shared_ptr<const Node> n = std::move(doomed.back());
    doomed.pop_back();
    adopt(const_cast<Node&>(*n));
  }
}

// The one place nodes are made.
struct ExprFactory {
  using Node = Expr::Node;
  static Expr make(Expr::Node node) {
    for (const auto& operand : node.operands) node.size = saturating_add(node.size, operand.node_count());
    if (node.aggregate.filter) node.size = saturating_add(node.size, node.aggregate.filter->node_count());
    return Expr(std::shared_ptr<const Expr::Node>(std::make_shared<Expr::Node>(std::move(node))));
  }
  static Expr make(ExprKind kind, std::vector<Expr> operands, std::uint8_t op = 0) {
    Expr::Node node;
    node.kind = kind;
    node.op = op;
    node.operands = std::move(operands);
    return make(std::move(node));
  }
  static const Expr::Node& node(const Expr& e) { return *e.node_; }
  static bool same_node(const Expr& a, const Expr& b) { return a.node_ == b.node_; }
};

namespace {

using F = ExprFactory;
using Node = ExprFactory::Node;

std::vector<std::string> split_path(std::string_view dotted) {
  std::vector<std::string> path;
  std::size_t start = 0;
  while (true) {
    std::size_t dot = dotted.find('.', start);
    path.emplace_back(dotted.substr(start, dot - start));
    if (dot == std::string_view::npos) return path;
    start = dot + 1;
  }
}

Expr make_aggregate(AggregateKind kind, std::string_view rel, std::string_view field,
                    std::optional<Expr> filter = std::nullopt) {
  Node node;
  node.kind = ExprKind::aggregate;
  node.aggregate = Aggregate{kind, split_path(rel), std::string(field), std::move(filter)};
  return F::make(std::move(node));
}

// Everything of two nodes but their operands' and filter's subtrees.
bool same_head(const Node& a, const Node& b) {
  return a.kind == b.kind && a.op == b.op && a.value == b.value && a.path == b.path &&
         a.name == b.name && a.operands.size() == b.operands.size() &&
         a.aggregate.kind == b.aggregate.kind && a.aggregate.path == b.aggregate.path &&
         a.aggregate.field == b.aggregate.field &&
         a.aggregate.filter.has_value() == b.aggregate.filter.has_value();
}

}  // namespace

const char* to_string(CompareOp op) {
  static const char* const kNames[] = {"==", "!=", "<", "<=", ">", ">="};
  return kNames[static_cast<int>(op)];
}

const char* to_string(ArithOp op) {
  static const char* const kNames[] = {"+", "-", "*", "/", "<>"};
  return kNames[static_cast<int>(op)];
}

const char* to_string(AggregateKind kind) {
  static const char* const kNames[] = {"count", "exists", "sum", "min", "max", "first", "list"};
  return kNames[static_cast<int>(kind)];
}

const char* to_string(TimeUnit unit) {
  static const char* const kNames[] = {"microsecond", "millisecond", "second", "minute",
                                       "hour",        "day",         "week"};
  return kNames[static_cast<int>(unit)];
}

const char* to_string(ExprFunction fn) {
  static const char* const kNames[] = {"if", "string_length", "round"};
  return kNames[static_cast<int>(fn)];
}

std::optional<TimeUnit> parse_time_unit(std::string_view name) {
  for (int u = 0; u <= static_cast<int>(TimeUnit::week); ++u)
    if (name == to_string(static_cast<TimeUnit>(u))) return static_cast<TimeUnit>(u);
  return std::nullopt;
}

// ---- Expr ----------------------------------------------------------------------------

Expr::Expr() : Expr(Value()) {}

Expr::Expr(Value value) {
  Node node;
  node.value = std::move(value);
  node_ = std::make_shared<Node>(std::move(node));
}

ExprKind Expr::kind() const { return node_->kind; }

const Value& Expr::literal() const {
  assert(kind() == ExprKind::literal);
  return node_->value;
}

const std::vector<std::string>& Expr::path() const {
  assert(kind() == ExprKind::ref || kind() == ExprKind::actor);
  return node_->path;
}

const std::string& Expr::name() const {
  assert(kind() == ExprKind::arg);
  return node_->name;
}

const std::vector<Expr>& Expr::operands() const { return node_->operands; }

std::size_t Expr::node_count() const { return node_->size; }

CompareOp Expr::compare_op() const {
  assert(kind() == ExprKind::compare);
  return static_cast<CompareOp>(node_->op);
}

ArithOp Expr::arith_op() const {
  assert(kind() == ExprKind::arith);
  return static_cast<ArithOp>(node_->op);
}

TimeUnit Expr::unit() const {
  assert(kind() == ExprKind::ago || kind() == ExprKind::from_now);
  return static_cast<TimeUnit>(node_->op);
}

ExprFunction Expr::function() const {
  assert(kind() == ExprKind::call);
  return static_cast<ExprFunction>(node_->op);
}

const Aggregate& Expr::aggregate() const {
  assert(kind() == ExprKind::aggregate);
  return node_->aggregate;
}

// An explicit stack of pairs still to compare: a chain of a few thousand terms would
// otherwise recurse once per term.
bool Expr::equals(const Expr& other) const {
  std::vector<std::pair<const Node*, const Node*>> pending{{node_.get(), other.node_.get()}};
  while (!pending.empty()) {
    auto [a, b] = pending.back();
    pending.pop_back();
    if (a == b) continue;
    if (a->size != b->size || !same_head(*a, *b)) return false;
    for (std::size_t i = 0; i < a->operands.size(); ++i)
      pending.emplace_back(a->operands[i].node_.get(), b->operands[i].node_.get());
    if (a->aggregate.filter)
      pending.emplace_back(a->aggregate.filter->node_.get(), b->aggregate.filter->node_.get());
  }
  return true;
}

bool Aggregate::equals(const Aggregate& other) const {
  if (kind != other.kind || path != other.path || field != other.field) return false;
  if (filter.has_value() != other.filter.has_value()) return false;
  return !filter || filter->equals(*other.filter);
}

Expr Expr::in(std::initializer_list<Expr> items) const { return dsl::in(*this, items); }
Expr Expr::in(Expr list) const { return dsl::in(*this, std::move(list)); }

Expr operator==(const Expr& a, const Expr& b) { return dsl::compare(CompareOp::eq, a, b); }
Expr operator!=(const Expr& a, const Expr& b) { return dsl::compare(CompareOp::ne, a, b); }
Expr operator<(const Expr& a, const Expr& b) { return dsl::compare(CompareOp::lt, a, b); }
Expr operator<=(const Expr& a, const Expr& b) { return dsl::compare(CompareOp::le, a, b); }
Expr operator>(const Expr& a, const Expr& b) { return dsl::compare(CompareOp::gt, a, b); }
Expr operator>=(const Expr& a, const Expr& b) { return dsl::compare(CompareOp::ge, a, b); }
Expr operator&&(const Expr& a, const Expr& b) { return F::make(ExprKind::logical_and, {a, b}); }
Expr operator||(const Expr& a, const Expr& b) { return F::make(ExprKind::logical_or, {a, b}); }
Expr operator!(const Expr& a) { return F::make(ExprKind::logical_not, {a}); }
Expr operator+(const Expr& a, const Expr& b) { return dsl::arith(ArithOp::add, a, b); }
Expr operator-(const Expr& a, const Expr& b) { return dsl::arith(ArithOp::sub, a, b); }
Expr operator*(const Expr& a, const Expr& b) { return dsl::arith(ArithOp::mul, a, b); }
Expr operator/(const Expr& a, const Expr& b) { return dsl::arith(ArithOp::div, a, b); }

// ---- Builders ------------------------------------------------------------------------

namespace dsl {

Expr RefFn::operator()(std::string_view dotted) const { return (*this)(split_path(dotted)); }

Expr RefFn::operator()(std::vector<std::string> path) const {
  Node node;
  node.kind = ExprKind::ref;
  node.path = std::move(path);
  return F::make(std::move(node));
}

Expr ArgFn::operator()(std::string_view name) const {
  Node node;
  node.kind = ExprKind::arg;
  node.name = std::string(name);
  return F::make(std::move(node));
}

Expr actor() { return actor(std::vector<std::string>{}); }
Expr actor(std::string_view field) { return actor(std::vector<std::string>{std::string(field)}); }

Expr actor(std::vector<std::string> path) {
  Node node;
  node.kind = ExprKind::actor;
  node.path = std::move(path);
  return F::make(std::move(node));
}

Expr parent(Expr e) { return F::make(ExprKind::parent, {std::move(e)}); }
Expr is_nil(Expr e) { return F::make(ExprKind::is_nil, {std::move(e)}); }

Expr contains(Expr haystack, Expr needle) {
  return F::make(ExprKind::contains, {std::move(haystack), std::move(needle)});
}

Expr in(Expr e, std::initializer_list<Expr> items) {
  return in(std::move(e), list_of(std::vector<Expr>(items)));
}

Expr in(Expr e, Expr list) { return F::make(ExprKind::in, {std::move(e), std::move(list)}); }

// Folding lists of literals into one literal keeps a single tree for `[1, 2]` however it
// was built, so the DSL, the parser and the printer agree.
Expr list_of(std::vector<Expr> items) {
  bool all_literal = true;
  for (const auto& item : items) all_literal = all_literal && item.is_literal();
  if (!all_literal) return F::make(ExprKind::list, std::move(items));
  Array values;
  values.reserve(items.size());
  for (const auto& item : items) values.push_back(item.literal());
  return Expr(Value(std::move(values)));
}

Expr compare(CompareOp op, Expr a, Expr b) {
  return F::make(ExprKind::compare, {std::move(a), std::move(b)}, static_cast<std::uint8_t>(op));
}

Expr arith(ArithOp op, Expr a, Expr b) {
  return F::make(ExprKind::arith, {std::move(a), std::move(b)}, static_cast<std::uint8_t>(op));
}

Expr count(std::string_view rel) { return make_aggregate(AggregateKind::count, rel, {}); }
Expr exists(std::string_view rel) { return make_aggregate(AggregateKind::exists, rel, {}); }

Expr exists(std::string_view rel, Expr filter) {
  return make_aggregate(AggregateKind::exists, rel, {}, std::move(filter));
}

Expr sum(std::string_view rel, std::string_view field) {
  return make_aggregate(AggregateKind::sum, rel, field);
}

Expr first(std::string_view rel, std::string_view field) {
  return make_aggregate(AggregateKind::first, rel, field);
}

Expr list(std::string_view rel, std::string_view field) {
  return make_aggregate(AggregateKind::list, rel, field);
}

Expr MinFn::operator()(std::string_view rel, std::string_view field) const {
  return make_aggregate(AggregateKind::min, rel, field);
}

Expr MaxFn::operator()(std::string_view rel, std::string_view field) const {
  return make_aggregate(AggregateKind::max, rel, field);
}

Expr aggregate(Aggregate aggregate) {
  Node node;
  node.kind = ExprKind::aggregate;
  node.aggregate = std::move(aggregate);
  return F::make(std::move(node));
}

Expr now() { return F::make(ExprKind::now, {}); }

Expr ago(Expr amount, TimeUnit unit) {
  return F::make(ExprKind::ago, {std::move(amount)}, static_cast<std::uint8_t>(unit));
}

Expr from_now(Expr amount, TimeUnit unit) {
  return F::make(ExprKind::from_now, {std::move(amount)}, static_cast<std::uint8_t>(unit));
}

Expr concat(Expr a, Expr b) { return arith(ArithOp::concat, std::move(a), std::move(b)); }

Expr if_(Expr cond, Expr then, Expr otherwise) {
  return F::make(ExprKind::call, {std::move(cond), std::move(then), std::move(otherwise)},
                 static_cast<std::uint8_t>(ExprFunction::if_));
}

// From the last branch back, so no call recurses per branch.
Expr cond(std::vector<std::pair<Expr, Expr>> branches, Expr otherwise) {
  Expr out = std::move(otherwise);
  for (auto it = branches.rbegin(); it != branches.rend(); ++it)
    out = if_(std::move(it->first), std::move(it->second), std::move(out));
  return out;
}

Expr string_length(Expr s) {
  return F::make(ExprKind::call, {std::move(s)}, static_cast<std::uint8_t>(ExprFunction::string_length));
}

Expr round(Expr x, Expr digits) {
  return F::make(ExprKind::call, {std::move(x), std::move(digits)}, static_cast<std::uint8_t>(ExprFunction::round));
}

}  // namespace dsl

// ---- Analysis ------------------------------------------------------------------------

namespace {

// The walks below keep their own stack: a chain of a few thousand terms would otherwise
// recurse once per term.

// Whether `e` evaluates the same for every record: no ref or aggregate outside parent().
bool record_free(const Expr& e) {
  std::vector<const Expr*> pending{&e};
  while (!pending.empty()) {
    const Expr* next = pending.back();
    pending.pop_back();
    if (next->kind() == ExprKind::ref || next->kind() == ExprKind::aggregate) return false;
    if (next->kind() == ExprKind::parent) continue;
    for (const auto& operand : next->operands()) pending.push_back(&operand);
  }
  return true;
}

const std::string* single_ref(const Expr& e) {
  if (e.kind() != ExprKind::ref || e.path().size() != 1) return nullptr;
  return &e.path()[0];
}

// Where a node is evaluated: `up` parent(...)s out from the record (0 the record itself, 1
// its parent), then `into` aggregate filters in, on related records. parent(...) leaves
// the innermost aggregate filter first, and only outside every one steps out to a parent:
// in `parent(exists(c, x > parent(y)))` x is c's and y is the parent's.
// Visits in the order of the text: a node before its operands, operands left to right.
struct Walker {
  const RefVisitor* on_ref = nullptr;
  const AggregateVisitor* on_aggregate = nullptr;

  struct At {
    int up = 0;
    int into = 0;
  };

  void walk(const Expr& root) const {
    std::vector<std::pair<const Expr*, At>> pending{{&root, At{}}};
    while (!pending.empty()) {
      auto [e, at] = pending.back();
      pending.pop_back();
      bool own = at.into == 0;  // the record's or its parent's, not a related record's
      if (e->kind() == ExprKind::ref && on_ref && own) (*on_ref)(e->path(), at.up > 0);
      if (e->kind() == ExprKind::aggregate) {
        if (on_aggregate && own) (*on_aggregate)(e->aggregate(), at.up > 0);
        if (e->aggregate().filter) pending.emplace_back(&*e->aggregate().filter, At{at.up, at.into + 1});
        continue;
      }
      At next = at;
      if (e->kind() == ExprKind::parent) {
        if (next.into > 0) --next.into;
        else ++next.up;
      }
      const auto& operands = e->operands();
      for (auto it = operands.rbegin(); it != operands.rend(); ++it) pending.emplace_back(&*it, next);
    }
  }
};

}  // namespace

std::vector<Expr> conjuncts(const Expr& e) {
  std::vector<Expr> out;
  std::vector<const Expr*> pending{&e};
  while (!pending.empty()) {
    const Expr* next = pending.back();
    pending.pop_back();
    if (next->kind() != ExprKind::logical_and) {
      out.push_back(*next);
      continue;
    }
    const auto& operands = next->operands();
    for (auto it = operands.rbegin(); it != operands.rend(); ++it) pending.push_back(&*it);
  }
  return out;
}

std::optional<IndexTerm> index_term(const Expr& conjunct) {
  if (conjunct.kind() == ExprKind::in) {
    const auto& ops = conjunct.operands();
    const std::string* attribute = single_ref(ops[0]);
    if (!attribute || !record_free(ops[1])) return std::nullopt;
    return IndexTerm{*attribute, ops[1], true};
  }
  if (conjunct.kind() != ExprKind::compare || conjunct.compare_op() != CompareOp::eq)
    return std::nullopt;
  const auto& ops = conjunct.operands();
  for (int side = 0; side < 2; ++side) {
    const std::string* attribute = single_ref(ops[side]);
    if (attribute && record_free(ops[1 - side])) return IndexTerm{*attribute, ops[1 - side], false};
  }
  return std::nullopt;
}

void visit_refs(const Expr& e, const RefVisitor& fn) {
  Walker{&fn, nullptr}.walk(e);
}

void visit_aggregates(const Expr& e, const AggregateVisitor& fn) {
  Walker{nullptr, &fn}.walk(e);
}

}  // namespace ashlar
