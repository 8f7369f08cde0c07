#pragma once
// A record of a resource, as an action returned it or a read found it.

#include <ashlar/model/resource.hpp>

#include <cstdint>

namespace ashlar {

class Record {
 public:
  Record(Domain domain, const Resource& resource, std::vector<Value> values, std::uint64_t version);

  const Resource& resource() const { return *resource_; }
  // The primary key: its one attribute's value, or a map of the attributes when composite.
  Value id() const;
  // The value of an attribute; nil when it has none. Framework error for an unknown name.
  Result<Value> get(std::string_view attribute) const;
  // The value of an attribute or loaded aggregate, nil for an unknown name (for the
  // common case in scripts).
  const Value& operator[](std::string_view attribute) const;
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

  // For the runtime: set what a read loaded.
  void set_related(std::string relationship, std::vector<Record> records);
  void set_extra(std::string name, Value value);
  void set_cursor(std::string cursor) { cursor_ = std::move(cursor); }
  void clear_attribute(std::size_t index) { values_[index] = Value(); }

 private:
  Domain domain_;  // keeps the resource alive
  const Resource* resource_;
  std::vector<Value> values_;  // aligned with resource().attributes()
  std::uint64_t version_;
  std::vector<std::pair<std::string, std::vector<Record>>> related_;
  Fields extras_;  // loaded aggregates
  std::string cursor_;
};

}  // namespace ashlar
