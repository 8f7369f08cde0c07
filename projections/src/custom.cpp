#include <ashlar/eventlog/bytes.hpp>
#include <ashlar/projections/projection_set.hpp>

#include <fmt/format.h>

#include <algorithm>

namespace ashlar {
namespace {

constexpr std::size_t kBatch = 5000;  // events per catch-up transaction

bool identifier(std::string_view name) {
  if (name.empty() || name.size() > 200 || std::isdigit(static_cast<unsigned char>(name[0]))) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

// User code may throw; an exception becomes the error that fails the action or stops
// the projection, never an unwinding through the engine.
Result<void> guarded_apply(Projection& p, StateStore& tables, const StoredEvent& event) {
  try {
    return p.apply(tables, event);
  } catch (const std::exception& e) {
    return fail(Error::unknown(fmt::format("it threw: {}", e.what())));
  }
}

Result<std::uint64_t> read_checkpoint(const Log& log, const Txn& txn, const std::string& name) {
  ASHLAR_TRY(stored, log.get_meta(txn, ProjectionSet::checkpoint_key(name)));
  return *stored ? read_be64(**stored) : std::uint64_t{0};
}

}  // namespace

Result<std::unique_ptr<ProjectionSet>> ProjectionSet::open(Log& log, std::vector<std::shared_ptr<Projection>> projections,
                                                           Upcast upcast) {
  std::unique_ptr<ProjectionSet> set(new ProjectionSet(log, std::move(upcast)));
  bool any_async = false;
  for (auto& p : projections) {
    Entry e{p, p->name(), {}, {}};
    if (!identifier(e.name))
      return fail(Error::framework(fmt::format("a projection's name must be an identifier, not \"{}\"", e.name)));
    if (set->find(e.name)) return fail(Error::framework(fmt::format("two projections are named {}", e.name)));
    for (const auto& t : p->tables()) {
      e.layout.push_back({table_name(e.name, t.name), t.dupsort});
      ASHLAR_TRY(db, log.database(e.layout.back().name, t.dupsort));
      e.dbs.push_back(*db);
    }
    any_async = any_async || p->mode() == ProjectionMode::asynchronous;
    set->entries_.push_back(std::move(e));
  }
  for (auto& e : set->entries_) {
    if (e.projection->mode() != ProjectionMode::in_transaction) continue;
    for (;;) {
      ASHLAR_TRY(more, set->advance(e, kBatch));
      if (!*more) break;
    }
  }
  if (any_async) {
    set->pending_ = true;  // catch up with what was appended while the program was down
    set->worker_ = std::thread([s = set.get()] { s->run_worker(); });
  }
  return set;
}

ProjectionSet::~ProjectionSet() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (worker_.joinable()) worker_.join();
}

const ProjectionSet::Entry* ProjectionSet::find(std::string_view name) const {
  for (const auto& e : entries_)
    if (e.name == name) return &e;
  return nullptr;
}

Result<void> ProjectionSet::apply_inline(Txn& txn, const StoredEvent& event) {
  for (auto& e : entries_) {
    if (e.projection->mode() != ProjectionMode::in_transaction) continue;
    LmdbStore store(txn, e.dbs, e.layout);
    auto applied = guarded_apply(*e.projection, store, event);
    if (!applied) {
      Error err = applied.error();
      err.message = fmt::format("projection {}: {}", e.name, err.message);
      return fail(std::move(err));
    }
    ASHLAR_TRY_VOID(log_.put_meta(txn, checkpoint_key(e.name), be64(event.event.position)));
  }
  return {};
}

Result<bool> ProjectionSet::advance(Entry& e, std::size_t batch) {
  bool more = false;
  auto written = log_.write([&](Txn& txn) -> Result<void> {
    ASHLAR_TRY(from, read_checkpoint(log_, txn, e.name));
    ASHLAR_TRY(head, log_.head(txn));
    if (*from >= head->position) {
      more = false;
      return {};
    }
    std::uint64_t to = std::min<std::uint64_t>(head->position, *from + batch);
    RebuildTarget target = *this->target(e.name);
    LmdbStore store(txn, e.dbs, e.layout);
    std::vector<StateStore*> stores{&store};
    ASHLAR_TRY(folded, fold(log_, txn, *from + 1, to, {&target}, stores, upcast_));
    ASHLAR_TRY_VOID(log_.put_meta(txn, checkpoint_key(e.name), be64(to)));
    more = to < head->position;
    return {};
  });
  if (!written) return fail(written.error());
  return more;
}

Result<void> ProjectionSet::catch_up() {
  std::lock_guard serial(advance_mutex_);
  {
    std::lock_guard lock(mutex_);
    if (async_error_) return fail(*async_error_);
  }
  for (auto& e : entries_) {
    if (e.projection->mode() != ProjectionMode::asynchronous) continue;
    for (;;) {
      auto more = advance(e, kBatch);
      if (!more) {
        std::lock_guard lock(mutex_);
        async_error_ = more.error();
        return fail(more.error());
      }
      if (!*more) break;
    }
  }
  return {};
}

void ProjectionSet::rebuilt() {
  {
    std::lock_guard lock(mutex_);
    async_error_.reset();
  }
  committed();
}

void ProjectionSet::committed() {
  if (!worker_.joinable()) return;
  {
    std::lock_guard lock(mutex_);
    pending_ = true;
  }
  wake_.notify_one();
}

void ProjectionSet::run_worker() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [&] { return pending_ || stopping_; });
    if (stopping_) return;
    pending_ = false;
    if (async_error_) continue;  // stopped until a rebuild; catch_up() reports why
    lock.unlock();
    auto caught = catch_up();  // records its error itself
    (void)caught;
    lock.lock();
  }
}

std::vector<RebuildTarget> ProjectionSet::targets() const {
  std::vector<RebuildTarget> out;
  for (const auto& e : entries_) out.push_back(*target(e.name));
  return out;
}

Result<RebuildTarget> ProjectionSet::target(std::string_view name) const {
  const Entry* e = find(name);
  if (!e) return fail(Error::framework(fmt::format("no projection is named {}", name)));
  Projection* p = e->projection.get();
  return RebuildTarget{e->name, e->layout,
                       [p](StateStore& tables, const StoredEvent& event) { return guarded_apply(*p, tables, event); },
                       checkpoint_key(e->name)};
}

Result<void> ProjectionSet::read(std::string_view name,
                                 const std::function<Result<void>(const StateStore&)>& fn) const {
  const Entry* e = find(name);
  if (!e) return fail(Error::framework(fmt::format("no projection is named {}", name)));
  ASHLAR_TRY(txn, log_.read());
  LmdbStore store(*txn, e->dbs, e->layout);
  return fn(store);
}

Result<std::uint64_t> ProjectionSet::checkpoint(std::string_view name) const {
  const Entry* e = find(name);
  if (!e) return fail(Error::framework(fmt::format("no projection is named {}", name)));
  ASHLAR_TRY(txn, log_.read());
  return read_checkpoint(log_, *txn, e->name);
}

}  // namespace ashlar
