#include "group_commit.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <exception>

namespace ashlar::runtime {

Result<void> GroupCommit::submit(WriteJob& job) {
  std::unique_lock lock(mutex_);
  queue_.push_back(&job);
  job.wake.wait(lock, [&] { return job.done || (!job.taken && !leading_); });
  while (!job.done) {
    // It leads until its own action is settled: a group it was left out of (the queue
    // held more than a group) or that sent it back to the queue is followed by the next,
    // with no other caller woken to lead in between.
    leading_ = true;
    std::vector<WriteJob*> finished = write_group(lock);
    bool mine = std::find(finished.begin(), finished.end(), &job) != finished.end();
    if (mine) {
      leading_ = false;
      hand_over();  // the next group is written while this one's callers are woken
    }
    // Each caller is let go under the lock (it cannot return, freeing its job, before it
    // is woken), a few at a time, so that the next leader is not kept waiting for it.
    constexpr std::size_t kReleasedPerLock = 8;
    for (std::size_t i = 0; i < finished.size(); ++i) {
      if (i > 0 && i % kReleasedPerLock == 0) {
        lock.unlock();
        lock.lock();
      }
      release(*finished[i]);
    }
  }
  lock.unlock();
  deliver();  // without leading, so a notifier may run actions of its own
  return std::move(*job.result);
}

void GroupCommit::release(WriteJob& job) {
  job.done = true;
  job.wake.notify_one();  // under the mutex: the caller cannot return (and free job) before it is let go
}

void GroupCommit::hand_over() {
  if (!queue_.empty()) queue_.front()->wake.notify_one();
}

WriteJob* GroupCommit::next_job(std::size_t taken, std::size_t bytes) {
  std::lock_guard lock(mutex_);
  if (queue_.empty() || taken >= kMaxActions || bytes >= kMaxBytes) return nullptr;
  WriteJob* job = queue_.front();
  queue_.pop_front();
  job->taken = true;
  return job;
}

Result<void> GroupCommit::run_job(Txn& txn, WriteJob& job) {
  WriteScope::Shared shared;
  shared.events = &job.events;
  shared.correlation_id = job.correlation_id.empty() ? Uuid::v4().str() : job.correlation_id;
  shared.flat = job.flat;
  WriteScope scope(owner_, txn, shared);
  Result<void> result = [&]() -> Result<void> {
    try {
      return (*job.fn)(txn);
    } catch (const std::exception& e) {  // the engine's own code guards user code; this is a last resort
      return fail(Error::unknown(fmt::format("the action threw: {}", e.what())).with_code(codes::kUserCode));
    } catch (...) {
      return fail(Error::unknown("the action threw").with_code(codes::kUserCode));
    }
  }();
  job.user_code = shared.user_code;
  job.wrote = shared.wrote;
  if (!result) job.events.clear();
  return result;
}

namespace {

// A job that filled the map after user code of its ran: it is not run again behind the
// caller's back.
Error grew_error() {
  return Error::unknown("the store had to grow while the action ran, and nothing was written: "
                        "run it again (its hooks have run once)")
      .with_code(codes::kStoreGrew);
}

}  // namespace

// Settles a job of the group just written: its result stands, or it goes back to the queue
// to run again in the next group when the map filled under it before any user code ran.
void GroupCommit::finish(WriteJob& job, Result<void> result, bool map_full, std::deque<WriteJob*>& again) {
  if (map_full) {
    job.events.clear();
    if (log_.map_size() >= log_.max_map_size()) {
      job.result = Error::unknown(fmt::format("the store is full: it reached its size limit of {} MiB "
                                              "(max_map_size); nothing was written",
                                              log_.max_map_size() >> 20))
                       .with_code(codes::kStoreFull);
      return;
    }
    if (!job.user_code) {
      again.push_back(&job);
      return;
    }
    job.result = grew_error();
    return;
  }
  job.result = std::move(result);
}

// An action run without a child transaction failed once it had begun writing, and the
// transaction went with it (aborted, or grown when the map filled). Its own failure stands
// — when the map filled under it, it is settled as an action a child filled it under is —,
// as do the failures of actions that ran user code; every other action ran none and runs
// again in the next group, each in a child of its own there, so that one filling the map
// again cannot take the others with it.
void GroupCommit::settle_broken(std::vector<WriteJob*>& group, std::size_t broke, bool map_full, const Error& error,
                                std::deque<WriteJob*>& again) {
  for (std::size_t i = 0; i < group.size(); ++i) {
    WriteJob& job = *group[i];
    job.events.clear();
    if (i == broke) {
      if (map_full) finish(job, std::move(*job.result), true, again);
      continue;  // its own failure stands
    }
    if (!*job.result && job.user_code) continue;  // its own failure stands
    if (!job.user_code) {
      job.plain = false;
      again.push_back(&job);
      continue;
    }
    // Ran user code and stood: only ever before an action with a child of its own, which
    // cannot break the transaction. Were it otherwise, it did not commit.
    job.result = error.code == codes::kStoreGrew ? grew_error() : error;
  }
}

// Each action but the first runs in a child transaction, so that its failure rolls back
// alone — except a plain one (WriteJob::plain) while every action before it in the group
// ran no user code: a child costs a copy of every page it touches, and a plain action fails
// either before it writes (nothing to undo) or, rarely, at the store; then the transaction
// is given up and the group's other actions, having run no user code, run again.
std::vector<WriteJob*> GroupCommit::write_group(std::unique_lock<std::mutex>& lock) {
  lock.unlock();
  std::vector<WriteJob*> group;
  std::optional<std::size_t> filled;  // the job under which the map filled, if any
  std::optional<std::size_t> broke;   // the childless job whose failure broke the transaction
  bool broke_map_full = false;        // it broke it by filling the map
  std::size_t bytes = 0;
  auto written = log_.write_once(
      [&](Txn& txn) -> Result<void> {
        bool direct = true;  // no action so far ran user code and stood
        while (WriteJob* job = next_job(group.size(), bytes)) {
          group.push_back(job);
          if (group.size() == 1 || (direct && job->plain)) {
            auto r = run_job(txn, *job);
            job->result = r;
            if (!r && (group.size() == 1 || job->wrote || txn.map_full())) {
              broke = group.size() - 1;
              broke_map_full = txn.map_full();
              return r;
            }
          } else {  // a child of its own, so that a failure rolls back alone
            job->result = log_.nested(txn, [&](Txn& child) { return run_job(child, *job); });
            if (!*job->result) job->events.clear();
            if (txn.map_full()) {
              filled = group.size() - 1;
              return {};  // the actions before it commit; it runs again or fails
            }
          }
          if (job->user_code && *job->result) direct = false;
          for (const auto& e : job->events) bytes += e.bytes.size();
        }
        return {};
      },
      [&] {
        std::vector<StoredEvent> events;
        if (group.size() == 1) events.reserve(group[0]->events.size());
        for (std::size_t i = 0; i < group.size(); ++i) {
          if (!group[i]->notify || (filled && i == *filled) || !*group[i]->result) continue;
          // The callers do not read their events back: they move to the notifiers.
          for (auto& e : group[i]->events) events.push_back(std::move(e));
          group[i]->events.clear();
        }
        if (!events.empty()) {
          std::lock_guard notify_lock(notify_mutex_);
          pending_.push_back(std::move(events));
        }
        if (sinks_.committed) sinks_.committed();
      });

  std::deque<WriteJob*> again;
  if (written) {
    for (std::size_t i = 0; i < group.size(); ++i)
      finish(*group[i], std::move(*group[i]->result), filled && i == *filled, again);
  } else if (broke && group.size() > 1) {
    settle_broken(group, *broke, broke_map_full, written.error(), again);
  } else {
    // Nothing was kept: the first action failed, or the commit did.
    bool grew = written.error().code == codes::kStoreGrew;
    for (auto* job : group) {
      job->events.clear();
      if (grew && !job->user_code) again.push_back(job);
      else job->result = grew ? grew_error() : written.error();
    }
  }
  lock.lock();
  std::vector<WriteJob*> finished;
  if (group.empty() && !written) {
    // No transaction could begin (the store failed before any action ran): every caller
    // waiting would meet the same, so each gets the error rather than a retry forever.
    for (auto* job : queue_) {
      job->result = written.error();
      job->taken = true;  // settled: it waits to be let go, it does not lead
      finished.push_back(job);
    }
    queue_.clear();
    return finished;
  }
  for (auto it = again.rbegin(); it != again.rend(); ++it) {
    (*it)->taken = false;
    queue_.push_front(*it);
  }
  for (auto* job : group)
    if (std::find(again.begin(), again.end(), job) == again.end()) finished.push_back(job);
  return finished;
}

void GroupCommit::deliver() {
  std::unique_lock lock(notify_mutex_);
  if (delivering_) return;  // that thread delivers ours too, after its own
  delivering_ = true;
  while (!pending_.empty()) {
    auto events = std::move(pending_.front());
    pending_.pop_front();
    lock.unlock();
    try {
      sinks_.notify(events);
    } catch (...) {  // the sink guards each notifier; nothing may stop delivery
    }
    lock.lock();
  }
  delivering_ = false;
}

}  // namespace ashlar::runtime
