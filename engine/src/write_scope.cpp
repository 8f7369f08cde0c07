#include "write_scope.hpp"

namespace ashlar::runtime {
namespace {
thread_local WriteScope* t_top = nullptr;  // the innermost scope of any engine on this thread
}

WriteScope::WriteScope(const void* owner, Txn& txn, Shared& shared)
    : owner_(owner), txn_(&txn), shared_(&shared), previous_(t_top) {
  t_top = this;
}

WriteScope::WriteScope(WriteScope& outer, Txn& child)
    : owner_(outer.owner_), txn_(&child), shared_(outer.shared_), previous_(t_top) {
  t_top = this;
}

WriteScope::~WriteScope() { t_top = previous_; }

WriteScope* WriteScope::find(const void* owner) {
  for (WriteScope* s = t_top; s; s = s->previous_)
    if (s->owner_ == owner) return s;
  return nullptr;
}

}  // namespace ashlar::runtime
