#pragma once
// Reading in one snapshot: records by key or index, relationships loaded in batches
// (one lookup per distinct key, level by level), and the values filters and sorts
// need — refs through to-one relationships and aggregates — computed per row.

#include <ashlar/manual.hpp>
#include <ashlar/projections/source.hpp>
#include <ashlar/projections/tenants.hpp>
#include <ashlar/query.hpp>
#include <ashlar/record.hpp>

#include <map>
#include <memory>
#include <set>

namespace ashlar::runtime {

Record make_record(const Domain& domain, const Resource& resource, const StoredRecord& stored);
std::vector<std::string> split_path(std::string_view dotted);

// The read action a relationship's records come through: the read action of dest a
// load's query names (`custom`; validate_loads refuses a name that is none), else the
// relationship's own, else the destination's primary read (null when it has none).
const Action* load_read_action(const Resource& dest, const Relationship& rel, const Query* custom = nullptr);

class Reader;

// The live state in a transaction: the state projection's tables, and for a resource with
// context multitenancy the tables of the tenant asked for (none: an empty source).
class LiveState final : public StateSource {
 public:
  LiveState(const StateProjection& state, const TenantTables* tenants, const Txn& txn)
      : state_(state), tenants_(tenants), txn_(txn) {}
  Result<std::optional<StoredRecord>> get(std::string_view resource, std::string_view key_bytes) const override {
    return state_.get(txn_, resource, key_bytes);
  }
  Result<void> scan(std::string_view resource, const std::function<bool(const StoredRecord&)>& fn) const override {
    return state_.scan(txn_, resource, fn);
  }
  Result<std::vector<std::string>> lookup(std::string_view resource, std::string_view attribute,
                                          const Value& value) const override {
    return state_.lookup(txn_, resource, attribute, value);
  }
  Result<std::optional<std::string>> lookup_identity(std::string_view resource, std::string_view identity,
                                                     const std::vector<Value>& values) const override {
    return state_.lookup_identity(txn_, resource, identity, values);
  }
  Result<const StateSource*> tenant(std::string_view resource, const std::string& tenant) const override;

 private:
  struct Tenant {
    std::shared_ptr<const StateProjection> tables;
    std::unique_ptr<LiveState> state;
  };
  const StateProjection& state_;
  const TenantTables* tenants_;
  const Txn& txn_;
  EmptyState empty_;
  mutable std::map<std::string, Tenant, std::less<>> by_tenant_;  // resource NUL tenant
};

// Rows of one resource, with the related records their refs and aggregates reach,
// loaded on first use for all rows at once.
class RowSet {
 public:
  RowSet(Reader& reader, const Resource& resource, const std::vector<Record>& rows)
      : reader_(reader), resource_(resource), rows_(rows) {}

  // The value at `path` for row i: an attribute, a named aggregate, or through to-one
  // relationships. Nil where a relationship on the way is nil.
  Result<Value> ref(std::size_t row, const std::vector<std::string>& path);
  // `parent`: row i's own parent(...) context, which parent(parent(...)) in the
  // aggregate's filter reaches.
  Result<Value> aggregate(std::size_t row, const Aggregate& aggregate, const EvalContext* parent = nullptr);
  // The context a filter is evaluated in for row i.
  EvalContext context(std::size_t row, const EvalContext& base, const EvalContext* parent = nullptr);
  const std::vector<Record>& rows() const { return rows_; }

 private:
  // For each row, the records at the end of `path` (relationships, any cardinality).
  Result<const std::vector<std::vector<Record>>*> follow(const std::vector<std::string>& path,
                                                         const Resource** end);
  Reader& reader_;
  const Resource& resource_;
  const std::vector<Record>& rows_;
  struct Level {
    std::vector<std::vector<Record>> per_row;
    const Resource* resource = nullptr;
  };
  std::map<std::string, std::unique_ptr<Level>> followed_;
  std::map<std::string, std::vector<Value>> calculated_;  // by name, with defaults, for all rows
};

class Reader {
 public:
  // Reads what `source` holds: the live state, or a past one (time travel).
  Reader(const Domain& domain, const StateSource& source, EvalContext base, int depth = 0)
      : domain_(domain), source_(source), base_(std::move(base)), depth_(depth) {}
  // Reads the live state projection in `txn` (and the tenants' tables, context multitenancy).
  Reader(const Domain& domain, const Log& log, const StateProjection& state, const TenantTables* tenants,
         const Txn& txn, EvalContext base);
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  const Domain& domain() const { return domain_; }
  const EvalContext& base() const { return base_; }
  // Whether reads apply the resources' read policies (on unless a query turns it off):
  // Reader::run takes a query's choice, and readers nested in this one keep it.
  void set_authorize(bool on) { authorize_ = on; }
  // For each of records (aligned), whether r's primary read action returns it to the
  // actor: its tenant, the action's filter and its preparations' filters, and (unless
  // authorization is off) its policies; decided in one pass. Lookups by key use it.
  Result<std::vector<bool>> readable(const Resource& r, const std::vector<Record>& records);

  Result<std::optional<Record>> get(const Resource& r, std::string_view key_bytes);
  Result<std::vector<Record>> scan(const Resource& r);
  // The record whose identity `identity` has `values` (one index lookup), or nullopt.
  Result<std::optional<Record>> by_identity(const Resource& r, const std::string& identity, const std::vector<Value>& values);
  // Records whose `attribute` equals one of `values`, by the primary key, an identity of
  // that one attribute, or a secondary index; nullopt when none of those covers it.
  Result<std::optional<std::vector<Record>>> by_attribute(const Resource& r, const Attribute& attribute,
                                                          const std::vector<Value>& values);

  // The records related to each row (aligned with rows): the relationship's own filter
  // and sort applied; `custom` (a load's query) filtered, sorted and limited per row.
  Result<std::vector<std::vector<Record>>> related(const Resource& r, const Relationship& rel,
                                                   const std::vector<Record>& rows, const Query* custom);
  // The values of calculation `c` for each of rows (aligned), with the arguments `given`
  // (cast; defaults for the rest), computed in one batch (calculate.cpp).
  Result<std::vector<Value>> calculate(const Resource& r, const CalculationDef& c, const std::vector<Record>& rows,
                                       const Fields& given);
  // Loads relationships, named aggregates and calculations into rows, level by level.
  Result<void> load(const Resource& r, std::vector<Record>& rows, const std::vector<Load>& loads);

  // Filters, sorts and pages rows of r as a query asks (used for reads and loads).
  Result<std::vector<Record>> refine(const Resource& r, std::vector<Record> rows, const std::optional<Expr>& filter,
                                     const std::vector<SortKey>& sort, const EvalContext* parent);

  const Resource& resource(std::string_view name) const { return *domain_.resource(name); }

  // Field policies (field_policies.cpp). Replaces, in rows of r and the related records
  // loaded into them, each field the actor may not read with Value::forbidden(): r's by
  // the request of `action` (null: r's primary read), related ones by their primary read.
  // Nothing when authorization is off. Fails with a custom check's error.
  // `loads`: what the rows' related records were loaded with (the action a load names).
  Result<void> hide_fields(const Resource& r, const Action* action, std::vector<Record>& rows,
                           const std::vector<Load>* loads = nullptr);
  // Forbidden, naming the field, when q's filter or sort (or a load's) reaches a field the
  // actor may not read on every record: such a filter could tell its values apart.
  // Field policies are decided for the action the records come through (`a`). `parent`:
  // the resource of the record q is a load for (what parent(...) in its filter names),
  // read through `parent_action`.
  Result<void> check_filterable(const Resource& r, const Action& a, const Query& q, const Resource* parent = nullptr,
                                const Action* parent_action = nullptr);
  // Loads given without a query (Engine::load): their filters and sorts name what exists
  // and, under field policies, what the actor may filter on (as Reader::run checks a
  // query's loads).
  Result<void> check_loads(const Resource& r, const std::vector<Load>& loads);
  // Whether some key of sort (the read action's and its preparations' included) reaches a
  // field the actor may not read on every record: a cursor of it would carry its values.
  // check_filterable's part for loads: each load's own query, read through the action its
  // records come through, its parent(...) r's record read through `a` (null: none).
  Result<void> check_loads_filterable(const Resource& r, const Action* a, const std::vector<Load>& loads);
  Result<bool> sort_guarded(const Resource& r, const Action& a, const std::vector<SortKey>& sort, const Value& actor);

  // A whole read: the action resolved from q.action, its arguments cast, filter, sort,
  // pagination, loads and select (query.cpp).
  Result<std::vector<Record>> run(const Resource& r, const Query& q);
  // The read action's preparations applied to q (Reader::run runs them first).
  Result<Query> prepare(const Resource& r, const Action& a, const Fields& args, const Value& actor, Query q) const;

 private:
  // Where r's records are: for context multitenancy, the tenant's tables (Invalid,
  // tenant_required, without a tenant).
  Result<const StateSource*> source(const Resource& r) const;
  // The read of a prepared query: filter, sort, page, loads and select; fields are not
  // hidden yet (the caller hides them, after the query's hooks).
  Result<std::vector<Record>> run_prepared(const Resource& r, const Action* a, const Fields& args, const Query& q);
  Result<std::vector<Record>> read_page(const Resource& r, const Action* a, const Fields& args, const Query& q);
  // The same wrapped in the query's hooks, then fields hidden.
  Result<std::vector<Record>> run_hooked(const Resource& r, const Action& a, const Fields& args, Query& q);
  // Field policies on a page run_prepared read (hide_fields as that read's reader).
  Result<void> hide(const Resource& r, const Action& a, const Fields& args, const Value& actor,
                    std::vector<Record>& page, const std::vector<Load>& loads);
  Result<std::vector<std::vector<Record>>> fetch_related(const Resource& r, const Relationship& rel,
                                                         const std::vector<Record>& rows, const Query* custom);
  Result<std::vector<std::vector<Record>>> fetch_through(const Resource& r, const Relationship& rel,
                                                         const std::vector<Record>& rows);
  Result<std::vector<Record>> by_values(const Resource& dest, const std::string& attribute,
                                        const std::vector<Value>& values);
  // Of rows of r, those r's primary read action returns to the actor (as readable).
  // Fails with a custom check's error.
  Result<std::vector<Record>> readable_rows(const Resource& r, std::vector<Record> rows);
  Result<std::vector<std::set<std::string>>> hidden_fields(const Resource& r, const Action* action,
                                                           std::vector<Record>& rows);
  // Keeps, of each row's related records, those the read action returns (its filter and
  // its preparations' filters; load_read_action's, with custom's args), evaluated once for
  // all rows (query.cpp).
  Result<void> through_read_action(const Relationship& rel, std::vector<std::vector<Record>>& per_row,
                                   const Query* custom);
  // The same through action `a` of dest with the caller's arguments `given` (`label` names
  // the read in errors when there is no action).
  Result<void> through_action(const Resource& dest, const Action* a, const Fields& given, std::string_view label,
                              std::vector<std::vector<Record>>& per_row);

  const Domain& domain_;
  std::unique_ptr<LiveState> live_state_;  // owned by the live-state constructor
  const StateSource& source_;
  EvalContext base_;
  // How many read actions' filters this reader is nested in: a filter that reaches back
  // through relationships to itself would otherwise never end.
  int depth_ = 0;
  int calculation_depth_ = 0;  // the same, for calculations reaching calculations
  bool authorize_ = true;
};

// Applies a select: every attribute not named (and not in the primary key) becomes nil.
Result<void> apply_select(const Resource& r, std::vector<Record>& rows, const std::vector<std::string>& select);

// -1, 0 or 1: a before, equal to, or after b, by sort values (the primary key's values
// after the keys'); a comparison that fails sets *error once and counts as equal.
int compare_sort_values(const std::vector<Value>& a, const std::vector<Value>& b, const std::vector<SortKey>& keys,
                        std::optional<Error>* error);

// Sorts rows by keys (the primary key breaks ties) and returns the sort values of each
// row, which keyset cursors are made of.
Result<std::vector<std::vector<Value>>> sort_rows(RowSet& set, std::vector<Record>& rows,
                                                  const std::vector<SortKey>& keys);

}  // namespace ashlar::runtime
