// cascade_destroy: the related records found in the open write transaction (so records
// the same transaction wrote are seen), then destroyed one by one through the engine,
// each a nested action that joins the transaction.
#include <ashlar/changes.hpp>

#include "changeset.hpp"
#include "impl.hpp"
#include "reader.hpp"

#include <fmt/format.h>

namespace ashlar {
namespace {

Result<void> destroy_related(Changeset& cs, const Relationship& rel, const changes::CascadeDestroy& options, const Record& record) {
  EngineImpl& impl = EngineAccess::impl(cs.engine());
  const Txn* txn = impl.open_txn();
  if (!txn) return fail(Error::framework("cascade_destroy runs inside the action's write transaction only"));
  EvalContext base;
  base.actor = cs.actor();
  base.tenant = ChangesetAccess::call(cs).tenant;
  runtime::Reader reader(impl.domain, *impl.log, impl.state, impl.tenants.get(), *txn, base);
  reader.set_authorize(ChangesetAccess::call(cs).authorize.value_or(true));
  ASHLAR_TRY(related, reader.related(cs.resource(), rel, {record}, nullptr));
  CallOptions opts = cs.to_opts();
  opts.action = options.action;
  opts.causation_id = ChangesetAccess::call(cs).causation_id;
  for (const auto& child : related->front()) {
    ASHLAR_TRY(destroyed, cs.engine().destroy(rel.destination, child.id(), opts));
  }
  return {};
}

class CascadeDestroyChange final : public Change {
 public:
  CascadeDestroyChange(std::string relationship, changes::CascadeDestroy options)
      : relationship_(std::move(relationship)), options_(std::move(options)) {}

  Result<void> change(Changeset& cs) const override {
    const Relationship* rel = cs.resource().relationship(relationship_);
    if (!rel || (rel->kind != RelationshipKind::has_many && rel->kind != RelationshipKind::has_one))
      return fail(Error::framework(fmt::format("cascade_destroy({}) needs a has_many or has_one relationship of {}",
                                               relationship_, cs.resource().name())));
    if (cs.action().type != ActionType::destroy)
      return fail(Error::framework(fmt::format("cascade_destroy({}) is a change for destroy actions; {}.{} is {}",
                                               relationship_, cs.resource().name(), cs.action().name,
                                               an_action(cs.action().type))));
    if (options_.after_action) {
      cs.after_action([rel, options = options_](Changeset& c, Record record) -> Result<Record> {
        ASHLAR_TRY_VOID(destroy_related(c, *rel, options, record));
        return record;
      });
    } else {
      cs.before_action([rel, options = options_](Changeset& c) -> Result<void> {
        if (!c.data()) return {};
        return destroy_related(c, *rel, options, *c.data());
      });
    }
    return {};
  }

 private:
  std::string relationship_;
  changes::CascadeDestroy options_;
};

}  // namespace

namespace changes {

ActionStep cascade_destroy(std::string relationship, CascadeDestroy options) {
  return custom(std::make_shared<CascadeDestroyChange>(std::move(relationship), std::move(options)));
}

}  // namespace changes
}  // namespace ashlar
