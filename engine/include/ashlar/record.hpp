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
  // The value of an attribute, nil for an unknown name (for the common case in scripts).
  const Value& operator[](std::string_view attribute) const;
  // The record's version: 1 after its create, one more after each update.
  std::uint64_t version() const { return version_; }
  // Every attribute, in declaration order, nil ones included.
  Fields attributes() const;

  bool operator==(const Record& other) const;

 private:
  Domain domain_;  // keeps the resource alive
  const Resource* resource_;
  std::vector<Value> values_;  // aligned with resource().attributes()
  std::uint64_t version_;
};

}  // namespace ashlar
