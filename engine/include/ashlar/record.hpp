#pragma once
// A record of a resource, as an action returned it or a read found it.

#include <ashlar/model/export.hpp>
#include <ashlar/model/resource.hpp>

#include <cstdint>
#include <optional>

namespace ashlar {

class ASHLAR_API Record {
 public:
  Record(Domain domain, const Resource& resource, std::vector<Value> values, std::uint64_t version);

  const Resource& resource() const { return *resource_; }
  // The primary key: its one attribute's value, or a map of the attributes when composite.
  Value id() const;
  // The value of an attribute or loaded aggregate or calculation (nil when it has none). A
  // name that is none of those of the resource, or an aggregate or calculation this record
  // was read without loading, is a Framework error naming the resource and the name.
  Result<Value> field(std::string_view name) const;
  // As field(), for scripts: throws ashlar::Exception carrying that error.
  const Value& operator[](std::string_view name) const;
  // The tolerant form: the value, or nullopt for an unknown or unloaded name.
  std::optional<Value> get(std::string_view name) const;
  // Whether the field is one the actor may not read (its value is Value::forbidden(), as
  // field policies return it); false for unknown or unloaded names.
  bool is_forbidden(std::string_view name) const;
  // The record's version: 1 after its create, one more after each update.
  std::uint64_t version() const { return version_; }
  // Every attribute, in declaration order, nil ones included.
  Fields attributes() const;

  // Loaded relationships: the related records (none or one for to-one relationships).
  // Empty when nothing is related or the relationship was not loaded.
  const std::vector<Record>& related(std::string_view relationship) const;
  // A loaded to-one relationship's record, or nullptr when there is none.
  const Record* one(std::string_view relationship) const;
  bool loaded(std::string_view relationship) const;
  // Where this record stands in the order of the read that returned it: pass it as
  // Query::after for the next page. Empty for records a get or an action returned.
  const std::string& cursor() const { return cursor_; }

  // Attributes, version and loaded values equal.
  bool operator==(const Record& other) const;

 private:
  friend struct RecordAccess;  // the runtime sets what a read loaded (engine/src/record_access.hpp)
  // The attribute's or loaded aggregate's value; the error field() returns otherwise.
  Result<const Value*> find(std::string_view name) const;

  Domain domain_;  // keeps the resource alive
  const Resource* resource_;
  std::vector<Value> values_;  // aligned with resource().attributes()
  std::uint64_t version_;
  std::vector<std::pair<std::string, std::vector<Record>>> related_;
  Fields extras_;  // loaded aggregates and calculations
  std::string cursor_;
};

}  // namespace ashlar
