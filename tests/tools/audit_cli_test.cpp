// ashlar head, verify, rebuild and history, run as a separate process against stores
// the engine wrote — and against stores tampered with in data.mdb itself.
#include "support/domains.hpp"
#include "support/lmdb_tamper.hpp"
#include "support/random_actions.hpp"
#include "support/run_cli.hpp"
#include "support/temp_dir.hpp"

#include <ashlar/model/key.hpp>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

namespace {

using namespace ashlar;
using test::CliRun;
using test::run_ashlar;
using test::TempDir;

// A helpdesk store: random history, then three tickets whose events are easy to find.
struct HelpdeskStore {
  TempDir tmp;
  std::string path = tmp.sub("store");
  std::optional<Record> rep, ticket;
  std::uint64_t ticket_created = 0;

  explicit HelpdeskStore(std::string chain_key = {}) {
    auto engine = Engine::open(path, test::helpdesk_domain(), {.durability = Durability::no_sync, .chain_key = chain_key})
                      .value();
    test::RandomActions(engine, 21).run(40);
    rep = engine.create("Representative", {{"name", "Joe Armstrong"}}).value();
    ticket = engine.create("Ticket", {{"subject", "Printer-on-fire"}, {"representative_id", rep->id()}},
                           {.actor = "alice", .correlation_id = "flip-me-correlation"})
                 .value();
    ticket_created = engine.log().head().value().position;
    engine.update("Ticket", ticket->id(), {{"status", Atom{"closed"}}}, {.actor = "bob"}).value();
    engine.create("Ticket", {{"subject", "later"}}).value();
  }

  Head head() const { return Log::open_read_only(path).value()->head().value(); }
  std::string ticket_key() const {
    std::vector<Value> key{ticket->id()};
    return encode_key(key);
  }
};

void require_ok(const CliRun& run) {
  INFO("stdout: " << run.out << "\nstderr: " << run.err);
  REQUIRE(run.code == 0);
  CHECK(run.err.empty());
}

// Runs `ashlar ARGS...` with stderr on a pseudo-terminal, as in an interactive shell, and
// returns what it drew there (stdout goes to /dev/null).
std::string stderr_on_terminal(const std::vector<std::string>& args) {
  int master = posix_openpt(O_RDWR | O_NOCTTY);
  REQUIRE(master >= 0);
  REQUIRE(grantpt(master) == 0);
  REQUIRE(unlockpt(master) == 0);
  int slave = ::open(ptsname(master), O_RDWR | O_NOCTTY);
  REQUIRE(slave >= 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, slave, 2);
  std::vector<std::string> argv_s = {ASHLAR_CLI};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, ASHLAR_CLI, &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  REQUIRE(rc == 0);
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  // The slave stays open until the drawing is read, so the terminal keeps it.
  fcntl(master, F_SETFL, O_NONBLOCK);
  std::string drawn;
  char buffer[4096];
  for (ssize_t n; (n = ::read(master, buffer, sizeof buffer)) > 0;) drawn.append(buffer, static_cast<std::size_t>(n));
  ::close(slave);
  ::close(master);
  return drawn;
}

}  // namespace

TEST_CASE("ashlar head prints the position and hash an auditor keeps") {
  HelpdeskStore store;
  Head head = store.head();
  CliRun run = run_ashlar({"head", store.path});
  require_ok(run);
  CHECK(run.out == std::to_string(head.position) + " " + to_hex(head.hash) + "\n");
  CliRun json = run_ashlar({"head", store.path, "--json"});
  require_ok(json);
  auto j = nlohmann::json::parse(json.out);
  CHECK(j["position"] == head.position);
  CHECK(j["hash"] == to_hex(head.hash));
}

TEST_CASE("ashlar verify passes an untouched store with a one-line summary") {
  HelpdeskStore store;
  Head head = store.head();
  CliRun run = run_ashlar({"verify", store.path});
  require_ok(run);
  REQUIRE(run.out_lines.size() == 1);
  CHECK(run.out_lines[0] == "ok: " + std::to_string(head.position) +
                                " events; hash chain intact; by_resource and by_record agree with the log; the stored "
                                "model fits the log; the state projection equals a replay; head " +
                                std::to_string(head.position) + " " + to_hex(head.hash));
}

TEST_CASE("ashlar verify --expect proves the log up to a recorded head") {
  HelpdeskStore store;
  Head recorded = store.head();
  std::string expect = std::to_string(recorded.position) + ":" + to_hex(recorded.hash);
  {
    auto engine = Engine::open(store.path, test::helpdesk_domain()).value();
    engine.create("Representative", {{"name", "after the audit"}}).value();
  }
  CliRun ok = run_ashlar({"verify", store.path, "--expect", expect});
  require_ok(ok);
  CHECK(ok.out.find("position " + std::to_string(recorded.position) + " has the expected hash") != std::string::npos);

  Hash other = recorded.hash;
  other[0] ^= 1;
  CliRun wrong = run_ashlar({"verify", store.path, "--expect", std::to_string(recorded.position) + ":" + to_hex(other)});
  CHECK(wrong.code == 1);
  REQUIRE(wrong.err_lines.size() == 1);
  CHECK(wrong.err_lines[0].find("h(" + std::to_string(recorded.position) + ") is " + to_hex(recorded.hash) +
                                ", not the expected " + to_hex(other)) != std::string::npos);

  CliRun beyond = run_ashlar({"verify", store.path, "--expect", "100000:" + to_hex(other)});
  CHECK(beyond.code == 1);
  CHECK(beyond.err.find("position 100000 is beyond the head") != std::string::npos);

  CliRun bad = run_ashlar({"verify", store.path, "--expect", "12:xyz"});
  CHECK(bad.code == 1);
  CHECK(bad.err == "ashlar: --expect takes POS:HASH, a position and the 64 hex digits ashlar head printed (got "
                   "12:xyz)\n");
}

TEST_CASE("ashlar verify names the first position whose event bytes were flipped in data.mdb") {
  HelpdeskStore store;
  test::flip_value_byte(store.path, "events", ashlar::be64(store.ticket_created), "flip-me-correlation");
  CliRun run = run_ashlar({"verify", store.path});
  INFO(run.out << run.err);
  CHECK(run.code == 1);
  REQUIRE_FALSE(run.out_lines.empty());
  std::string expected = "the hash chain breaks at position " + std::to_string(store.ticket_created) +
                         ": the event's bytes or its stored hash were changed";
  CHECK(run.out_lines[0] == "problem: " + expected);
  REQUIRE(run.err_lines.size() == 1);
  CHECK(run.err_lines[0] == "ashlar: " + store.path + " fails verification: " + expected);
}

TEST_CASE("ashlar verify names a projected record whose bytes were flipped in data.mdb") {
  HelpdeskStore store;
  test::flip_value_byte(store.path, "rec/Ticket", store.ticket_key(), "Printer-on-fire");
  CliRun run = run_ashlar({"verify", store.path});
  INFO(run.out << run.err);
  CHECK(run.code == 1);
  REQUIRE(run.out_lines.size() == 1);  // the log is intact: only the record is named
  CHECK(run.out_lines[0] == "problem: rec/Ticket: the Ticket record " + store.ticket->id().str() +
                                " differs from a replay of the log");
}

TEST_CASE("ashlar verify names broken log indexes and missing index entries") {
  HelpdeskStore store;
  Head head = store.head();
  test::poke_entry(store.path, "by_resource", std::string("Ticket") + '\0' + ashlar::be64(1), ashlar::be64(head.position));
  std::string rep_index = "idx/Ticket/representative_id";
  std::vector<Value> rep_value{store.rep->id()};
  test::poke_entry(store.path, rep_index, encode_key(rep_value), {}, /*erase=*/true);
  CliRun run = run_ashlar({"verify", store.path});
  INFO(run.out << run.err);
  CHECK(run.code == 1);
  bool named_stream = false, named_index = false;
  for (const auto& line : run.out_lines) {
    named_stream = named_stream || line.find("by_resource: Ticket sequence 1 points at position " +
                                             std::to_string(head.position)) != std::string::npos;
    named_index = named_index || line.find("problem: " + rep_index + ": the entry ") != std::string::npos;
  }
  CHECK(named_stream);
  CHECK(named_index);
}

TEST_CASE("ashlar verify checks a keyed chain only with its key") {
  std::string key(32, 'k');
  HelpdeskStore store(key);
  TempDir files;
  std::string key_file = files.sub("key"), wrong_file = files.sub("wrong");
  std::ofstream(key_file, std::ios::binary) << key;
  std::ofstream(wrong_file, std::ios::binary) << std::string(32, 'x');
  CliRun with_key = run_ashlar({"verify", store.path, "--key-file", key_file});
  require_ok(with_key);
  CHECK(with_key.out.find("keyed hash chain intact") != std::string::npos);

  CliRun without = run_ashlar({"verify", store.path});
  CHECK(without.code == 1);
  CHECK(without.out_lines.at(0) == "problem: the hash chain breaks at position 1: the event's bytes or its stored "
                                   "hash were changed (or the chain is keyed: give its key)");
  CliRun wrong = run_ashlar({"verify", store.path, "--key-file", wrong_file});
  CHECK(wrong.code == 1);
  CHECK(wrong.out_lines.at(0).find("the hash chain breaks at position 1") != std::string::npos);
}

TEST_CASE("ashlar rebuild restores wrecked projections from the log, and verify agrees") {
  HelpdeskStore store;
  Domain domain = test::helpdesk_domain();
  test::TableDump before = test::dump_state(store.path, domain);
  test::poke_entry(store.path, "rec/Ticket", store.ticket_key(), {}, /*erase=*/true);
  test::poke_entry(store.path, "uniq/Ticket/unique_reference", "junk", "junk");
  CHECK(run_ashlar({"verify", store.path}).code == 1);

  CliRun run = run_ashlar({"rebuild", store.path, "--batch", "7"});
  require_ok(run);  // not a terminal: no progress bar
  Head head = store.head();
  REQUIRE(run.out_lines.size() == 1);
  CHECK(run.out_lines[0] == "rebuilt the records, indexes and identities of 2 resources from " +
                                std::to_string(head.position) + " events; head " + std::to_string(head.position) +
                                " " + to_hex(head.hash));
  CHECK(test::dump_state(store.path, domain) == before);
  require_ok(run_ashlar({"verify", store.path}));
}

TEST_CASE("ashlar rebuild draws a progress bar with events/s and the time left on a terminal, and clears it") {
  HelpdeskStore store;
  std::string drawn = stderr_on_terminal({"rebuild", store.path, "--batch", "5"});
  INFO(drawn);
  std::string total = std::to_string(store.head().position);
  CHECK(drawn.find("rebuild [") != std::string::npos);
  CHECK(drawn.find("100% " + total + "/" + total + " events") != std::string::npos);
  CHECK(drawn.find(" events/s  ETA ") != std::string::npos);
  CHECK(drawn.size() >= 4);
  CHECK(drawn.substr(drawn.size() - 4) == "\r\033[K");  // cleared before the summary on stdout
}

TEST_CASE("ashlar rebuild refuses a store a writer has open, and what is not a store") {
  HelpdeskStore store;
  {
    auto engine = Engine::open(store.path, test::helpdesk_domain()).value();
    CliRun run = run_ashlar({"rebuild", store.path});
    CHECK(run.code == 1);
    REQUIRE(run.err_lines.size() == 1);
    CHECK(run.err_lines[0].find("is already open for writing by another process or engine") != std::string::npos);
    CHECK(run.err_lines[0].find("stop the program that writes it first, or rebuild through it (Engine::rebuild)") !=
          std::string::npos);
  }
  TempDir empty;
  CliRun missing = run_ashlar({"rebuild", empty.sub("nothing")});
  CHECK(missing.code == 1);
  CHECK(missing.err.find("is not an ashlar store") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(empty.sub("nothing")));
}

TEST_CASE("ashlar history prints one record's events, in the shape of ashlar log") {
  HelpdeskStore store;
  std::string id = store.ticket->id().str();
  CliRun json = run_ashlar({"history", store.path, "Ticket", id, "--json"});
  require_ok(json);
  REQUIRE(json.out_lines.size() == 2);
  CliRun log = run_ashlar({"log", store.path, "--json", "--from", std::to_string(store.ticket_created)});
  REQUIRE(log.out_lines.size() == 3);
  CHECK(json.out_lines[0] == log.out_lines[0]);  // the same bytes: one contract
  CHECK(json.out_lines[1] == log.out_lines[1]);
  auto created = nlohmann::json::parse(json.out_lines[0]);
  CHECK(created["actor"] == "alice");
  CHECK(created["inputs"]["subject"] == "Printer-on-fire");
  CHECK(nlohmann::json::parse(json.out_lines[1])["changes"]["status"] == "closed");

  CliRun text = run_ashlar({"history", store.path, "Ticket", id});
  require_ok(text);
  REQUIRE(text.out_lines.size() == 2);
  CHECK(text.out_lines[1].find("Ticket.update (update) id=" + id + " v2") != std::string::npos);

  CliRun none = run_ashlar({"history", store.path, "Ticket", Uuid::v4().str()});
  CHECK(none.code == 1);
  CHECK(none.err.find("has ever existed in " + store.path) != std::string::npos);
  CliRun bad = run_ashlar({"history", store.path, "Ticket", "not-a-uuid"});
  CHECK(bad.code == 1);
  CHECK(bad.err.find("id: not-a-uuid is not a uuid") != std::string::npos);
  CliRun unknown = run_ashlar({"history", store.path, "Nope", id});
  CHECK(unknown.err == "ashlar: the model of " + store.path + " has no resource named Nope\n");
}

TEST_CASE("ashlar state prints a record now or as it stood, with loads, or says why it was not there") {
  HelpdeskStore store;
  std::string id = store.ticket->id().str();
  std::string created = std::to_string(store.ticket_created);
  CliRun now = run_ashlar({"state", store.path, "Ticket", id, "--json"});
  require_ok(now);
  REQUIRE(now.out_lines.size() == 1);
  auto j = nlohmann::json::parse(now.out);
  CHECK(j["status"] == "closed");
  CHECK(j["subject"] == "Printer-on-fire");

  CliRun then = run_ashlar({"state", store.path, "Ticket", id, "--as-of", created, "--load", "representative", "--json"});
  require_ok(then);
  auto t = nlohmann::json::parse(then.out);
  CHECK(t["status"] == "open");
  CHECK(t["representative"]["name"] == "Joe Armstrong");

  CliRun text = run_ashlar({"state", store.path, "Representative", store.rep->id().str(), "--as-of", created,
                            "--load", "tickets"});
  require_ok(text);
  REQUIRE(text.out_lines.size() == 2);
  CHECK(text.out_lines[0].rfind("Representative {id: ", 0) == 0);
  CHECK(text.out_lines[1].find("tickets: Ticket {") != std::string::npos);

  CliRun before = run_ashlar({"state", store.path, "Ticket", id, "--as-of", std::to_string(store.ticket_created - 1)});
  CHECK(before.code == 1);
  CHECK(before.err == "ashlar: no Ticket with primary key " + id + " as of position " +
                          std::to_string(store.ticket_created - 1) + ": it was created at position " + created + "\n");
  CliRun by_time = run_ashlar({"state", store.path, "Ticket", id, "--as-of", "2000-01-01T00:00:00Z"});
  CHECK(by_time.code == 1);
  CHECK(by_time.err.find("as of 2000-01-01T00:00:00.000000Z: it was created at position " + created) !=
        std::string::npos);
  CliRun bad = run_ashlar({"state", store.path, "Ticket", id, "--as-of", "yesterday"});
  CHECK(bad.err == "ashlar: --as-of takes a position (1, 2, ...) or an ISO 8601 time, not yesterday\n");
  CliRun beyond = run_ashlar({"state", store.path, "Ticket", id, "--as-of", "100000"});
  CHECK(beyond.code == 1);
  CHECK(beyond.err.find("position 100000 is past the head") != std::string::npos);
}

TEST_CASE("the command line says what it cannot replay: custom projections and upcasters are code") {
  HelpdeskStore store;
  {
    class Count final : public Projection {
     public:
      std::string name() const override { return "tally"; }
      std::vector<TableSpec> tables() const override { return {{"n"}}; }
      Result<void> apply(StateStore& t, const StoredEvent&) override { return t.put(0, "n", "x"); }
    };
    auto engine = Engine::open(store.path, test::helpdesk_domain(), {.projections = {std::make_shared<Count>()}}).value();
  }
  CliRun verify = run_ashlar({"verify", store.path});
  require_ok(verify);
  CHECK(verify.out.find("; skipped: custom projections tally (C++ code: the program that defines them rebuilds and "
                        "verifies them through Engine::rebuild and Engine::verify)") != std::string::npos);
  CliRun rebuild = run_ashlar({"rebuild", store.path});
  require_ok(rebuild);
  REQUIRE(rebuild.out_lines.size() == 2);
  CHECK(rebuild.out_lines[1].rfind("skipped: custom projections tally", 0) == 0);

  Upcaster noop{.name = "noop", .resource = "Ticket", .model_version = 1, .reshape = [](Event&) { return Result<void>{}; }};
  auto grown = test::helpdesk_domain();
  {
    using namespace ashlar::dsl;
    grown = domain("helpdesk")
                .resource(resource("Representative").uuid_primary_key("id").attribute("name", type::string)
                              .attribute("severity_threshold", type::integer).has_many("tickets", "Ticket")
                              .defaults({"read", "destroy", "create:*", "update:*"}))
                .resource(resource("Ticket").uuid_primary_key("id").attribute("subject", type::string)
                              .attribute("reference", type::string).attribute("status", type::atom)
                              .attribute("priority", type::atom).attribute("severity", type::integer)
                              .attribute("opened_at", type::utc_datetime).attribute("closed_at", type::utc_datetime)
                              .belongs_to("representative", "Representative").identity("unique_reference", {"reference"})
                              .defaults({"read", "destroy", "create:*", "update:*"}))
                .build()
                .value();
    auto engine = Engine::open(store.path, grown, {.upcasters = {noop}}).value();
  }
  CliRun refused = run_ashlar({"rebuild", store.path});
  CHECK(refused.code == 1);
  CHECK(refused.err.find("declares upcasters noop (Ticket, up to model version 1): they are C++ code") !=
        std::string::npos);
  CliRun skipped = run_ashlar({"verify", store.path});
  require_ok(skipped);
  CHECK(skipped.out.find("skipped: projections (upcasters noop (Ticket, up to model version 1) are C++ code: verify "
                         "through Engine::verify)") != std::string::npos);
  CliRun past = run_ashlar({"state", store.path, "Ticket", store.ticket->id().str(), "--as-of", "3"});
  CHECK(past.code == 1);
  CHECK(past.err.find("declares upcasters") != std::string::npos);
}
