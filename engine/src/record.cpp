#include "record_access.hpp"

#include <fmt/format.h>

namespace ashlar {

Record::Record(Domain domain, const Resource& resource, std::vector<Value> values, std::uint64_t version)
    : domain_(std::move(domain)), resource_(&resource), values_(std::move(values)), version_(version) {}

Value Record::id() const {
  const auto& pk = resource_->primary_key();
  if (pk.size() == 1) return values_[pk[0]];
  Map m;
  for (auto i : pk) m.emplace_back(resource_->attributes()[i].name, values_[i]);
  return Value(std::move(m));
}

Result<const Value*> Record::find(std::string_view name) const {
  if (auto i = resource_->attribute_index(name)) return &values_[*i];
  if (const Value* extra = find_field(extras_, name)) return extra;
  const std::string& r = resource_->name();
  if (resource_->aggregate(name))
    return fail(Error::framework(fmt::format("{}.{} is an aggregate this record was read without: load it "
                                             "(Query::load) to read it",
                                             r, name)));
  if (resource_->calculation(name))
    return fail(Error::framework(fmt::format("{}.{} is a calculation this record was read without: load it "
                                             "(Query::load) to read it",
                                             r, name)));
  if (resource_->relationship(name))
    return fail(Error::framework(fmt::format("{}.{} is a relationship: read it with related(\"{}\") or one(\"{}\")",
                                             r, name, name, name)));
  return fail(Error::framework(fmt::format("{} has no attribute or load named \"{}\"", r, name)));
}

Result<Value> Record::field(std::string_view name) const {
  auto found = find(name);
  if (!found) return fail(std::move(found).error());
  return **found;
}

const Value& Record::operator[](std::string_view name) const { return *find(name).value(); }

std::optional<Value> Record::get(std::string_view name) const {
  auto found = find(name);
  if (!found) return std::nullopt;
  return **found;
}

bool Record::is_forbidden(std::string_view name) const {
  auto found = find(name);
  return found && (*found)->is_forbidden();
}

const std::vector<Record>& Record::related(std::string_view relationship) const {
  static const std::vector<Record> kNone;
  for (const auto& [name, records] : related_)
    if (name == relationship) return records;
  return kNone;
}

const Record* Record::one(std::string_view relationship) const {
  const auto& records = related(relationship);
  return records.empty() ? nullptr : &records.front();
}

bool Record::loaded(std::string_view relationship) const {
  for (const auto& [name, records] : related_)
    if (name == relationship) return true;
  return false;
}

void RecordAccess::set_related(Record& record, std::string relationship, std::vector<Record> records) {
  for (auto& [name, existing] : record.related_)
    if (name == relationship) {
      existing = std::move(records);
      return;
    }
  record.related_.emplace_back(std::move(relationship), std::move(records));
}

void RecordAccess::set_extra(Record& record, std::string name, Value value) {
  for (auto& [n, v] : record.extras_)
    if (n == name) {
      v = std::move(value);
      return;
    }
  record.extras_.emplace_back(std::move(name), std::move(value));
}

Fields Record::attributes() const {
  Fields out;
  for (std::size_t i = 0; i < values_.size(); ++i) out.emplace_back(resource_->attributes()[i].name, values_[i]);
  return out;
}

bool Record::operator==(const Record& other) const {
  return resource_->name() == other.resource_->name() && version_ == other.version_ && values_ == other.values_ &&
         related_ == other.related_ && extras_ == other.extras_;
}

}  // namespace ashlar
