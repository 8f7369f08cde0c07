#include "group_commit.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <exception>

namespace ashlar::runtime {

Result<void> GroupCommit::submit(WriteJob& job) {
  std::unique_lock lock(mutex_);
  queue_.push_back(&job);
  for (;;) {
    cv_.wait(lock, [&] { return job.done || !leading_; });
    if (job.done) break;
    leading_ = true;
    write_group(lock);
    leading_ = false;
    cv_.notify_all();  // the callers of the group return; one still queued leads next
    lock.unlock();
    deliver();  // without leading, so a notifier may run actions of its own
    lock.lock();
  }
  lock.unlock();
  deliver();
  return std::move(*job.result);
}

WriteJob* GroupCommit::next_job(std::size_t taken, std::size_t bytes) {
  std::lock_guard lock(mutex_);
  if (queue_.empty() || taken >= kMaxActions || bytes >= kMaxBytes) return nullptr;
  WriteJob* job = queue_.front();
  queue_.pop_front();
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

void GroupCommit::write_group(std::unique_lock<std::mutex>& lock) {
  lock.unlock();
  std::vector<WriteJob*> group;
  std::optional<std::size_t> filled;  // the job under which the map filled, if any
  std::size_t bytes = 0;
  auto written = log_.write_once(
      [&](Txn& txn) -> Result<void> {
        while (WriteJob* job = next_job(group.size(), bytes)) {
          group.push_back(job);
          if (group.size() == 1) {  // alone in the transaction: no child needed
            auto r = run_job(txn, *job);
            job->result = r;
            if (!r) return r;
          } else {  // a child of its own, so that a failure rolls back alone
            job->result = log_.nested(txn, [&](Txn& child) { return run_job(child, *job); });
            if (!*job->result) job->events.clear();
            if (txn.map_full()) {
              filled = group.size() - 1;
              return {};  // the actions before it commit; it runs again or fails
            }
          }
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
  if (group.empty() && !written) {
    // No transaction could begin (the store failed before any action ran): every caller
    // waiting would meet the same, so each gets the error rather than a retry forever.
    for (auto* job : queue_) {
      job->result = written.error();
      job->done = true;
    }
    queue_.clear();
    return;
  }
  for (auto it = again.rbegin(); it != again.rend(); ++it) queue_.push_front(*it);
  for (auto* job : group)
    if (std::find(again.begin(), again.end(), job) == again.end()) job->done = true;
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
