#pragma once
// A manage_relationship made ready to run: the relationship and resources it touches,
// the options with the type's defaults filled in, and the input as items, each with the
// key it is matched and looked up by. Built when the changeset is (so bad options and
// bad input are errors before any transaction); run by manage.cpp in the transaction.

#include <ashlar/changeset.hpp>
#include <ashlar/manage.hpp>
#include <ashlar/record.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ashlar::runtime {

// A key of the destination: its primary key or one of its identities.
struct ManageKeyDef {
  std::string name;                     // "_primary_key" or the identity's name
  std::vector<std::size_t> attributes;  // indexes into the destination's attributes
};

// An item's values for one key.
struct ManageKey {
  const ManageKeyDef* definition = nullptr;
  const Resource* resource = nullptr;
  std::vector<Value> values;  // cast, aligned with definition->attributes

  bool matches(const Record& r) const;
  bool names(std::string_view attribute) const;
  std::string describe() const;  // name "tag-1" / name "x", owner 3
};

struct ManageItem {
  std::string path;  // "tags[2]", or the argument's name for a single input
  Fields fields;     // the input's attributes and arguments for the destination's actions
  std::optional<ManageKey> key;
  std::optional<Record> record;  // given as a Record: found without a lookup
};

struct ManagePlan {
  const Relationship* rel = nullptr;
  const Resource* source = nullptr;
  const Resource* dest = nullptr;
  const Resource* join = nullptr;  // many_to_many's join resource
  std::string path;                // the argument's (or relationship's) name
  manage::OnLookup on_lookup{manage::Lookup::ignore};
  manage::OnNoMatch on_no_match{manage::NoMatch::ignore};
  manage::OnMatch on_match{manage::Match::ignore};
  manage::OnMissing on_missing{manage::Missing::ignore};
  std::vector<std::string> join_keys;
  std::string value_is_key;                 // the destination attribute simple values are
  std::vector<ManageKeyDef> keys;           // in the order they are tried
  ManageKeyDef primary_key;                 // what a Record input is matched by
  // The destination's tenant attribute and the call's tenant value: an identity unique
  // per tenant includes the attribute, which an item leaves out (it is the call's).
  std::optional<std::size_t> tenant_index;
  Value tenant;
  bool has_records = false;                 // some items are Records the caller gave
  std::vector<ManageItem> items;
};

// The plan for managing `relationship` of the changeset's resource, without items;
// Framework error naming what does not fit (the relationship, an identity, a join key,
// value_is_key).
Result<std::shared_ptr<ManagePlan>> plan_manage(const Changeset& cs, std::string_view relationship,
                                                const manage::Options& options, std::string path);
// Adds the input's items to the plan; what is wrong with them goes to `errors`, on the
// path into the input.
void add_items(ManagePlan& plan, const Value& input, std::vector<FieldError>& errors);
void add_records(ManagePlan& plan, std::vector<Record> records, std::vector<FieldError>& errors);
// Adds the hooks that run the plan to the changeset.
Result<void> schedule_manage(Changeset& cs, std::shared_ptr<const ManagePlan> plan);

}  // namespace ashlar::runtime
