#include <ashlar/record.hpp>

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

Result<Value> Record::get(std::string_view attribute) const {
  auto i = resource_->attribute_index(attribute);
  if (!i)
    return fail(Error::framework(fmt::format("{} has no attribute {}", resource_->name(), attribute)));
  return values_[*i];
}

const Value& Record::operator[](std::string_view attribute) const {
  static const Value kNil;
  if (auto i = resource_->attribute_index(attribute)) return values_[*i];
  const Value* extra = find_field(extras_, attribute);
  return extra ? *extra : kNil;
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

void Record::set_related(std::string relationship, std::vector<Record> records) {
  for (auto& [name, existing] : related_)
    if (name == relationship) {
      existing = std::move(records);
      return;
    }
  related_.emplace_back(std::move(relationship), std::move(records));
}

void Record::set_extra(std::string name, Value value) {
  for (auto& [n, v] : extras_)
    if (n == name) {
      v = std::move(value);
      return;
    }
  extras_.emplace_back(std::move(name), std::move(value));
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
