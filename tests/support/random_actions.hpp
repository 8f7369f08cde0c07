#pragma once
// Random action sequences for property tests: creates, updates and destroys over the
// helpdesk and social domains, a share of them failing (bad inputs, taken identities,
// missing records, duplicate keys). Deterministic for a seed.

#include "support/domains.hpp"

#include <ashlar/projections/state.hpp>

#include <map>
#include <random>

namespace ashlar::test {

struct RandomRun {
  int ok = 0, failed = 0;
};

class RandomActions {
 public:
  RandomActions(Engine& engine, unsigned seed) : engine_(engine), rng_(seed) {}

  // Runs n actions; each picks a kind at random.
  RandomRun run(int n) {
    RandomRun out;
    for (int i = 0; i < n; ++i) (step() ? out.ok : out.failed)++;
    return out;
  }

 private:
  int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }
  Value any(const std::vector<Value>& ids) { return ids.empty() ? Value(Uuid::v4()) : ids[pick(static_cast<int>(ids.size()))]; }
  CallOptions call() { return {.actor = Value("actor" + std::to_string(pick(3)))}; }

  bool keep(Result<Record> r, std::vector<Value>* ids) {
    if (r && ids) ids->push_back(r->id());
    return r.has_value();
  }
  bool drop(std::vector<Value>& ids, Result<Record> r) {
    if (r) ids.erase(std::remove(ids.begin(), ids.end(), r->id()), ids.end());
    return r.has_value();
  }

  bool step() { return engine_.domain().name() == "helpdesk" ? helpdesk() : social(); }

  bool helpdesk() {
    static const char* kStatus[] = {"open", "closed", "bogus"};
    static const char* kPriority[] = {"low", "medium", "high"};
    switch (pick(10)) {
      case 0: return keep(engine_.create("Representative", {{"name", "rep" + std::to_string(pick(50))}}, call()), &reps_);
      case 1:
      case 2: {
        Fields in{{"subject", "s" + std::to_string(pick(1000))}, {"priority", Atom{kPriority[pick(3)]}},
                  {"severity", pick(5)}};
        if (pick(2)) in.emplace_back("reference", "R" + std::to_string(pick(150)));  // taken now and then
        if (pick(3) > 0) in.emplace_back("representative_id", any(reps_));
        return keep(engine_.create("Ticket", in, call()), &tickets_);
      }
      case 3:
      case 4:
        return keep(engine_.update("Ticket", any(tickets_),
                                   {{"status", Atom{kStatus[pick(3)]}}, {"severity", pick(5)},
                                    {"reference", pick(2) ? Value("R" + std::to_string(pick(150))) : Value()}},
                                   call()),
                    nullptr);
      case 5: return keep(engine_.update("Ticket", any(tickets_), {{"representative_id", any(reps_)}}, call()), nullptr);
      case 6: return drop(tickets_, engine_.destroy("Ticket", any(tickets_), call()));
      case 7: return drop(reps_, engine_.destroy("Representative", any(reps_), call()));
      case 8: return keep(engine_.create("Ticket", {{"subject", ""}}, call()), &tickets_);  // invalid: required
      default:
        return keep(engine_.update("Representative", any(reps_), {{"severity_threshold", pick(4)}}, call()), nullptr);
    }
  }

  bool social() {
    switch (pick(9)) {
      case 0: return keep(engine_.create("User", {{"name", "u" + std::to_string(pick(40))}}, call()), &users_);
      case 1:
      case 2: return keep(engine_.create("Tweet", {{"body", "b" + std::to_string(pick(99))}, {"user_id", any(users_)}}, call()), &tweets_);
      case 3: return keep(engine_.create("Hashtag", {{"name", "h" + std::to_string(pick(10))}}, call()), &tags_);
      case 4: return keep(engine_.create("TweetHashtag", {{"tweet_id", any(tweets_)}, {"hashtag_id", any(tags_)}}, call()), nullptr);
      case 5: return keep(engine_.create("Follow", {{"follower_id", any(users_)}, {"followee_id", any(users_)}}, call()), nullptr);
      case 6: return keep(engine_.update("Tweet", any(tweets_), {{"likes", pick(100)}}, call()), nullptr);
      case 7: return keep(engine_.update("User", any(users_), {{"name", "u" + std::to_string(pick(40))}}, call()), nullptr);
      default: return drop(tweets_, engine_.destroy("Tweet", any(tweets_), call()));
    }
  }

  Engine& engine_;
  std::mt19937 rng_;
  std::vector<Value> reps_, tickets_, users_, tweets_, tags_;
};

// Every entry of every table of a layout, as LMDB holds it: byte-for-byte comparable.
using TableDump = std::map<std::string, std::vector<std::pair<std::string, std::string>>>;

inline TableDump dump_tables(const StateStore& store, const std::vector<TableSpec>& layout) {
  TableDump out;
  for (std::size_t t = 0; t < layout.size(); ++t) {
    auto& entries = out[layout[t].name];
    store.scan(t, {}, [&](std::string_view k, std::string_view v) {
           entries.emplace_back(std::string(k), std::string(v));
           return true;
         }).value();
  }
  return out;
}

// The live state projection's tables of a store, read through a read-only log.
inline TableDump dump_state(const std::string& path, const Domain& domain) {
  auto log = Log::open_read_only(path).value();
  auto state = StateProjection::open(*log, domain).value();
  auto txn = log->read().value();
  return dump_tables(state.store(txn), state.tables());
}

}  // namespace ashlar::test
