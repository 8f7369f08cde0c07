#pragma once
// Where reads find records: the four questions queries and loads ask of the state. The
// live state answers from the LMDB projection; a past state (time_travel.hpp) answers
// from a fold of the log up to a position.

#include <ashlar/model/export.hpp>
#include <ashlar/projections/state.hpp>

namespace ashlar {

class ASHLAR_API StateSource {
 public:
  virtual ~StateSource() = default;
  // The record under the encoded primary key, or nullopt.
  virtual Result<std::optional<StoredRecord>> get(std::string_view resource, std::string_view key_bytes) const = 0;
  // A resource's records in primary key order, until fn returns false.
  virtual Result<void> scan(std::string_view resource, const std::function<bool(const StoredRecord&)>& fn) const = 0;
  // Keys of the records whose indexed attribute holds value (see StateProjection::lookup).
  virtual Result<std::vector<std::string>> lookup(std::string_view resource, std::string_view attribute,
                                                  const Value& value) const = 0;
  // The key of the record holding these identity values, or nullopt.
  virtual Result<std::optional<std::string>> lookup_identity(std::string_view resource, std::string_view identity,
                                                             const std::vector<Value>& values) const = 0;
  // Context multitenancy: where `tenant`'s records of `resource` are (its own tables),
  // owned by this source and valid while it lives. Framework when this source keeps
  // no tenants' records.
  virtual Result<const StateSource*> tenant(std::string_view resource, const std::string& tenant) const;
};

// A source that holds no records: a tenant that has none.
class ASHLAR_API EmptyState final : public StateSource {
 public:
  Result<std::optional<StoredRecord>> get(std::string_view, std::string_view) const override {
    return std::optional<StoredRecord>{};
  }
  Result<void> scan(std::string_view, const std::function<bool(const StoredRecord&)>&) const override { return {}; }
  Result<std::vector<std::string>> lookup(std::string_view, std::string_view, const Value&) const override {
    return std::vector<std::string>{};
  }
  Result<std::optional<std::string>> lookup_identity(std::string_view, std::string_view,
                                                     const std::vector<Value>&) const override {
    return std::optional<std::string>{};
  }
  Result<const StateSource*> tenant(std::string_view, const std::string&) const override { return this; }
};

// A state projection's tables in a store: the live ones in a read transaction, or a fold
// held in memory. Both must outlive it.
class ASHLAR_API ProjectedState final : public StateSource {
 public:
  ProjectedState(const StateProjection& projection, const StateStore& store) : projection_(projection), store_(store) {}

  Result<std::optional<StoredRecord>> get(std::string_view resource, std::string_view key_bytes) const override {
    return projection_.get(store_, resource, key_bytes);
  }
  Result<void> scan(std::string_view resource, const std::function<bool(const StoredRecord&)>& fn) const override {
    return projection_.scan(store_, resource, fn);
  }
  Result<std::vector<std::string>> lookup(std::string_view resource, std::string_view attribute,
                                          const Value& value) const override {
    return projection_.lookup(store_, resource, attribute, value);
  }
  Result<std::optional<std::string>> lookup_identity(std::string_view resource, std::string_view identity,
                                                     const std::vector<Value>& values) const override {
    return projection_.lookup_identity(store_, resource, identity, values);
  }

 private:
  const StateProjection& projection_;
  const StateStore& store_;
};

}  // namespace ashlar
