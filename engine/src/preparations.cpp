// Built-in preparations for read actions (ashlar/changes.hpp).
#include <ashlar/changes.hpp>
#include <ashlar/model/sort.hpp>

#include <fmt/format.h>

namespace ashlar::preparations {
namespace {

class FnPreparation final : public Preparation {
 public:
  explicit FnPreparation(std::function<Result<void>(Query&, const PrepareContext&)> fn) : fn_(std::move(fn)) {}
  Result<void> prepare(Query& query, const PrepareContext& context) const override { return fn_(query, context); }

 private:
  std::function<Result<void>(Query&, const PrepareContext&)> fn_;
};

}  // namespace

ActionStep build(Build options) {
  return prepare([options = std::move(options)](Query& q, const PrepareContext&) -> Result<void> {
    if (options.filter) q.filter = q.filter ? *q.filter && *options.filter : *options.filter;
    if (!options.sort.empty()) {
      auto keys = parse_sort(options.sort);
      if (!keys) {
        Error e = keys.error();
        e.message = fmt::format("prepare build(sort: \"{}\"): {}", options.sort, e.message);
        return fail(std::move(e));
      }
      q.sort.insert(q.sort.end(), keys->begin(), keys->end());
    }
    if (options.limit) q.limit = options.limit;
    for (auto& load : parse_load_paths(options.load)) q.load.push_back(std::move(load));
    return {};
  });
}

ActionStep prepare(std::function<Result<void>(Query&, const PrepareContext&)> fn) {
  return custom(std::make_shared<FnPreparation>(std::move(fn)));
}

ActionStep custom(std::shared_ptr<const Preparation> preparation) {
  ActionStep s;
  s.preparation = std::move(preparation);
  s.on = {ActionType::read};
  return s;
}

}  // namespace ashlar::preparations
