#pragma once
// The built, validated model: resources, attributes, actions, and the domain.

#include <ashlar/model/change.hpp>
#include <ashlar/model/export.hpp>
#include <ashlar/model/policy.hpp>
#include <ashlar/model/relationship.hpp>
#include <ashlar/model/result.hpp>
#include <ashlar/model/type.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ashlar {

// `generic` is Ash's `action :name, returns: type`: arguments and a run function, no
// record of its own (it writes through the actions it calls), so no event has that type.
enum class ActionType : std::uint8_t { create, read, update, destroy, generic };
ASHLAR_API const char* to_string(ActionType type);
// "a create action", "an update action": the type with its article, for messages.
ASHLAR_API std::string an_action(ActionType type);
ASHLAR_API std::optional<ActionType> parse_action_type(std::string_view name);

// Timestamps take the action's own time, the same as its event's.
enum class Timestamp : std::uint8_t { none, create, update };

struct ASHLAR_API Attribute {
  std::string name;
  Type type;
  bool allow_nil = true;
  // Ash's allow_empty?: unless set, a string input "" is cast to nil (and so is required
  // when allow_nil is false).
  bool allow_empty = false;
  Value default_value;                       // used on create when no input is given
  std::function<Value()> default_fn;         // takes precedence over default_value
  std::function<Value()> update_default_fn;  // set on every update (update timestamps)
  bool is_public = true;
  bool writable = true;
  bool sensitive = false;
  bool primary_key = false;
  Constraints constraints;
  Timestamp timestamp = Timestamp::none;  // set by create_timestamp / update_timestamp

  bool has_default() const { return default_fn || !default_value.is_null(); }
};

struct ASHLAR_API Action {
  std::string name;
  ActionType type = ActionType::read;
  bool primary = false;
  // Attributes this create/update action accepts, resolved at build time ("*" expanded,
  // default_accept applied). Empty for read and destroy.
  std::vector<std::string> accept;
  std::vector<Argument> arguments;
  // Read actions: the action's own filter (may use arg(...) and actor(...)), and its
  // `prepare build(sort: ..., limit: ...)`.
  std::optional<Expr> filter;
  std::vector<SortKey> sort;
  std::optional<std::size_t> limit;
  // Changes and validations, in the order declared.
  std::vector<ActionStep> steps;

  // Destroy: the record stays and the action's changes are written as an update (Ash's
  // `soft? true`); its events are of type update. See event_type().
  bool soft = false;
  // Create: when a record already holds the identity (empty: the primary key), update
  // that record's upsert_fields instead (default: the accepted attributes), provided
  // upsert_condition, evaluated against the stored record, holds.
  bool upsert = false;
  std::string upsert_identity{};
  std::vector<std::string> upsert_fields{};
  std::optional<Expr> upsert_condition{};
  // Generic: the type of the value run returns (nullopt: none; run returns nil), whether
  // run and the actions it calls share one write transaction, and the body itself.
  std::optional<Type> returns{};
  bool transaction = false;
  GenericRun run{};

  bool accepts(std::string_view attribute) const;
  const Argument* argument(std::string_view name) const;
  // The type of the events the action writes: update for a soft destroy, else its own.
  ActionType event_type() const { return type == ActionType::destroy && soft ? ActionType::update : type; }
};

// A code interface (Ash's `code_interface do define ... end`): a named call of an action
// with positional arguments. ashlar/interface.hpp calls them.
struct ASHLAR_API CodeInterface {
  std::string name;
  std::string action;                 // defaults to the interface's name
  std::vector<std::string> args;      // positional: the action's arguments or accepted attributes
  std::vector<std::string> get_by;    // read: attributes pinned by the leading positional values
  bool get = false;                   // read: one record (NotFound when none); implied by get_by
};

// A topic an action's events are published under, after Ash PubSub's
// `publish :create, ["created", :id]`: literal parts, ":attribute" parts that take the
// record's value, and ":tenant", the event's tenant. Notifiers put "<domain>.<Resource>."
// in front (notifiers/PROTOCOL.md).
struct ASHLAR_API TopicTemplate {
  std::string action;
  std::vector<std::string> parts;
};

// The topic part that takes the event's tenant (the call's), not an attribute's value.
inline constexpr std::string_view kTenantTopicPart = ":tenant";

// Ash's multitenancy strategies. attribute: every record of the resource belongs to the
// tenant its attribute names. context: each tenant's records live in databases of their
// own (rec/<Resource>@<tenant>, ...), and the record holds no tenant attribute.
enum class Multitenancy : std::uint8_t { none, attribute, context };

// Ash's `multitenancy do strategy :attribute; attribute :org_id; global? false end`.
// With the attribute strategy every call on the resource needs a tenant (Invalid,
// "tenant is required", without one) unless `global`, when a call without a tenant
// reads and writes every tenant's records. A create sets the attribute to the call's
// tenant; reads, gets, loads, aggregates, identities, upserts and the records updates
// and destroys act on are all scoped to it. With the context strategy every call needs a
// tenant (there is no global: no records live outside a tenant), and names no attribute.
struct ASHLAR_API MultitenancyDecl {
  Multitenancy strategy = Multitenancy::none;
  std::string attribute{};  // the attribute holding the tenant (a string, integer, uuid or atom)
  bool global = false;      // attribute strategy only
};

class Calculation;  // ashlar/calculation.hpp: a calculation computed by C++ code

// A named value derived from the record (Ash's `calculate`): an expression over its
// attributes, aggregates, related records and earlier calculations, or C++ code that
// computes a whole batch of records at once. Loaded like an aggregate, and usable by name
// in filters and sorts (with its arguments' defaults).
struct ASHLAR_API CalculationDef {
  std::string name;
  Type type;                                // what the value is cast to
  std::optional<Expr> expr{};               // `^arg(:x)` reads an argument
  std::shared_ptr<const Calculation> code{};  // code is not stored: read back, it is listed but not computable
  std::vector<Argument> arguments{};        // given by a load (Query::args), else their defaults

  bool computable() const { return expr.has_value() || code != nullptr; }
  const Argument* argument(std::string_view name) const;
};

class ASHLAR_API Resource {
 public:
  const std::string& name() const { return name_; }
  const std::vector<Attribute>& attributes() const { return attributes_; }
  const std::vector<Action>& actions() const { return actions_; }
  // Indexes into attributes(), in declaration order.
  const std::vector<std::size_t>& primary_key() const { return primary_key_; }

  const Attribute* attribute(std::string_view name) const;
  std::optional<std::size_t> attribute_index(std::string_view name) const;
  const Action* action(std::string_view name) const;
  const std::vector<Relationship>& relationships() const { return relationships_; }
  const Relationship* relationship(std::string_view name) const;
  const std::vector<Identity>& identities() const { return identities_; }
  const Identity* identity(std::string_view name) const;
  // Attributes with a secondary index (idx/<Resource>/<attribute>): those that
  // relationships look records up by, other than a single-attribute primary key.
  const std::vector<std::string>& indexed_attributes() const { return indexed_; }
  bool indexed(std::string_view attribute) const;
  // Named aggregates over relationships (Ash's `aggregates` block): loadable, and usable
  // by name in filters and sorts.
  const std::vector<std::pair<std::string, Aggregate>>& aggregates() const { return aggregates_; }
  const Aggregate* aggregate(std::string_view name) const;
  // Calculations, in the order declared (ResourceBuilder::calculate).
  const std::vector<CalculationDef>& calculations() const { return calculations_; }
  const CalculationDef* calculation(std::string_view name) const;
  // Resource-level changes and validations, in the order declared; each runs for the
  // action types in its `on` (create and update when empty), after the action's own.
  const std::vector<ActionStep>& global_steps() const { return global_steps_; }
  // The action of `type` marked primary (as `defaults` marks its actions), or nullptr.
  const Action* primary_action(ActionType type) const;
  // Code interfaces, in the order declared (ResourceBuilder::define).
  const std::vector<CodeInterface>& interfaces() const { return interfaces_; }
  const CodeInterface* interface(std::string_view name) const;
  // Declared topic templates (ResourceBuilder::publish); an action without one is
  // published under the default topic.
  const std::vector<TopicTemplate>& topics() const { return topics_; }
  // Policies and bypasses, in the order declared (ashlar/model/policy.hpp). Empty: every
  // request is authorized.
  const std::vector<Policy>& policies() const { return policies_; }
  // Field policies and field policy bypasses, in the order declared (ashlar/model/policy.hpp).
  const std::vector<FieldPolicy>& field_policies() const { return field_policies_; }
  // How the resource's records belong to tenants (strategy none: they do not).
  const MultitenancyDecl& multitenancy() const { return multitenancy_; }
  // The attribute holding the tenant, or nullptr when the resource is not multitenant.
  const Attribute* tenant_attribute() const;

 private:
  friend class ResourceBuilder;
  friend class DomainBuilder;
  friend Result<class Domain> domain_from_json(std::string_view);
  friend struct ModelAccess;
  std::string name_;
  std::vector<Attribute> attributes_;
  std::vector<Action> actions_;
  std::vector<std::size_t> primary_key_;
  std::vector<TopicTemplate> topics_;
  std::vector<Relationship> relationships_;
  std::vector<Identity> identities_;
  std::vector<std::string> indexed_;
  std::vector<std::pair<std::string, Aggregate>> aggregates_;
  std::vector<CalculationDef> calculations_;
  std::vector<ActionStep> global_steps_;
  std::vector<CodeInterface> interfaces_;
  std::vector<Policy> policies_;
  std::vector<FieldPolicy> field_policies_;
  MultitenancyDecl multitenancy_{};
};

// An immutable, validated set of resources. Cheap to copy (shared).
class ASHLAR_API Domain {
 public:
  Domain() = default;
  const std::string& name() const;
  const std::vector<Resource>& resources() const;
  const Resource* resource(std::string_view name) const;

 private:
  friend class DomainBuilder;
  friend struct ModelAccess;
  friend Result<Domain> domain_from_json(std::string_view);
  std::shared_ptr<const struct DomainData> data_;
};

// Why `path` (to-one relationships, then an attribute) does not resolve from `r`, as
// "Ticket has no attribute colour"; nullopt when it does.
ASHLAR_API std::optional<std::string> ref_problem(const Domain& domain, const Resource& r, const std::vector<std::string>& path);

// Where a path that resolves (ref_problem says nothing) ends: the resource its last name
// is on, and that attribute (null for an aggregate or a calculation).
struct ASHLAR_API PathEnd {
  const Resource* resource = nullptr;
  const Attribute* attribute = nullptr;
};
ASHLAR_API std::optional<PathEnd> resolve_path(const Domain& domain, const Resource& r,
                                               const std::vector<std::string>& path);

// The model as the log stores it (JSON; see eventlog/FORMAT.md). Functions (default_fn)
// are not stored: a model read back has the same names, types and options, no code.
ASHLAR_API std::string domain_to_json(const Domain& domain);
ASHLAR_API Result<Domain> domain_from_json(std::string_view json);

// Empty when `next` can open a store written with `stored`; otherwise one line per
// incompatibility ("User.name: type changed from string to integer").
ASHLAR_API std::vector<std::string> incompatibilities(const Domain& stored, const Domain& next);
// The same, each with the resource it concerns (empty for the domain's name), so an
// upcaster declared for that resource can cover it.
struct ASHLAR_API Incompatibility {
  std::string resource;
  std::string message;
};
ASHLAR_API std::vector<Incompatibility> model_incompatibilities(const Domain& stored, const Domain& next);

}  // namespace ashlar
