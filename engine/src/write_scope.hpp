#pragma once
// The write transaction a thread is in, per engine: a stack of scopes on the thread, each
// pushed by an object whose destructor pops it, so a hook that throws, or that calls a
// second Engine, can never leave it dangling or cleared under the outer action.

#include <ashlar/eventlog/log.hpp>

#include <string>
#include <vector>

namespace ashlar::runtime {

class WriteScope {
 public:
  // What the actions of one transaction share.
  struct Shared {
    std::vector<StoredEvent>* events = nullptr;  // appended so far (a child's dropped when it rolls back)
    std::uint64_t tx = 0;                        // the position of the transaction's first event
    std::string correlation_id;                  // the outermost action's
    bool flat = false;      // nested actions run in the transaction directly, without a child
    bool user_code = false; // whether code of the user's ran in it (then it must not run again)
    bool wrote = false;     // whether an action in it began appending (then only an abort undoes it)
  };

  // The outermost scope of a write transaction of `owner`.
  WriteScope(const void* owner, Txn& txn, Shared& shared);
  // A scope nested in `outer`, in its child transaction `child`.
  WriteScope(WriteScope& outer, Txn& child);
  ~WriteScope();
  WriteScope(const WriteScope&) = delete;
  WriteScope& operator=(const WriteScope&) = delete;

  // The innermost scope of `owner` open on this thread, or null.
  static WriteScope* find(const void* owner);

  Txn& txn() const { return *txn_; }
  Shared& shared() const { return *shared_; }

 private:
  const void* owner_;
  Txn* txn_;
  Shared* shared_;
  WriteScope* previous_;
};

}  // namespace ashlar::runtime
