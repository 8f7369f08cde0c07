#pragma once
// The builder DSL: declare a domain of resources, then build() validates it.
//
//   using namespace ashlar::dsl;
//   auto blog = domain("blog")
//     .resource(resource("User")
//       .uuid_primary_key("id")
//       .attribute("name", type::string, {.allow_nil = false})
//       .defaults({"read", "destroy", "create:*", "update:*"}))
//     .build().value();

#include <ashlar/model/export.hpp>
#include <ashlar/model/resource.hpp>

#include <initializer_list>
#include <string>
#include <vector>

namespace ashlar {

// Options of one attribute. Designated initializers must follow this order.
struct ASHLAR_API AttributeOptions {
  bool allow_nil = true;
  bool allow_empty = false;          // strings: keep "" (by default an input "" is cast to nil)
  Value default_value{};             // a constant default; null means none
  std::function<Value()> default_fn{};  // computed on each create; wins over default_value
  std::function<Value()> update_default_fn{};  // computed on each update
  bool is_public = true;             // unlike Ash 3, public by default: `*` accepts it
  bool writable = true;              // false: no action may accept it; defaults still apply
  bool sensitive = false;            // stored, but redacted by the command line
  bool primary_key = false;          // several attributes make a composite key
  Constraints constraints{};
};

// An accept list that distinguishes "not given" (use default_accept) from "nothing".
class ASHLAR_API AcceptList {
 public:
  AcceptList() = default;
  AcceptList(std::initializer_list<std::string> names) : names_(names), given_(true) {}
  AcceptList(std::vector<std::string> names) : names_(std::move(names)), given_(true) {}
  static AcceptList none() { return AcceptList(std::vector<std::string>{}); }
  bool given() const { return given_; }
  const std::vector<std::string>& names() const { return names_; }

 private:
  std::vector<std::string> names_;
  bool given_ = false;
};

struct ASHLAR_API ActionDecl {
  AcceptList accept{};   // create/update only; "*" means every public writable attribute
  bool primary = false;  // used when a call names no action
  std::vector<Argument> arguments{};
  std::optional<Expr> filter{};   // read: `filter expr(...)`, may use arg(...), actor(...)
  std::string sort{};             // read: `prepare build(sort: ...)` in sort-input form, "-opened_at"
  std::optional<std::size_t> limit{};  // read: `prepare build(limit: ...)`
  std::vector<ActionStep> steps{};  // changes and validations, in order (ashlar/changes.hpp)
  // Destroy: Ash's `soft? true` — the record stays; the changes are written as an update.
  bool soft = false;
  // Create: Ash's `upsert? true, upsert_identity: ..., upsert_fields: [...]`. When a record
  // holds the identity (empty: the primary key) it is updated instead: only upsert_fields
  // (not given: the accepted attributes), and only where upsert_condition holds for it.
  bool upsert = false;
  std::string upsert_identity{};
  AcceptList upsert_fields{};
  std::optional<Expr> upsert_condition{};
};

// A generic action (Ash's `action :name, returns: type do run fn ... end`), see
// ashlar/generic.hpp:
//   .action("escalate_all", {.returns = type::integer,
//                            .arguments = {argument("representative_id", type::uuid, {.allow_nil = false})},
//                            .transaction = true,
//                            .run = [](ActionInput& input) -> Result<Value> { ... }})
struct ASHLAR_API GenericActionDecl {
  std::optional<Type> returns{};  // nullopt: the action returns nothing (nil)
  std::vector<Argument> arguments{};
  bool transaction = false;  // Ash's `transaction? true`: run and what it calls commit as one
  GenericRun run{};
};

// A code interface (Ash's `define :top, action: :read, args: [:user_id]`), see
// ashlar/interface.hpp.
struct ASHLAR_API DefineDecl {
  std::string action{};               // empty: the action named like the interface
  std::vector<std::string> args{};    // positional inputs: arguments or accepted attributes
  std::vector<std::string> get_by{};  // read: attributes given first, positionally; one record
  bool get = false;                   // read: one record, NotFound when none
};

// argument("user_id", type::uuid, {.allow_nil = false})
struct ASHLAR_API ArgumentDecl {
  bool allow_nil = true;
  bool allow_empty = false;  // strings: keep "" (by default an input "" is cast to nil)
  Value default_value{};
  Constraints constraints{};
  bool sensitive = false;
  bool is_public = true;
};
ASHLAR_API Argument argument(std::string name, Type type, ArgumentDecl options = {});

// Options of one relationship. Designated initializers must follow this order.
struct ASHLAR_API RelationshipDecl {
  std::string source_attribute{};       // default: belongs_to "<name>_id"; others the primary key
  std::string destination_attribute{};  // default: belongs_to the destination's primary key;
                                        // has_one/has_many "<source in snake case>_id"
  // belongs_to only: the attribute it defines unless define_attribute is false.
  Type attribute_type = type::uuid;
  bool define_attribute = true;
  bool allow_nil = true;
  bool primary_key = false;
  // many_to_many: the join resource; its attributes default to "<side in snake case>_id".
  std::string through{};
  std::string source_attribute_on_join_resource{};
  std::string destination_attribute_on_join_resource{};
  std::optional<Expr> filter{};  // may use parent(...): ref("priority") > parent(ref("priority_threshold"))
  std::string sort{};            // Ash sort input: "-inserted_at"
  bool no_attributes = false;  // related by filter alone
  std::shared_ptr<const ManualRelationship> manual{};  // loaded by user code (ashlar/manual.hpp)
  // The destination's read action that loads, aggregates and filters read related records
  // through; empty: the destination's primary read action. Must name a read action.
  std::string read_action{};
};

class ASHLAR_API ResourceBuilder {
 public:
  explicit ResourceBuilder(std::string name);

  ResourceBuilder& attribute(std::string name, Type type, AttributeOptions options = {});
  // uuid, primary key, generated (v4) on create, not writable, never nil.
  ResourceBuilder& uuid_primary_key(std::string name);
  // The same with time-ordered (v7) uuids: new records' keys are adjacent in the store's
  // indexes, so a bulk create or many callers touch far fewer pages; the key reveals the
  // record's creation time to the millisecond.
  ResourceBuilder& uuid_v7_primary_key(std::string name);
  // utc_datetime set to the action's time on create (and, for update_timestamp, on update).
  ResourceBuilder& create_timestamp(std::string name);
  ResourceBuilder& update_timestamp(std::string name);

  ResourceBuilder& create(std::string name, ActionDecl options = {});
  ResourceBuilder& read(std::string name, ActionDecl options = {});
  ResourceBuilder& update(std::string name, ActionDecl options = {});
  ResourceBuilder& destroy(std::string name, ActionDecl options = {});
  // A generic action: typed arguments, a run function, a typed result.
  ResourceBuilder& action(std::string name, GenericActionDecl options);
  // A code interface: a named call of one of the resource's actions with positional
  // arguments (ashlar/interface.hpp).
  ResourceBuilder& define(std::string name, DefineDecl options = {});
  // Publishes `action`'s events under "<domain>.<Resource>." followed by the parts
  // joined with "." instead of the default topic; a part ":name" takes the record's value
  // of attribute `name` (Ash PubSub's `publish :create, ["created", :id]`). Several calls
  // for one action publish under each topic.
  ResourceBuilder& publish(std::string action, std::vector<std::string> topic);
  // `belongs_to("user", "User")` also defines the attribute user_id (uuid).
  ResourceBuilder& belongs_to(std::string name, std::string destination, RelationshipDecl options = {});
  ResourceBuilder& has_one(std::string name, std::string destination, RelationshipDecl options = {});
  ResourceBuilder& has_many(std::string name, std::string destination, RelationshipDecl options = {});
  ResourceBuilder& many_to_many(std::string name, std::string destination, RelationshipDecl options = {});
  // A named aggregate: .aggregate("comment_count", AggregateKind::count, "comments"),
  // .aggregate("top_score", AggregateKind::max, "comments", "score").
  ResourceBuilder& aggregate(std::string name, AggregateKind kind, std::string relationship_path,
                             std::string field = {});
  // A calculation (Ash's `calculate`): .calculate("full_name", type::string,
  // ref("first_name") <> " " <> ref("last_name")); arguments are read as arg("x") and given
  // by a load ({.load = {Load("greeting", {.args = {{"prefix", "Dr."}}})}}). Mistakes (an
  // unknown ref or argument, a name taken) are reported by DomainBuilder::build.
  ResourceBuilder& calculate(std::string name, Type type, Expr expr, std::vector<Argument> arguments = {});
  // A calculation computed by C++ code for a batch of records at once (ashlar/calculation.hpp).
  ResourceBuilder& calculate(std::string name, Type type, std::shared_ptr<const Calculation> code,
                             std::vector<Argument> arguments = {});
  // A resource-level change or validation (Ash's `changes` / `validations` blocks).
  ResourceBuilder& change(ActionStep step);
  ResourceBuilder& validate(ActionStep step);
  // A resource-level preparation (Ash's `preparations` block): runs for every read action
  // of the resource, after the action's own (ashlar/changes.hpp, namespace preparations).
  ResourceBuilder& prepare(ActionStep step);
  // A policy (Ash's `policy condition do ... end`, ashlar/model/policy.hpp): applies to
  // the requests its condition holds for, decided by its checks, top to bottom.
  //   .policy(action_type(ActionType::update), {authorize_if(expr(ref("author_id") == actor("id")))})
  // Mistakes (a filter check in a condition, an unknown action, attribute or ref) are
  // reported by DomainBuilder::build, naming the resource and the policy.
  ResourceBuilder& policy(PolicyCondition condition, std::vector<PolicyStep> steps, std::string description = {});
  // A bypass: when it applies and authorizes, the policies after it are not asked.
  ResourceBuilder& bypass(PolicyCondition condition, std::vector<PolicyStep> steps, std::string description = {});
  // A field policy (Ash's `field_policy [:salary, :bonus], condition do ... end`): the
  // fields it names ("*": every field but the primary key) are readable by the requests
  // its condition holds for when its checks authorize; otherwise they are returned as
  // Value::forbidden(). Unknown fields, a primary key attribute or a filter check in the
  // condition are reported by DomainBuilder::build.
  //   .field_policy({"salary"}, always(), {authorize_if(actor_attribute_equals("role", Atom{"hr"}))})
  ResourceBuilder& field_policy(std::vector<std::string> fields, PolicyCondition condition,
                                std::vector<PolicyStep> steps, std::string description = {});
  // A field policy bypass: when it applies and authorizes, the field policies after it are not asked.
  ResourceBuilder& field_policy_bypass(std::vector<std::string> fields, PolicyCondition condition,
                                       std::vector<PolicyStep> steps, std::string description = {});
  // A unique key: Conflict when a second record would share these attributes' values
  // (per tenant on a multitenant resource, unless options.all_tenants).
  ResourceBuilder& identity(std::string name, std::vector<std::string> attributes, IdentityDecl options = {});
  // Multitenancy (ashlar/model/resource.hpp, MultitenancyDecl):
  //   .multitenancy({.strategy = Multitenancy::attribute, .attribute = "org_id"})
  // DomainBuilder::build reports an unknown attribute or one that cannot hold a tenant.
  ResourceBuilder& multitenancy(MultitenancyDecl decl);

  // The accept list of create/update actions that give none.
  ResourceBuilder& default_accept(std::vector<std::string> names);
  // Ash's shorthand: "read", "destroy", "create", "update", "create:*", "update:*",
  // "create:a,b" — primary actions named after their type.
  ResourceBuilder& defaults(std::vector<std::string> specs);

 private:
  friend class DomainBuilder;
  struct PendingAction {
    std::string name;
    ActionType type;
    ActionDecl options;
    GenericActionDecl generic{};
  };
  ResourceBuilder& add_action(std::string name, ActionType type, ActionDecl options);
  ResourceBuilder& add_relationship(std::string name, RelationshipKind kind, std::string destination,
                                    RelationshipDecl options);

  std::string name_;
  std::vector<Attribute> attributes_;
  std::vector<PendingAction> actions_;
  std::vector<TopicTemplate> topics_;
  std::vector<Relationship> relationships_;
  std::vector<Identity> identities_;
  std::vector<std::pair<std::string, Aggregate>> aggregates_;
  std::vector<CalculationDef> calculations_;
  std::vector<ActionStep> global_steps_;
  std::vector<CodeInterface> interfaces_;
  std::vector<Policy> policies_;
  std::vector<FieldPolicy> field_policies_;
  MultitenancyDecl multitenancy_{};
  std::optional<std::vector<std::string>> default_accept_;
  std::vector<FieldError> problems_;  // found while declaring (bad `defaults` specs)
};

class ASHLAR_API DomainBuilder {
 public:
  explicit DomainBuilder(std::string name);
  DomainBuilder& resource(ResourceBuilder resource);

  // Validates the whole model; on mistakes a Framework error whose field errors name
  // each one ("Comment.user_id", "duplicate_attribute", ...), all of them at once.
  Result<Domain> build() const;

 private:
  std::string name_;
  std::vector<ResourceBuilder> resources_;
};

namespace dsl {
using ::ashlar::argument;
inline DomainBuilder domain(std::string name) { return DomainBuilder(std::move(name)); }
inline ResourceBuilder resource(std::string name) { return ResourceBuilder(std::move(name)); }
namespace type = ::ashlar::type;
using ::ashlar::AttributeOptions;
using ::ashlar::Constraints;
using namespace ::ashlar::checks;  // always(), authorize_if(...), expr(...), ...
}  // namespace dsl

}  // namespace ashlar
