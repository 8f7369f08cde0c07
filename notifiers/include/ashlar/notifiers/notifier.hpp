#pragma once
// Notifiers: told of committed events, after commit, in log order.

#include <ashlar/eventlog/log.hpp>
#include <ashlar/model/export.hpp>

#include <functional>
#include <memory>
#include <mutex>
#include <span>

namespace ashlar {

class ASHLAR_API Notifier {
 public:
  virtual ~Notifier() = default;
  // Called once per commit with its events, in log order, after the commit is durable
  // and never for a rolled-back action. A commit may hold the actions of several callers
  // (group commit). Calls are serialized, so events arrive in log order across commits
  // too. It runs on the thread of one of the engine's callers, after that caller's group
  // released the writer: it may run actions itself (their events are delivered after the
  // current ones), but should return quickly, since that caller waits for it. What it
  // throws is caught and ignored: a notifier that fails changes nothing in the store.
  virtual void notify(std::span<const StoredEvent> events) = 0;
};

// Calls a function for each committed event: for embedders and tests.
class ASHLAR_API CallbackNotifier final : public Notifier {
 public:
  explicit CallbackNotifier(std::function<void(const StoredEvent&)> fn) : fn_(std::move(fn)) {}
  void notify(std::span<const StoredEvent> events) override;

 private:
  std::function<void(const StoredEvent&)> fn_;
};

}  // namespace ashlar
