#pragma once
// Group commit: concurrent callers' actions on one engine share a write transaction and
// its flush. The first caller to find no group being written leads: it begins the
// transaction, runs its own action and every action queued behind it (each but the first
// in a child transaction of its own, so a failure rolls back alone — but see write_group
// for the actions that need none), commits once, and
// releases the callers of the group. A caller alone commits at once; nobody waits for
// company. Groups are bounded in actions and bytes, so one group never holds the writer
// long. Actions run on the leader's thread, hooks included (LMDB's write transaction
// belongs to the thread that began it). Once it has committed, the leader hands the lead to
// the first caller still queued before it wakes its group's callers, so the next group is
// written while this one's callers are woken.
//
// Notifiers are told of each group's events after its commit, in log order, by one thread
// at a time (whichever caller finds them waiting); a notifier may itself run actions.

#include <ashlar/eventlog/log.hpp>
#include <ashlar/notifiers/notifier.hpp>

#include "write_scope.hpp"

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>

namespace ashlar::runtime {

// One caller's action, as the leader runs it.
struct WriteJob {
  const std::function<Result<void>(Txn&)>* fn = nullptr;
  std::string correlation_id;  // empty: a new one
  bool notify = true;          // tell notifiers of its events
  bool flat = false;           // see WriteScope::Shared::flat
  // No code of the user's runs in it, and once it has begun writing only the store can
  // fail it: it may run without a child transaction of its own (see write_group). Cleared
  // when a group it ran in was given up: it runs again in a child.
  bool plain = false;
  // Filled in by the leader.
  std::optional<Result<void>> result;
  std::vector<StoredEvent> events;
  bool user_code = false;
  bool wrote = false;  // it began writing (see WriteScope::Shared::wrote)
  bool taken = false;  // into a group being written: it waits for its result, it does not lead
  bool done = false;
  // Woken, under the group's mutex, when done or when it may lead: each caller sleeps on
  // its own, so a commit wakes its group's callers and one next leader, not every caller.
  std::condition_variable wake;
};

class GroupCommit {
 public:
  // Told of committed events, in log order; `committed` after each group.
  struct Sinks {
    std::function<void(std::span<const StoredEvent>)> notify;
    std::function<void()> committed;
  };
  // `owner` identifies the engine in write scopes.
  GroupCommit(Log& log, const void* owner, Sinks sinks) : log_(log), owner_(owner), sinks_(std::move(sinks)) {}

  // Runs job in a group and returns once the group's commit is durable (or failed).
  Result<void> submit(WriteJob& job);

  // Bounds of one group.
  static constexpr std::size_t kMaxActions = 512;
  static constexpr std::size_t kMaxBytes = std::size_t{4} << 20;  // event bytes

 private:
  // Writes one group; returns its callers, to be released.
  std::vector<WriteJob*> write_group(std::unique_lock<std::mutex>& lock);
  WriteJob* next_job(std::size_t taken, std::size_t bytes);
  Result<void> run_job(Txn& txn, WriteJob& job);
  void finish(WriteJob& job, Result<void> result, bool map_full, std::deque<WriteJob*>& again);
  void deliver();
  void release(WriteJob& job);  // under mutex_
  void hand_over();             // under mutex_
  void settle_broken(std::vector<WriteJob*>& group, std::size_t broke, bool map_full, const Error& error,
                     std::deque<WriteJob*>& again);

  Log& log_;
  const void* owner_;
  Sinks sinks_;

  std::mutex mutex_;  // guards queue_, leading_, and each queued job's taken and done
  std::deque<WriteJob*> queue_;
  bool leading_ = false;

  std::mutex notify_mutex_;  // guards pending_ and delivering_
  std::deque<std::vector<StoredEvent>> pending_;
  bool delivering_ = false;
};

}  // namespace ashlar::runtime
