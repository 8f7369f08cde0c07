#pragma once
// What the runtime alone may do to a Record: fill in what a read loaded.

#include <ashlar/record.hpp>

namespace ashlar {

struct RecordAccess {
  static void set_related(Record& record, std::string relationship, std::vector<Record> records);
  static void set_extra(Record& record, std::string name, Value value);
  static void set_cursor(Record& record, std::string cursor) { record.cursor_ = std::move(cursor); }
  // Field policies hide what the actor may not read (field_policies.hpp).
  static void set_attribute(Record& record, std::size_t index, Value value) { record.values_[index] = std::move(value); }
  static std::vector<std::pair<std::string, std::vector<Record>>>& related(Record& record) { return record.related_; }
  static Fields& extras(Record& record) { return record.extras_; }
  // A strict load (Query::select) leaves out the attributes it did not name.
  static void clear_attribute(Record& record, std::size_t index) { record.values_[index] = Value(); }
};

}  // namespace ashlar
