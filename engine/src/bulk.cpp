// Bulk actions: the single-action path, run for a batch of changesets inside one write
// transaction, each record's part in a nested transaction of its own (ashlar/bulk.hpp).
#include <ashlar/bulk.hpp>

#include "tenancy.hpp"
#include "changeset.hpp"
#include "impl.hpp"
#include "lifecycle.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace ashlar {
namespace {

// One input of the operation, through its batch.
struct Slot {
  std::size_t index = 0;
  std::optional<Changeset> cs{};
  Result<Record> result = Error::unknown("not run");
  bool ready = false;        // valid, not answered by its idempotency key: it runs
  bool started = false;      // its before_transaction hooks ran, so after_transaction will
  // Not reported: rolled back with its batch, or never run, because another input
  // stopped the operation (stop_on_error).
  bool quiet = false;
};

// Builds input i's changeset with these call options.
using Build = std::function<Result<Changeset>(std::size_t index, const CallOptions& call)>;

class BulkRun {
 public:
  BulkRun(EngineImpl& impl, const BulkOptions& options, const char* kind, Build build)
      : impl_(impl), options_(options), kind_(kind), build_(std::move(build)),
        correlation_id_(options.correlation_id.empty() ? Uuid::v4().str() : options.correlation_id),
        context_(*Value(options.context).as_map()), outermost_(impl.open_txn() == nullptr) {}

  BulkResult run(std::size_t total) {
    for (std::size_t from = 0; from < total && !stopped_; from += options_.batch_size)
      run_batch(from, std::min(total, from + options_.batch_size));
    if (stopped_) result_.status = BulkStatus::error;
    else if (result_.error_count == 0) result_.status = BulkStatus::success;
    else result_.status = result_.count == 0 ? BulkStatus::error : BulkStatus::partial_success;
    return std::move(result_);
  }

 private:
  CallOptions call_for(std::size_t index) const {
    CallOptions call;
    call.action = options_.action;
    call.actor = options_.actor;
    call.tenant = options_.tenant;
    call.correlation_id = correlation_id_;
    call.private_arguments = options_.private_arguments;
    call.authorize = options_.authorize;
    // The caller's context with this input's entry, sorted by key as a Map value keeps it.
    call.context.reserve(context_.size() + 1);
    auto at = std::lower_bound(context_.begin(), context_.end(), kind_,
                               [](const auto& kv, std::string_view key) { return kv.first < key; });
    call.context.assign(context_.begin(), at);
    Map entry{{"index", static_cast<std::int64_t>(index)}};
    // The caller's own entry: a map is merged with the index (as Ash's set_context merges),
    // anything else replaced.
    if (at != context_.end() && at->first == kind_) {
      if (const Map* given = at->second.as_map()) {
        Map merged = *given;
        runtime::deep_merge(merged, entry);
        entry = std::move(merged);
      }
      ++at;
    }
    call.context.emplace_back(kind_, Value(std::move(entry)));
    call.context.insert(call.context.end(), at, context_.end());
    if (!options_.idempotency_key.empty()) call.idempotency_key = fmt::format("{}/{}", options_.idempotency_key, index);
    return call;
  }

  // Builds the batch's changesets; false when the operation stops at one that cannot run.
  bool prepare(std::vector<Slot>& slots) {
    for (auto& slot : slots) {
      auto cs = build_(slot.index, call_for(slot.index));
      if (!cs) {
        slot.result = cs.error();
      } else {
        slot.cs = std::move(*cs);
        // As Engine::run: a retry is answered from the log before validity is judged.
        auto earlier = impl_.idempotent_result(nullptr, *slot.cs);
        // As Engine::run: a request the policies refuse runs no hook and is told nothing more.
        Result<void> allowed = earlier && !*earlier ? impl_.authorize_early(*slot.cs) : Result<void>{};
        if (!earlier) slot.result = earlier.error();
        else if (*earlier) slot.result = std::move(**earlier);
        else if (!allowed) slot.result = allowed.error();
        else if (!slot.cs->valid()) slot.result = answer_invalid(*slot.cs);
        else slot.ready = true;
      }
      if (!slot.ready && !slot.result && options_.stop_on_error) {
        for (auto& other : slots) other.quiet = other.ready || other.index > slot.index;
        return false;
      }
    }
    return true;
  }

  // As Engine::run: an invalid changeset's around_transaction and after_transaction hooks
  // run all the same, here as it is built, before the batch's transaction — and an
  // after_transaction hook may turn its error into a result (which stop_on_error then
  // does not stop at).
  Result<Record> answer_invalid(Changeset& cs) {
    ChangesetAccess::enter(cs, ChangesetAccess::Step::around_transaction);
    return runtime::run_around(cs, ChangesetAccess::around_transaction(cs), "around_transaction hook",
                               [&](Changeset& c) -> Result<Record> {
                                 // Its errors as they stand once the around hooks ran.
                                 return runtime::run_after_transaction(c, runtime::changeset_error(c));
                               });
  }

  // around_transaction hooks of the slots from i on, each wrapping the rest; the
  // innermost runs the batch. A hook that does not call next answers for its slot alone.
  void around(std::vector<Slot>& slots, std::size_t i) {
    while (i < slots.size() && (!slots[i].ready || ChangesetAccess::around_transaction(*slots[i].cs).empty())) ++i;
    if (i == slots.size()) return in_batch(slots);
    bool entered = false;
    Slot& slot = slots[i];
    ChangesetAccess::enter(*slot.cs, ChangesetAccess::Step::around_transaction);
    auto result = runtime::run_around(*slot.cs, ChangesetAccess::around_transaction(*slot.cs),
                                      "around_transaction hook", [&](Changeset&) -> Result<Record> {
                                        entered = true;
                                        around(slots, i + 1);
                                        return slot.result;
                                      });
    slot.result = std::move(result);
    if (!entered) {
      slot.ready = false;
      around(slots, i + 1);
    }
  }

  // before_transaction hooks, the batch's write transaction, after_transaction hooks.
  void in_batch(std::vector<Slot>& slots) {
    bool stop = false;
    for (auto& slot : slots) {
      if (!slot.ready || stop) continue;
      slot.started = true;
      ChangesetAccess::enter(*slot.cs, ChangesetAccess::Step::before_transaction);
      auto r = runtime::run_before(*slot.cs, ChangesetAccess::before_transaction(*slot.cs), "before_transaction hook");
      if (r) continue;
      slot.result = r.error();
      slot.ready = false;
      stop = options_.stop_on_error;
    }
    if (!stop) write(slots);
    else stopped_ = true;
    for (auto& slot : slots) {
      if (stop && slot.ready) {
        slot.quiet = true;
        slot.result = not_run(*slot.cs);
      }
      if (!slot.started) continue;
      bool committed = outermost_ && slot.result.has_value();
      slot.result = runtime::after_commit(runtime::run_after_transaction(*slot.cs, std::move(slot.result)), committed);
    }
  }

  // A batch whose records have no in-transaction hooks is first written without a child
  // transaction per record (LMDB copies every page a child touches); when a record fails
  // in it, nothing is kept and the batch runs again the careful way, where it fails alone.
  // Only records without hooks, so the first try leaves no trace but its cost.
  bool write_flat(std::vector<Slot>& slots) {
    for (auto& slot : slots)
      if (slot.ready && (!ChangesetAccess::around_action(*slot.cs).empty() ||
                         !ChangesetAccess::before_action(*slot.cs).empty() ||
                         !ChangesetAccess::after_action(*slot.cs).empty()))
        return false;
    auto written = impl_.in_transaction(
        [&](Txn&) -> Result<void> {
          for (auto& slot : slots) {
            if (!slot.ready) continue;
            slot.result = impl_.run_in_transaction(*slot.cs);
            if (!slot.result) return fail(slot.result.error());
          }
          return {};
        },
        correlation_id_, options_.notify, /*flat=*/true);
    return written.has_value();
  }

  void write(std::vector<Slot>& slots) {
    if (write_flat(slots)) return;
    std::optional<std::size_t> failed;
    auto written = impl_.in_transaction(
        [&](Txn& txn) -> Result<void> {
          failed.reset();
          for (std::size_t i = 0; i < slots.size(); ++i) {
            if (!slots[i].ready) continue;
            slots[i].result = impl_.run_in_transaction(*slots[i].cs);  // nested: rolls back alone
            // A full map is no fault of the record: fail the batch, so the store grows
            // and runs it again.
            if (txn.map_full()) return fail(slots[i].result ? Error::unknown("the map is full") : slots[i].result.error());
            if (!slots[i].result && options_.stop_on_error) {
              failed = i;
              return fail(slots[i].result.error());
            }
          }
          return {};
        },
        correlation_id_, options_.notify);
    if (written) return;
    if (failed) {  // stop_on_error: the whole batch is rolled back
      stopped_ = true;
      for (std::size_t i = 0; i < slots.size(); ++i) {
        if (!slots[i].ready || i == *failed) continue;
        slots[i].quiet = true;
        slots[i].result = i < *failed ? rolled_back(*slots[i].cs, slots[*failed].index) : not_run(*slots[i].cs);
      }
      return;
    }
    // The commit itself failed (a full disk, a store at its size limit): nothing was kept.
    for (auto& slot : slots)
      if (slot.ready) slot.result = written.error();
  }

  Error not_run(const Changeset& cs) const {
    Error e = Error::unknown("not run: the bulk action stopped at an earlier error");
    e.resource = cs.resource().name();
    e.action = cs.action().name;
    return e;
  }

  Error rolled_back(const Changeset& cs, std::size_t failed_index) const {
    Error e = Error::unknown(fmt::format("rolled back with its batch: input {} failed", failed_index));
    e.resource = cs.resource().name();
    e.action = cs.action().name;
    return e;
  }

  void run_batch(std::size_t from, std::size_t to) {
    std::vector<Slot> slots(to - from);
    for (std::size_t i = 0; i < slots.size(); ++i) slots[i].index = from + i;
    if (prepare(slots)) around(slots, 0);
    else stopped_ = true;
    tally(slots);
  }

  // As a single call's: what the actor may not read of the records returned is forbidden,
  // decided for the batch's records together (its changesets share the call options).
  void through_field_policies(std::vector<Slot>& slots) {
    std::vector<Slot*> done;
    std::vector<Record> records;
    for (auto& slot : slots)
      if (!slot.quiet && slot.result) {
        done.push_back(&slot);
        records.push_back(std::move(*slot.result));
      }
    if (done.empty()) return;
    auto shown = impl_.returned(*done.front()->cs, records);
    for (std::size_t i = 0; i < done.size(); ++i) {
      if (shown) done[i]->result = std::move(records[i]);
      else done[i]->result = shown.error();
    }
  }

  void tally(std::vector<Slot>& slots) {
    if (options_.return_records) through_field_policies(slots);
    for (auto& slot : slots) {
      if (slot.quiet) continue;  // neither acted on nor at fault
      if (slot.result) {
        ++result_.count;
        if (options_.return_records) result_.records.push_back(std::move(*slot.result));
        continue;
      }
      ++result_.error_count;
      if (options_.return_errors) result_.errors.push_back({slot.index, slot.result.error()});
    }
  }

  EngineImpl& impl_;
  const BulkOptions& options_;
  const char* kind_;
  Build build_;
  std::string correlation_id_;
  Map context_;  // the caller's context, sorted
  bool outermost_;  // not inside another action: each batch commits
  BulkResult result_;
  bool stopped_ = false;
};

Result<const Resource*> resolve(const EngineImpl& impl, std::string_view resource, ActionType type,
                                const BulkOptions& options, const Action** action) {
  if (options.batch_size == 0) return fail(Error::framework("a bulk action's batch_size is at least 1"));
  ASHLAR_TRY(r, impl.resource(resource));
  ASHLAR_TRY(a, impl.action(**r, type, options.action));
  *action = *a;
  return *r;
}

// Update or destroy these records, or the records with these ids.
Result<BulkResult> bulk_change(Engine& engine, EngineImpl& impl, std::string_view resource, ActionType type,
                               const std::vector<Record>* records, const std::vector<Value>* ids,
                               const Fields& inputs, const BulkOptions& options) {
  const Action* a = nullptr;
  ASHLAR_TRY(r, resolve(impl, resource, type, options, &a));
  const Resource& res = **r;
  if (records)
    for (const auto& record : *records)
      if (record.resource().name() != res.name())
        return fail(Error::framework(fmt::format("bulk {} of {} was given a {} record", to_string(type), res.name(),
                                                 record.resource().name())));
  BulkRun run(impl, options, type == ActionType::update ? "bulk_update" : "bulk_destroy",
              [&](std::size_t i, const CallOptions& call) -> Result<Changeset> {
                if (records) return ChangesetAccess::build(engine, res, *a, inputs, call, (*records)[i]);
                ASHLAR_TRY(key, runtime::cast_id(res, a->name, (*ids)[i]));
                ASHLAR_TRY(tenant, runtime::tenant_value(res, a->name, call.tenant));
                ASHLAR_TRY(record, impl.find(res, *key, call));
                if (!*record || !runtime::in_tenant(res, **record, *tenant)) {  // another tenant's: not found
                  Error e = not_found(res, *key);
                  e.action = a->name;
                  return fail(std::move(e));
                }
                return ChangesetAccess::build(engine, res, *a, inputs, call, std::move(*record));
              });
  return run.run(records ? records->size() : ids->size());
}

// The query that picks a bulk action's records: every attribute (changes see whole
// records), nothing loaded, read on the operation's behalf.
Query for_bulk(Query query, const BulkOptions& options) {
  query.select.clear();
  query.load.clear();
  if (query.actor.is_null()) query.actor = options.actor;
  if (!query.authorize) query.authorize = options.authorize;
  if (query.tenant.empty()) query.tenant = options.tenant;
  return query;
}

}  // namespace

const char* to_string(BulkStatus status) {
  switch (status) {
    case BulkStatus::success: return "success";
    case BulkStatus::partial_success: return "partial_success";
    case BulkStatus::error: return "error";
  }
  return "error";
}

std::string BulkError::describe() const { return fmt::format("input {}: {}", index, error.describe()); }

Result<BulkResult> Engine::bulk_create(std::string_view resource, const std::vector<Fields>& inputs,
                                       const BulkOptions& options) {
  const Action* a = nullptr;
  ASHLAR_TRY(r, resolve(*impl_, resource, ActionType::create, options, &a));
  BulkRun run(*impl_, options, "bulk_create", [&](std::size_t i, const CallOptions& call) -> Result<Changeset> {
    return ChangesetAccess::build(*this, **r, *a, inputs[i], call, std::nullopt);
  });
  return run.run(inputs.size());
}

Result<BulkResult> Engine::bulk_update(std::string_view resource, const Query& query, const Fields& inputs,
                                       const BulkOptions& options) {
  if (query.as_of)
    return fail(Error::framework(fmt::format("bulk_update of {} acts on the current records; a query with as_of "
                                             "reads the past",
                                             resource)));
  ASHLAR_TRY(records, read(resource, for_bulk(query, options)));
  return bulk_update(resource, *records, inputs, options);
}

Result<BulkResult> Engine::bulk_update(std::string_view resource, const std::vector<Value>& ids, const Fields& inputs,
                                       const BulkOptions& options) {
  return bulk_change(*this, *impl_, resource, ActionType::update, nullptr, &ids, inputs, options);
}

Result<BulkResult> Engine::bulk_update(std::string_view resource, const std::vector<Record>& records,
                                       const Fields& inputs, const BulkOptions& options) {
  return bulk_change(*this, *impl_, resource, ActionType::update, &records, nullptr, inputs, options);
}

Result<BulkResult> Engine::bulk_destroy(std::string_view resource, const Query& query, const BulkOptions& options) {
  return bulk_destroy(resource, query, Fields{}, options);
}

Result<BulkResult> Engine::bulk_destroy(std::string_view resource, const std::vector<Value>& ids,
                                        const BulkOptions& options) {
  return bulk_destroy(resource, ids, Fields{}, options);
}

Result<BulkResult> Engine::bulk_destroy(std::string_view resource, const std::vector<Record>& records,
                                        const BulkOptions& options) {
  return bulk_destroy(resource, records, Fields{}, options);
}

Result<BulkResult> Engine::bulk_destroy(std::string_view resource, const Query& query, const Fields& inputs,
                                        const BulkOptions& options) {
  if (query.as_of)
    return fail(Error::framework(fmt::format("bulk_destroy of {} acts on the current records; a query with as_of "
                                             "reads the past",
                                             resource)));
  ASHLAR_TRY(records, read(resource, for_bulk(query, options)));
  return bulk_destroy(resource, *records, inputs, options);
}

Result<BulkResult> Engine::bulk_destroy(std::string_view resource, const std::vector<Value>& ids, const Fields& inputs,
                                        const BulkOptions& options) {
  return bulk_change(*this, *impl_, resource, ActionType::destroy, nullptr, &ids, inputs, options);
}

Result<BulkResult> Engine::bulk_destroy(std::string_view resource, const std::vector<Record>& records,
                                        const Fields& inputs, const BulkOptions& options) {
  return bulk_change(*this, *impl_, resource, ActionType::destroy, &records, nullptr, inputs, options);
}

}  // namespace ashlar
