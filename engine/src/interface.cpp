// Code interfaces: positional values mapped to the names the interface declares, then the
// action run the ordinary way — a read (with get_by pinning attributes), a create, an
// update or destroy of the record whose key comes first, or a generic action.
#include <ashlar/interface.hpp>

#include "impl.hpp"

#include <fmt/format.h>

#include <set>

namespace ashlar {
namespace {

const char* shape_name(Reply::Shape shape) {
  switch (shape) {
    case Reply::Shape::records: return "records (std::vector<Record>)";
    case Reply::Shape::record: return "one record (Record)";
    case Reply::Shape::value: return "a value (Value)";
  }
  return "?";
}

Error framework(const Resource& r, const Action& a, std::string message) {
  Error e = Error::framework(std::move(message));
  e.resource = r.name();
  e.action = a.name;
  return e;
}

// The names the positional values fill, in order.
std::vector<std::string> positional_names(const Resource& r, const Action& a, const CodeInterface& i) {
  std::vector<std::string> names;
  if (a.type == ActionType::update || a.type == ActionType::destroy) {
    std::string key;
    for (auto k : r.primary_key()) key += (key.empty() ? "" : "+") + r.attributes()[k].name;
    names.push_back(key);
  }
  names.insert(names.end(), i.get_by.begin(), i.get_by.end());
  names.insert(names.end(), i.args.begin(), i.args.end());
  return names;
}

Result<Reply> call_read(Engine& engine, const Resource& r, const Action& a, const CodeInterface& i,
                   const std::vector<Value>& args, Fields inputs, const CallOptions& call) {
  Query q;
  q.action = a.name;
  q.actor = call.actor;  // read as the caller reads: same actor, tenant and authorize
  q.tenant = call.tenant;
  q.authorize = call.authorize;
  std::vector<FieldError> errors;
  std::vector<Value> pinned;
  for (std::size_t k = 0; k < i.get_by.size(); ++k) {
    const Attribute& attr = *r.attribute(i.get_by[k]);
    auto cast = cast_value(attr.type, args[k]);
    if (!cast.value) errors.push_back({attr.name, "invalid_type", cast.error});
    else if (cast.value->is_null()) errors.push_back({attr.name, "required", "is required to find the record"});
    else {
      Expr term = dsl::ref(attr.name) == Expr(*cast.value);
      q.filter = q.filter ? *q.filter && term : term;
      pinned.push_back(std::move(*cast.value));
    }
  }
  if (!errors.empty()) return fail(Error::invalid(r.name(), a.name, std::move(errors)));
  for (std::size_t k = 0; k < i.args.size(); ++k) inputs.emplace_back(i.args[k], args[i.get_by.size() + k]);
  q.args = std::move(inputs);
  if (i.get) q.limit = 2;
  ASHLAR_TRY(records, engine.read(r.name(), q));
  if (!i.get) return Reply{Reply::Shape::records, std::move(*records), {}};
  if (records->empty()) {
    std::string which = i.get_by.empty() ? fmt::format("{}.{} found no record", r.name(), a.name)
                                          : fmt::format("no {} with {} {}", r.name(), fmt::join(i.get_by, ", "),
                                                        describe_key(pinned));
    Error e = Error::not_found(r.name(), which);
    e.action = a.name;
    return fail(std::move(e));
  }
  if (records->size() > 1) {
    Error e = Error::invalid(r.name(), a.name, {});
    e.message = fmt::format("the code interface {}.{} expects one record, but more than one matched", r.name(), i.name);
    return fail(std::move(e));
  }
  return Reply{Reply::Shape::record, std::move(*records), {}};
}

}  // namespace

const Record& Reply::record() const {
  if (records.empty()) throw Exception(Error::framework("this reply holds no record"));
  return records.front();
}

namespace detail {
Error reply_shape_error(std::string_view resource, std::string_view name, Reply::Shape got, Reply::Shape wanted) {
  Error e = Error::framework(fmt::format("the code interface {}.{} returns {}, not {}; declare it with that return type",
                                         resource, name, shape_name(got), shape_name(wanted)));
  e.resource = std::string(resource);
  return e;
}
}  // namespace detail

ResourceInterface::ResourceInterface(Engine& engine, std::string resource)
    : engine_(EngineAccess::slot(engine)), resource_(std::move(resource)) {}

ResourceInterface Engine::interface(std::string_view resource) { return ResourceInterface(*this, std::string(resource)); }

Result<Reply> ResourceInterface::call(std::string_view name, const std::vector<Value>& args, const Fields& more,
                                      const CallOptions& options) const {
  const Resource* r = (*engine_)->domain().resource(resource_);
  if (!r)
    return fail(Error::framework(fmt::format("domain {} has no resource named {}", (*engine_)->domain().name(), resource_)));
  const CodeInterface* i = r->interface(name);
  if (!i) return fail(Error::framework(fmt::format("{} has no code interface named {}", r->name(), name)));
  const Action& a = *r->action(i->action);
  auto names = positional_names(*r, a, *i);
  if (args.size() != names.size())
    return fail(framework(*r, a, fmt::format("{}.{} takes {} positional argument{} ({}), given {}", r->name(), i->name,
                                             names.size(), names.size() == 1 ? "" : "s", fmt::join(names, ", "),
                                             args.size())));
  std::set<std::string> positional(names.begin(), names.end());
  std::vector<FieldError> errors;
  for (const auto& [field, value] : more)
    if (positional.count(field)) errors.push_back({field, "duplicate_input", "is given both by position and by name"});
  if (!errors.empty()) return fail(Error::invalid(r->name(), a.name, std::move(errors)));

  CallOptions call = options;
  call.action = a.name;
  bool keyed = a.type == ActionType::update || a.type == ActionType::destroy;
  Fields inputs = more;
  for (std::size_t k = 0; k < i->args.size(); ++k) inputs.emplace_back(i->args[k], args[(keyed ? 1 : 0) + k]);
  auto one = [](Result<Record> record) -> Result<Reply> {
    if (!record) return fail(record.error());
    return Reply{Reply::Shape::record, {std::move(*record)}, {}};
  };
  switch (a.type) {
    case ActionType::read: return call_read(**engine_, *r, a, *i, args, more, call);
    case ActionType::create: return one((*engine_)->create(r->name(), inputs, call));
    case ActionType::update: return one((*engine_)->update(r->name(), args[0], inputs, call));
    case ActionType::destroy: return one((*engine_)->destroy(r->name(), args[0], inputs, call));
    case ActionType::generic: {
      ASHLAR_TRY(value, (*engine_)->run_action(r->name(), a.name, inputs, call));
      return Reply{Reply::Shape::value, {}, std::move(*value)};
    }
  }
  return fail(Error::unknown("unknown action type"));
}

}  // namespace ashlar
