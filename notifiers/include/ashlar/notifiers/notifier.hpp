#pragma once
// Notifiers: told of committed events, after commit, in log order.

#include <ashlar/eventlog/log.hpp>

#include <functional>
#include <memory>
#include <mutex>
#include <span>

namespace ashlar {

class Notifier {
 public:
  virtual ~Notifier() = default;
  // Called once per committed write transaction with its events, in log order, after
  // the commit and never for a rolled-back action. Calls are serialized, so events
  // arrive in log order across transactions too. Must not throw and should return
  // quickly: the writer waits for it. A notifier that fails changes nothing in the store.
  virtual void notify(std::span<const StoredEvent> events) noexcept = 0;
};

// Calls a function for each committed event: for embedders and tests.
class CallbackNotifier final : public Notifier {
 public:
  explicit CallbackNotifier(std::function<void(const StoredEvent&)> fn) : fn_(std::move(fn)) {}
  void notify(std::span<const StoredEvent> events) noexcept override;

 private:
  std::function<void(const StoredEvent&)> fn_;
};

}  // namespace ashlar
