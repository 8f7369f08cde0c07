#pragma once
// Running a changeset's hooks, the one way both single and bulk actions do: each hook
// guarded (what it throws is the action's error, code user_code), and a hook may add
// hooks of its own kind while they run — they run in the same pass, after those already
// there (an added around hook wraps inside the one that added it). The list is re-read
// at every step and each hook copied before it runs, since adding one may move the list.

#include "changeset.hpp"

#include <string_view>

namespace ashlar::runtime {

// Around hooks from i on, each wrapping the rest; the innermost calls `core`.
Result<Record> run_around(Changeset& cs, std::vector<Changeset::Around>& hooks, std::string_view step,
                          const Changeset::Next& core, std::size_t i = 0);

// Before hooks in order; the first error stops them and is returned.
Result<void> run_before(Changeset& cs, std::vector<Changeset::Before>& hooks, std::string_view step);

// after_action hooks on a record just written; the first error stops them.
Result<Record> run_after_action(Changeset& cs, Result<Record> record);

// after_transaction hooks: all of them, on success and failure alike; each may turn the
// result (or error) into another.
Result<Record> run_after_transaction(Changeset& cs, Result<Record> result);

// The action's result once its hooks ran: when it had committed (`committed`: an outermost
// action's transaction, which succeeded) and a hook then threw, the error says that what
// the action appended stands, so that the caller does not run it again blindly.
Result<Record> after_commit(Result<Record> result, bool committed);

}  // namespace ashlar::runtime
