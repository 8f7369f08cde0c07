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
  auto i = resource_->attribute_index(attribute);
  return i ? values_[*i] : kNil;
}

Fields Record::attributes() const {
  Fields out;
  for (std::size_t i = 0; i < values_.size(); ++i) out.emplace_back(resource_->attributes()[i].name, values_[i]);
  return out;
}

bool Record::operator==(const Record& other) const {
  return resource_->name() == other.resource_->name() && version_ == other.version_ && values_ == other.values_;
}

}  // namespace ashlar
