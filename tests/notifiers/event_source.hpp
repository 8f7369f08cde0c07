#pragma once
// Committed events for the notifier tests without the runtime: a store written the way
// the runtime writes one, and its notifiers told the way the runtime tells them.
//
// open() opens a Log, stores the domain's model as Engine::open does on a new store
// (domain_to_json under Log::put_model), and starts a PublishService from the options as
// Engine::open does from Options::publish. commit() appends one transaction's events in a
// Log::write and, after the commit, hands the committed StoredEvents to each notifier and
// then to the PublishService, as the runtime's in_transaction does: once per
// transaction, in log order, never for one that failed. create/update/destroy build the
// event an action of that kind records. What actions decide (validation, hooks,
// identities) is the runtime's and is tested in tests/engine.

#include <ashlar/eventlog/log.hpp>
#include <ashlar/model/json.hpp>
#include <ashlar/model/key.hpp>
#include <ashlar/notifiers/notifier.hpp>
#include <ashlar/notifiers/publisher.hpp>

#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ashlar::test {

class EventSource {
 public:
  // The store in `dir`, publishing as `publish` says (nothing when it names no endpoint).
  static EventSource open(const std::string& dir, const Domain& domain, const PublishOptions& publish = {},
                          const LogOptions& log_options = unsynced()) {
    EventSource source;
    source.domain_ = domain;
    source.log_ = Log::open(dir, log_options).value();
    std::string json = domain_to_json(domain);
    source.log_->write([&](Txn& txn) { return source.log_->put_model(txn, json); }).value();
    source.publishing_ = PublishService::start(*source.log_, source.domain_, publish).value();
    return source;
  }

  // Not flushed on commit: the tests measure notifications, not the disk.
  static LogOptions unsynced() {
    LogOptions options;
    options.durability = Durability::no_sync;
    return options;
  }

  // Also tell `notifier` of each committed transaction (Options::notifiers).
  void add_notifier(std::shared_ptr<Notifier> notifier) { notifiers_.push_back(std::move(notifier)); }

  // The event a create records: the given values, then the defaults of the attributes
  // not given (a new uuid primary key, timestamps), nil ones left out. Not yet appended.
  Event creation(std::string_view resource, const Fields& values, std::string action = "create") const {
    const Resource& r = resource_named(resource);
    Event e = event(r, std::move(action), ActionType::create, values);
    for (const auto& a : r.attributes()) {
      Value v = given(values, a.name);
      if (v.is_null()) v = a.default_fn ? a.default_fn() : a.default_value;
      if (!v.is_null()) e.changes.emplace_back(a.name, v);
    }
    for (auto i : r.primary_key()) e.key.emplace_back(r.attributes()[i].name, given(e.changes, r.attributes()[i].name));
    return e;
  }
  // The event an update of the record with primary key `id` records: the given values
  // and the update timestamps.
  Event updating(std::string_view resource, const Value& id, const Fields& values,
                 std::string action = "update") const {
    const Resource& r = resource_named(resource);
    Event e = event(r, std::move(action), ActionType::update, values);
    e.key = key_of(r, id);
    e.changes = values;
    for (const auto& a : r.attributes())
      if (a.update_default_fn && given(values, a.name).is_null()) e.changes.emplace_back(a.name, a.update_default_fn());
    return e;
  }
  Event destruction(std::string_view resource, const Value& id, std::string action = "destroy") const {
    const Resource& r = resource_named(resource);
    Event e = event(r, std::move(action), ActionType::destroy, {});
    e.key = key_of(r, id);
    return e;
  }

  // Appends `events` in one write transaction (each record's next version, one
  // transaction id and correlation id), then notifies. Fails the test when the log does.
  std::vector<StoredEvent> commit(const std::vector<Event>& events) {
    std::vector<StoredEvent> committed;
    std::string correlation_id = Uuid::v4().str();
    log_->write(
            [&](Txn& txn) -> Result<void> {
              committed.clear();  // a write retried after growing the map starts again
              std::uint64_t tx = 0;
              for (Event e : events) {
                ASHLAR_TRY_VOID(assign_version(txn, e));
                if (e.correlation_id.empty()) e.correlation_id = correlation_id;
                e.tx = tx;
                auto stored = log_->append(txn, std::move(e));
                if (!stored) return fail(stored.error());
                if (tx == 0) tx = stored->event.position;
                committed.push_back(std::move(*stored));
              }
              return {};
            },
            [&] {
              if (committed.empty()) return;
              for (const auto& n : notifiers_) n->notify(committed);
              if (publishing_) publishing_->notify(committed);
            })
        .value();
    return committed;
  }

  // One action, one transaction. create returns the new record's primary key (its first
  // key attribute).
  Value create(std::string_view resource, const Fields& values, std::string action = "create") {
    return commit({creation(resource, values, std::move(action))}).front().event.key.front().second;
  }
  void update(std::string_view resource, const Value& id, const Fields& values, std::string action = "update") {
    commit({updating(resource, id, values, std::move(action))});
  }
  void destroy(std::string_view resource, const Value& id, std::string action = "destroy") {
    commit({destruction(resource, id, std::move(action))});
  }

  const Log& log() const { return *log_; }
  const Domain& domain() const { return domain_; }
  // Null when the options configured neither a publisher nor a replay service.
  const PublishService* publishing() const { return publishing_.get(); }

 private:
  EventSource() = default;

  const Resource& resource_named(std::string_view name) const {
    const Resource* r = domain_.resource(name);
    REQUIRE(r != nullptr);
    return *r;
  }
  static Value given(const Fields& values, std::string_view name) {
    for (const auto& [n, v] : values)
      if (n == name) return v;
    return Value();
  }
  static Fields key_of(const Resource& r, const Value& id) {
    REQUIRE(r.primary_key().size() == 1);
    return {{r.attributes()[r.primary_key().front()].name, id}};
  }
  Event event(const Resource& r, std::string action, ActionType type, const Fields& inputs) const {
    Event e;
    e.domain = domain_.name();
    e.resource = r.name();
    e.action = std::move(action);
    e.type = type;
    e.inputs = inputs;
    e.time_micros = DateTime::now().micros;
    return e;
  }
  // A record's events number its versions 1, 2, ... (a key used before continues).
  Result<void> assign_version(const Txn& txn, Event& e) const {
    if (e.version != 0) return {};
    std::vector<Value> key;
    for (const auto& [name, v] : e.key) key.push_back(v);
    auto last = log_->last_version(txn, e.resource, encode_key(key));
    if (!last) return fail(last.error());
    e.version = *last + 1;
    return {};
  }

  Domain domain_;
  std::unique_ptr<Log> log_;
  std::vector<std::shared_ptr<Notifier>> notifiers_;
  std::unique_ptr<PublishService> publishing_;  // after log_: stops before the log closes
};

}  // namespace ashlar::test
