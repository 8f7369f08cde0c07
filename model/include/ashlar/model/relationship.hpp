#pragma once
// Relationships and identities of a resource.

#include <ashlar/model/export.hpp>
#include <ashlar/model/expr.hpp>
#include <ashlar/model/sort.hpp>
#include <ashlar/model/type.hpp>

#include <memory>
#include <string>
#include <vector>

namespace ashlar {

enum class RelationshipKind : std::uint8_t { belongs_to, has_one, has_many, many_to_many };
ASHLAR_API const char* to_string(RelationshipKind kind);
ASHLAR_API std::optional<RelationshipKind> parse_relationship_kind(std::string_view name);

class ManualRelationship;  // ashlar/manual.hpp: a relationship loaded by user code

struct ASHLAR_API Relationship {
  std::string name;
  RelationshipKind kind = RelationshipKind::belongs_to;
  std::string destination;            // the related resource
  std::string source_attribute;       // on this resource
  std::string destination_attribute;  // on the destination
  // many_to_many: the join resource and its attributes pointing at each side.
  std::string through;
  std::string source_attribute_on_join_resource;
  std::string destination_attribute_on_join_resource;
  bool no_attributes = false;  // related by `filter` (with parent(...)) alone
  std::shared_ptr<const ManualRelationship> manual;
  std::optional<Expr> filter;  // on the destination's records; may use parent(...)
  std::vector<SortKey> sort;   // e.g. has_one latest_tweet sorted -inserted_at
  // The destination's read action related records are read through (its filter and the
  // filters its preparations add apply, as to any read); empty: its primary read action.
  std::string read_action;

  bool to_one() const { return kind == RelationshipKind::belongs_to || kind == RelationshipKind::has_one; }
};

// A unique key across one or more attributes (Ash's identity). Records whose identity
// attributes include a nil are not constrained, as in SQL. On a resource with attribute
// multitenancy an identity is unique per tenant: the built model puts the tenant
// attribute first in `attributes`, unless all_tenants (Ash's `all_tenants?`) makes it
// unique across every tenant.
struct ASHLAR_API Identity {
  std::string name;
  std::vector<std::string> attributes;
  bool all_tenants = false;
};

// Options of one identity (ResourceBuilder::identity).
struct ASHLAR_API IdentityDecl {
  bool all_tenants = false;  // unique across tenants, not per tenant
};

// A named input of an action, beside the attributes it accepts (Ash's `argument`).
struct ASHLAR_API Argument {
  std::string name;
  Type type;
  bool allow_nil = true;
  bool allow_empty = false;  // strings: keep "" instead of casting it to nil, as Ash's allow_empty?
  Value default_value{};
  Constraints constraints{};
  bool sensitive = false;  // never written into an event's inputs
  bool is_public = true;   // false: only CallOptions::private_arguments may set it
};

// "User" -> "user", "TweetHashtag" -> "tweet_hashtag": Ash's default attribute names.
ASHLAR_API std::string snake_case(std::string_view name);

}  // namespace ashlar
