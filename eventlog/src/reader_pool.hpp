#pragma once
// Read transactions kept reset for reuse. Beginning a read transaction takes a slot in
// LMDB's reader table (a process-shared mutex and a scan); renewing a reset one only
// publishes the current snapshot's id in the slot it kept. With MDB_NOTLS a reset
// transaction may be renewed on any thread.

#include <lmdb.h>

#include <mutex>
#include <vector>

namespace ashlar {

class ReaderPool {
 public:
  ReaderPool() = default;
  ReaderPool(const ReaderPool&) = delete;
  ReaderPool& operator=(const ReaderPool&) = delete;
  ~ReaderPool() {  // before the environment closes
    for (MDB_txn* txn : idle_) mdb_txn_abort(txn);
  }

  // A reset transaction to renew, or nullptr.
  MDB_txn* take() {
    std::lock_guard lock(mutex_);
    if (idle_.empty()) return nullptr;
    MDB_txn* txn = idle_.back();
    idle_.pop_back();
    return txn;
  }

  // Takes back a read transaction that is done: reset and kept, or aborted when the pool
  // holds enough (each idle one keeps a reader slot).
  void give(MDB_txn* txn) {
    mdb_txn_reset(txn);
    {
      std::lock_guard lock(mutex_);
      if (idle_.size() < kMaxIdle) {
        idle_.push_back(txn);
        return;
      }
    }
    mdb_txn_abort(txn);
  }

 private:
  static constexpr std::size_t kMaxIdle = 32;
  std::mutex mutex_;
  std::vector<MDB_txn*> idle_;
};

}  // namespace ashlar
