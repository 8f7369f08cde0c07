// A read replica (ashlar/replica.hpp): one thread reads the stream after the local head
// and appends each message's event, checked, with the state and the custom projections
// folded in the same transaction, as the engine's append does; a model change is
// installed as Engine::open installs one.
#include <ashlar/model/json.hpp>
#include <ashlar/notifiers/jetstream_reader.hpp>
#include <ashlar/projections/state.hpp>
#include <ashlar/projections/tenants.hpp>
#include <ashlar/replica.hpp>

#include "replay.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <thread>

namespace ashlar {

namespace {

// A message that does not fit: the replica stops at it.
Error misfit(std::uint64_t position, std::string why) {
  return Error::framework(fmt::format("message {} does not fit: {}", position, why)).with_code(codes::kDecodeError);
}

}  // namespace

struct Replica::Impl {
  ReplicaOptions options;
  std::unique_ptr<Log> log;
  // The current model's projections; the thread alone replaces them (a model change),
  // under model_mu, while read_projection and catch_up read them under it.
  std::optional<runtime::Installed> installed;
  mutable std::shared_mutex model_mu;
  std::string model_json;   // the current stored model
  std::string domain_name;  // its domain's

  std::atomic<std::uint64_t> position{0};
  std::atomic<std::uint64_t> stream_last{0};
  mutable std::mutex mu;
  mutable std::condition_variable cv;
  bool stopping = false, stopped = false;
  std::string error;
  std::thread thread;

  Result<void> install(const std::string& json);
  Result<void> take_model(const StreamMessage& m);
  Result<void> append(Txn& txn, const StreamMessage& m, std::uint64_t expected);
  Result<std::size_t> apply(const std::vector<StreamMessage>& messages);
  void run();
  void sleep(std::chrono::milliseconds d) {
    std::unique_lock lock(mu);
    cv.wait_for(lock, d, [&] { return stopping; });
  }
  bool stop_asked() {
    std::lock_guard lock(mu);
    return stopping;
  }
};

// Makes `json` the replica's model as Engine::open makes a domain the store's: checked
// against the stored one and the upcasters, the projections opened (custom ones caught
// up), and all of them rebuilt when the change needs it, upcast as the primary's were.
Result<void> Replica::Impl::install(const std::string& json) {
  ASHLAR_TRY(domain, domain_from_json(json));
  std::unique_lock lock(model_mu);
  installed.reset();  // the custom projections' background thread stops before they reopen
  ASHLAR_TRY(opened, runtime::install(*log, *domain, options.upcasters, options.projections,
                                      {.json = json, .later_upcasters_wait = true}));
  installed.emplace(std::move(*opened));
  model_json = json;
  domain_name = domain->name();
  return {};
}

// A message that starts a model version: the model becomes the store's. It carries every
// version the primary took since its last event, so the replica numbers them as the
// primary does (upcasters name the versions they follow).
Result<void> Replica::Impl::take_model(const StreamMessage& m) {
  const std::vector<std::string> only{m.model};
  for (const std::string& json : m.models.empty() ? only : m.models) {
    if (json == model_json) continue;  // taken before a restart: the store's version already
    if (auto decoded = domain_from_json(json); !decoded)
      return fail(misfit(m.sequence, "its model does not decode: " + decoded.error().message));
    auto taken = install(json);
    if (!taken)
      return fail(Error::framework(
          fmt::format("message {} starts a model the replica cannot take: {}", m.sequence, taken.error().details())));
  }
  return {};
}

Result<void> Replica::Impl::append(Txn& txn, const StreamMessage& m, std::uint64_t expected) {
  if (m.sequence != expected)
    return fail(misfit(m.sequence, fmt::format("the replica's next position is {}", expected)));
  if (!installed)
    return fail(misfit(expected, "it carries no model and the replica has none (is the stream ashlar's?)"));
  if (m.domain != domain_name)
    return fail(misfit(expected, fmt::format("it is of domain '{}', the replica's is {}", m.domain, domain_name)));
  auto event = decode_event(m.bytes, expected);
  if (!event) return fail(misfit(expected, event.error().message));
  if (event->position != expected)
    return fail(misfit(expected, fmt::format("its event claims position {}", event->position)));
  ASHLAR_TRY(stored, log->append(txn, std::move(*event)));
  if (stored->bytes != m.bytes) return fail(misfit(expected, "its bytes are not the encoding of the event they hold"));
  if (to_hex(stored->hash) != m.hash)
    return fail(misfit(expected, fmt::format("its hash is not h({}) of the replica's chain (tampered, or another store's)",
                                             expected)));
  ASHLAR_TRY_VOID(fold_appended(txn, installed->state, *installed->tenants, stored->event));
  if (auto projected = installed->replay.apply_inline(txn, *stored); !projected) {
    Error e = projected.error();
    e.message = fmt::format("event {} does not fold: {}", expected, e.message);
    return fail(std::move(e));
  }
  return {};
}

// Applies the messages in order, one write transaction for those up to the next model
// change; the number applied, or the first misfit (those before it are kept).
Result<std::size_t> Replica::Impl::apply(const std::vector<StreamMessage>& messages) {
  std::size_t done = 0;
  while (done < messages.size()) {
    if (!messages[done].model.empty() && messages[done].model != model_json)
      ASHLAR_TRY_VOID(take_model(messages[done]));
    std::size_t end = done + 1;
    while (end < messages.size() && (messages[end].model.empty() || messages[end].model == model_json)) ++end;
    std::size_t good = end;  // after a misfit: those before it
    std::optional<Error> misfit_error;
    for (int attempt = 0; attempt < 2; ++attempt) {
      std::uint64_t first = position + 1;
      auto written = log->write_once([&](Txn& txn) -> Result<void> {
        for (std::size_t i = done; i < good; ++i) {
          auto r = append(txn, messages[i], first + (i - done));
          if (!r) {
            good = i;
            misfit_error = r.error();
            return r;
          }
        }
        return {};
      });
      if (written) break;
      if (!misfit_error) return fail(written.error());  // the store's own failure
      if (good == done) return fail(*misfit_error);
    }
    ASHLAR_TRY_VOID(installed->tenants->committed());
    installed->replay.committed();
    {
      std::lock_guard lock(mu);
      position = position + (good - done);
      cv.notify_all();
    }
    if (misfit_error) return fail(*misfit_error);
    done = end;
  }
  return done;
}

void Replica::Impl::run() {
  std::unique_ptr<JetStreamReader> reader;
  std::chrono::milliseconds backoff = options.backoff;
  auto finish = [&](std::string why) {
    std::lock_guard lock(mu);
    error = std::move(why);
    stopped = true;
    cv.notify_all();
  };
  auto since_lag = std::chrono::steady_clock::now() - std::chrono::hours(1);
  while (!stop_asked()) {
    if (!reader) {
      auto opened = JetStreamReader::open({.url = options.url, .stream = options.stream, .timeout = options.timeout},
                                          position + 1);
      if (!opened && opened.error().code != codes::kIoError) return finish(opened.error().message);
      if (!opened) {
        sleep(backoff);
        backoff = std::min(backoff * 2, options.max_backoff);
        continue;
      }
      reader = std::move(*opened);
    }
    auto now = std::chrono::steady_clock::now();
    if (now - since_lag > std::chrono::milliseconds(200)) {  // the lag, a few times a second at most
      if (auto last = reader->last_sequence()) stream_last = *last;
      since_lag = now;
    }
    auto messages = reader->next(options.batch, std::chrono::milliseconds(100));
    if (!messages) {
      reader.reset();
      sleep(backoff);
      backoff = std::min(backoff * 2, options.max_backoff);
      continue;
    }
    backoff = options.backoff;
    if (messages->empty()) continue;
    stream_last = std::max<std::uint64_t>(stream_last, messages->back().sequence);
    if (auto applied = apply(*messages); !applied) return finish(applied.error().details());
  }
  std::lock_guard lock(mu);
  stopped = true;
  cv.notify_all();
}

Result<std::unique_ptr<Replica>> Replica::start(const std::string& path, const ReplicaOptions& options) {
  if (options.url.empty() || options.stream.empty())
    return fail(Error::framework("a replica needs a url and a stream"));
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  LogOptions lo;
  lo.durability = options.durability;
  lo.chain_key = options.chain_key;
  lo.max_databases = 1024 + options.tenant_databases;
  for (const auto& p : options.projections) lo.max_databases += 2 * static_cast<unsigned>(p->tables().size());
  ASHLAR_TRY(log, Log::open(path, lo));
  impl->log = std::move(*log);
  ASHLAR_TRY(head, impl->log->head());
  impl->position = head->position;
  {
    ASHLAR_TRY(txn, impl->log->read());
    ASHLAR_TRY(json, impl->log->model(*txn));
    if (*json) impl->model_json = **json;
  }
  if (!impl->model_json.empty()) ASHLAR_TRY_VOID(impl->install(impl->model_json));
  Impl* raw = impl.get();
  impl->thread = std::thread([raw] { raw->run(); });
  return std::unique_ptr<Replica>(new Replica(std::move(impl)));
}

Replica::Replica(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Replica::~Replica() {
  {
    std::lock_guard lock(impl_->mu);
    impl_->stopping = true;
    impl_->cv.notify_all();
  }
  if (impl_->thread.joinable()) impl_->thread.join();
}

std::uint64_t Replica::position() const { return impl_->position; }

std::uint64_t Replica::lag() const {
  std::uint64_t last = impl_->stream_last, at = impl_->position;
  return last > at ? last - at : 0;
}

Result<void> Replica::catch_up() const {
  std::shared_lock lock(impl_->model_mu);
  ProjectionSet* set = impl_->installed ? impl_->installed->replay.projections() : nullptr;
  return set ? set->catch_up() : Result<void>{};
}

Result<void> Replica::read_projection(std::string_view name,
                                      const std::function<Result<void>(const StateStore&)>& fn) const {
  std::shared_lock lock(impl_->model_mu);
  ProjectionSet* set = impl_->installed ? impl_->installed->replay.projections() : nullptr;
  if (!set) return fail(Error::framework(fmt::format("no projection is named {}", name)));
  return set->read(name, fn);
}

std::string Replica::error() const {
  std::lock_guard lock(impl_->mu);
  return impl_->error;
}

bool Replica::wait_for(std::uint64_t position, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mu);
  impl_->cv.wait_for(lock, timeout, [&] { return impl_->position >= position || impl_->stopped; });
  return impl_->position >= position;
}

}  // namespace ashlar
