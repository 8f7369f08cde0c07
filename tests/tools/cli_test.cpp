// The `ashlar` command line as users script against it: run the binary on stores the
// engine wrote (and on broken ones) and check stdout, stderr and the exit code.
#include <ashlar/eventlog/bytes.hpp>
#include "support/domains.hpp"
#include "support/run_cli.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>
#include <lmdb.h>
#include <nlohmann/json.hpp>


#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

namespace {

using namespace ashlar;
using nlohmann::json;
using nlohmann::ordered_json;
using test::TempDir;

using Run = test::CliRun;

// Runs the binary with stdout and stderr captured (support/run_cli.hpp).
Run run_cli(const std::vector<std::string>& args) { return test::run_ashlar(args); }

// An error: exactly one line on stderr, "ashlar: ...", a failing exit, nothing printed.
void require_one_line_error(const Run& run, const std::string& mentions) {
  INFO("stdout: " << run.out << "\nstderr: " << run.err);
  CHECK(run.code != 0);
  CHECK(run.out.empty());
  REQUIRE(run.err_lines.size() == 1);
  CHECK(run.err.back() == '\n');
  CHECK(run.err_lines[0].rfind("ashlar: ", 0) == 0);
  CHECK(run.err_lines[0].find(mentions) != std::string::npos);
}

// Overwrites one entry of a named database, bypassing ashlar, as corruption would.
void poke(const std::string& dir, const char* database, const std::string& key, const std::string& value) {
  MDB_env* env = nullptr;
  REQUIRE(mdb_env_create(&env) == 0);
  mdb_env_set_maxdbs(env, 1024);
  REQUIRE(mdb_env_open(env, dir.c_str(), 0, 0644) == 0);
  MDB_txn* txn = nullptr;
  REQUIRE(mdb_txn_begin(env, nullptr, 0, &txn) == 0);
  MDB_dbi dbi = 0;
  REQUIRE(mdb_dbi_open(txn, database, 0, &dbi) == 0);
  MDB_val k{key.size(), const_cast<char*>(key.data())}, v{value.size(), const_cast<char*>(value.data())};
  REQUIRE(mdb_put(txn, dbi, &k, &v, 0) == 0);
  REQUIRE(mdb_txn_commit(txn) == 0);
  mdb_env_close(env);
}

std::string iso(const Value& v) { return v.as_datetime()->str(); }

// A blog store with five events over three resources; the engine is closed after.
struct BlogStore {
  TempDir tmp;
  std::string path = tmp.sub("store");
  std::optional<Record> alice, alice_v2, comment, tag;
  std::vector<StoredEvent> events;  // read back through the library, for comparison

  BlogStore() {
    {
      auto engine = Engine::open(path, test::blog_domain()).value();
      CallOptions admin;
      admin.actor = Value(Map{{"user", "root"}, {"role", Atom{"admin"}}});
      admin.correlation_id = "req-1";
      alice = engine
                  .create("User",
                          {{"name", "Alice"}, {"email", "alice@example.com"}, {"age", 30}, {"password", "hunter2"}},
                          admin)
                  .value();
      comment = engine.create("Comment", {{"content", "Nice\npost!"}, {"user_id", alice->id()}}).value();
      alice_v2 = engine.update("User", alice->id(), {{"age", 31}, {"password", "s3cret-2"}}).value();
      tag = engine
                .create("Tag", {{"scope", "blog"},
                                {"name", "cpp"},
                                {"since", Date{20000}},
                                {"blob", Binary{std::string("\x00\x01\xFF", 3)}},
                                {"meta", Map{{"b", 2}, {"a", "x"}}},
                                {"aliases", Array{"c++", "cxx"}}})
                .value();
      engine.destroy("Comment", comment->id()).value();
    }
    auto log = Log::open_read_only(path).value();
    auto txn = log->read().value();
    log->scan(txn, 1, [&](const StoredEvent& e) {
         events.push_back(e);
         return true;
       })
        .value();
    REQUIRE(events.size() == 5);
  }
};

std::vector<ordered_json> json_lines(const Run& run) {
  std::vector<ordered_json> out;
  for (const auto& line : run.out_lines) out.push_back(ordered_json::parse(line));
  return out;
}

}  // namespace

TEST_CASE("ashlar log --json prints one object per event with exactly the documented keys") {
  BlogStore store;
  Run run = run_cli({"log", store.path, "--json"});
  INFO(run.err);
  REQUIRE(run.code == 0);
  CHECK(run.err.empty());
  auto events = json_lines(run);
  REQUIRE(events.size() == 5);
  const std::vector<std::string> keys = {"position", "sequence", "tx",      "time",   "resource",       "action", "type",
                                         "id",       "version",  "changes", "inputs", "actor", "correlation_id", "hash"};
  for (std::size_t i = 0; i < events.size(); ++i) {
    std::vector<std::string> got;
    for (auto it = events[i].begin(); it != events[i].end(); ++it) got.push_back(it.key());
    CHECK(got == keys);
    const Event& e = store.events[i].event;
    CHECK(events[i]["position"] == i + 1);
    CHECK(events[i]["tx"] == i + 1);  // one event per action: each is its own transaction
    CHECK(events[i]["hash"] == to_hex(store.events[i].hash));
    CHECK(events[i]["time"] == DateTime{e.time_micros}.str());
    CHECK(events[i]["correlation_id"] == e.correlation_id);
    CHECK(std::regex_match(events[i]["time"].get<std::string>(),
                           std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z)")));
  }
  auto column = [&](const char* key) {
    std::vector<json> out;
    for (const auto& e : events) out.push_back(json(e[key]));
    return out;
  };
  CHECK(column("resource") == std::vector<json>{"User", "Comment", "User", "Tag", "Comment"});
  CHECK(column("action") == std::vector<json>{"create", "create", "update", "create", "destroy"});
  CHECK(column("type") == std::vector<json>{"create", "create", "update", "create", "destroy"});
  CHECK(column("sequence") == std::vector<json>{1, 1, 2, 1, 2});
  CHECK(column("version") == std::vector<json>{1, 1, 2, 1, 2});
  CHECK(events[0]["correlation_id"] == "req-1");
}

TEST_CASE("ashlar log --json shows the idempotency key of the events that have one") {
  TempDir tmp;
  std::string path = tmp.sub("store");
  {
    auto engine = Engine::open(path, test::blog_domain()).value();
    CallOptions keyed;
    keyed.idempotency_key = "signup-42";
    engine.create("User", {{"name", "Alice"}}, keyed).value();
    engine.create("User", {{"name", "Alice"}}, keyed).value();  // a retry: no second event
    engine.create("User", {{"name", "Bob"}}).value();
  }
  Run run = run_cli({"log", path, "--json"});
  REQUIRE(run.code == 0);
  auto events = json_lines(run);
  REQUIRE(events.size() == 2);
  CHECK(events[0]["idempotency_key"] == "signup-42");
  std::vector<std::string> keys;
  for (auto it = events[0].begin(); it != events[0].end(); ++it) keys.push_back(it.key());
  CHECK(keys == std::vector<std::string>{"position", "sequence", "tx", "time", "resource", "action", "type", "id",
                                         "version", "changes", "inputs", "actor", "correlation_id",
                                         "idempotency_key", "hash"});
  CHECK_FALSE(events[1].contains("idempotency_key"));
}

TEST_CASE("ashlar log --json encodes ids, changes, inputs and actor, redacting sensitive values") {
  BlogStore store;
  Run run = run_cli({"log", store.path, "--json"});
  REQUIRE(run.code == 0);
  CHECK(run.out.find("hunter2") == std::string::npos);
  CHECK(run.out.find("s3cret-2") == std::string::npos);
  auto events = json_lines(run);
  REQUIRE(events.size() == 5);
  std::string alice_id = store.alice->id().as_uuid()->str();
  std::string created = iso((*store.alice)["inserted_at"]);

  SECTION("a create: every non-nil attribute, the accepted inputs, the actor") {
    CHECK(json(events[0]["id"]) == alice_id);
    CHECK(json(events[0]["changes"]) == json{{"id", alice_id},
                                             {"name", "Alice"},
                                             {"email", "alice@example.com"},
                                             {"age", 30},
                                             {"password", "**redacted**"},
                                             {"role", "member"},
                                             {"inserted_at", created},
                                             {"updated_at", created}});
    CHECK(json(events[0]["inputs"]) ==
          json{{"name", "Alice"}, {"email", "alice@example.com"}, {"age", 30}, {"password", "**redacted**"}});
    CHECK(json(events[0]["actor"]) == json{{"role", "admin"}, {"user", "root"}});
  }
  SECTION("an update: only what changed; no actor is null") {
    CHECK(json(events[2]["id"]) == alice_id);
    CHECK(json(events[2]["changes"]) == json{{"age", 31},
                                             {"password", "**redacted**"},
                                             {"updated_at", iso((*store.alice_v2)["updated_at"])}});
    CHECK(json(events[2]["inputs"]) == json{{"age", 31}, {"password", "**redacted**"}});
    CHECK(events[2]["actor"].is_null());
  }
  SECTION("uuids as strings, control characters escaped") {
    CHECK(json(events[1]["changes"]["user_id"]) == alice_id);
    CHECK(json(events[1]["changes"]["content"]) == "Nice\npost!");
  }
  SECTION("a composite key is an object; every type encodes as value_to_json does") {
    CHECK(json(events[3]["id"]) == json{{"scope", "blog"}, {"name", "cpp"}});
    const auto& c = events[3]["changes"];
    CHECK(c["since"] == Date{20000}.str());
    CHECK(c["blob"] == "AAH/");
    CHECK(json(c["meta"]) == json{{"a", "x"}, {"b", 2}});
    CHECK(json(c["aliases"]) == json{"c++", "cxx"});
    CHECK(c["score"] == 0.5);
    CHECK(c["active"] == true);
  }
  SECTION("a destroy: no changes, no inputs") {
    CHECK(json(events[4]["id"]) == store.comment->id().as_uuid()->str());
    CHECK(events[4]["changes"] == ordered_json::object());
    CHECK(events[4]["inputs"] == ordered_json::object());
  }
}

TEST_CASE("ashlar log --from starts at that position, inclusive") {
  BlogStore store;
  Run run = run_cli({"log", store.path, "--json", "--from", "2"});
  REQUIRE(run.code == 0);
  auto events = json_lines(run);
  REQUIRE(events.size() == 4);
  CHECK(events.front()["position"] == 2);
  CHECK(events.back()["position"] == 5);
  CHECK(events.front()["hash"] == to_hex(store.events[1].hash));

  Run last = run_cli({"log", store.path, "--from", "5"});
  REQUIRE(last.code == 0);
  REQUIRE(last.out_lines.size() == 1);
  CHECK(last.out_lines[0].rfind("5 ", 0) == 0);

  Run past = run_cli({"log", store.path, "--from", "6"});
  CHECK(past.code == 0);
  CHECK(past.out.empty());
  CHECK(past.err.empty());
}

TEST_CASE("ashlar log prints one readable line per event") {
  BlogStore store;
  Run run = run_cli({"log", store.path});
  REQUIRE(run.code == 0);
  CHECK(run.err.empty());
  REQUIRE(run.out_lines.size() == 5);  // the newline inside a comment stays escaped
  CHECK(run.out.find("hunter2") == std::string::npos);
  CHECK(run.out.find("s3cret-2") == std::string::npos);
  std::string alice_id = store.alice->id().as_uuid()->str();
  const std::string& first = run.out_lines[0];
  CHECK(first.rfind("1 " + DateTime{store.events[0].event.time_micros}.str() + " User.create (create) id=" +
                        alice_id + " v1 ",
                    0) == 0);
  CHECK(first.find("password: **redacted**") != std::string::npos);
  CHECK(first.find("name: \"Alice\"") != std::string::npos);
  CHECK(first.find("actor={role: :admin, user: \"root\"}") != std::string::npos);
  CHECK(run.out_lines[1].find("content: \"Nice\\npost!\"") != std::string::npos);
  CHECK(run.out_lines[2].find("User.update (update)") != std::string::npos);
  CHECK(run.out_lines[2].find(" v2 changes={age: 31, password: **redacted**") != std::string::npos);
  CHECK(run.out_lines[2].find("actor=nil") != std::string::npos);
  CHECK(run.out_lines[3].find("Tag.create (create) id={scope: \"blog\", name: \"cpp\"} v1") != std::string::npos);
  CHECK(run.out_lines[4].find("Comment.destroy (destroy)") != std::string::npos);
  CHECK(run.out_lines[4].find("changes={}") != std::string::npos);
}

TEST_CASE("ashlar stats counts events and live records per resource") {
  BlogStore store;
  std::string head_hash = to_hex(store.events.back().hash);
  auto size = std::filesystem::file_size(std::filesystem::path(store.path) / "data.mdb");

  SECTION("as text") {
    Run run = run_cli({"stats", store.path});
    INFO(run.out << run.err);
    REQUIRE(run.code == 0);
    CHECK(run.err.empty());
    CHECK(run.out.find("domain   blog\n") != std::string::npos);
    CHECK(run.out.find("head     5 " + head_hash + "\n") != std::string::npos);
    CHECK(run.out.find("size     " + std::to_string(size) + " bytes\n") != std::string::npos);
    CHECK(run.out.find("format   2\n") != std::string::npos);
    CHECK(std::regex_search(run.out, std::regex(R"(\nresource +events +records\n)")));
    CHECK(std::regex_search(run.out, std::regex(R"(\nUser +2 +1\n)")));
    CHECK(std::regex_search(run.out, std::regex(R"(\nComment +2 +0\n)")));
    CHECK(std::regex_search(run.out, std::regex(R"(\nTag +1 +1\n)")));
  }
  SECTION("as JSON") {
    Run run = run_cli({"stats", store.path, "--json"});
    REQUIRE(run.code == 0);
    REQUIRE(run.out_lines.size() == 1);
    json stats = json::parse(run.out_lines[0]);
    CHECK(stats == json{{"domain", "blog"},
                        {"head", {{"position", 5}, {"hash", head_hash}}},
                        {"size", size},
                        {"format", 2},
                        {"resources",
                         {{"User", {{"events", 2}, {"records", 1}}},
                          {"Comment", {{"events", 2}, {"records", 0}}},
                          {"Tag", {{"events", 1}, {"records", 1}}}}}});
  }
}

TEST_CASE("ashlar on a store with no events prints nothing and a zero head") {
  TempDir tmp;
  std::string path = tmp.sub("store");
  { auto engine = Engine::open(path, test::blog_domain()).value(); }
  Run log = run_cli({"log", path, "--json"});
  CHECK(log.code == 0);
  CHECK(log.out.empty());
  CHECK(log.err.empty());
  Run stats = run_cli({"stats", path, "--json"});
  REQUIRE(stats.code == 0);
  json s = json::parse(stats.out_lines.at(0));
  CHECK(s["head"] == json{{"position", 0}, {"hash", std::string(64, '0')}});
  CHECK(s["resources"]["User"] == json{{"events", 0}, {"records", 0}});
}

TEST_CASE("ashlar stats names the store's format: a store created in format 1 says 1") {
  TempDir tmp;
  std::string path = tmp.sub("store");
  LogOptions first;
  first.format_version = 1;
  { Log::open(path, first).value(); }
  { Engine::open(path, test::blog_domain()).value().create("User", {{"name", "Alice"}}).value(); }
  Run stats = run_cli({"stats", path, "--json"});
  REQUIRE(stats.code == 0);
  json s = json::parse(stats.out_lines.at(0));
  CHECK(s["format"] == 1);
  CHECK(s["resources"]["User"] == json{{"events", 1}, {"records", 1}});
  Run text = run_cli({"stats", path});
  CHECK(text.out.find("format   1\n") != std::string::npos);
  Run verify = run_cli({"verify", path});
  CHECK(verify.code == 0);
}

TEST_CASE("ashlar reads a store while its writer has it open") {
  TempDir tmp;
  std::string path = tmp.sub("store");
  auto engine = Engine::open(path, test::blog_domain()).value();
  engine.create("User", {{"name", "Alice"}}).value();
  Run first = run_cli({"log", path, "--json"});
  REQUIRE(first.code == 0);
  CHECK(first.out_lines.size() == 1);
  engine.create("User", {{"name", "Bob"}}).value();
  Run second = run_cli({"stats", path, "--json"});
  REQUIRE(second.code == 0);
  CHECK(json::parse(second.out_lines.at(0))["resources"]["User"] == json{{"events", 2}, {"records", 2}});
}

TEST_CASE("ashlar refuses a directory that is not an ashlar store with one line") {
  TempDir tmp;
  std::string dir;
  std::string mentions;
  SECTION("a directory that does not exist") {
    dir = tmp.sub("missing");
    mentions = dir + " is not an ashlar store: no such directory";
  }
  SECTION("an empty directory") {
    dir = tmp.path();
    mentions = dir + " is not an ashlar store: it has no data.mdb";
  }
  SECTION("a short data.mdb that is not LMDB") {
    dir = tmp.path();
    std::ofstream(tmp.sub("data.mdb")) << "this is not an LMDB file";
    mentions = dir + " is not an ashlar store: data.mdb is not an LMDB file";
  }
  SECTION("a page-sized data.mdb of garbage") {
    dir = tmp.path();
    std::ofstream out(tmp.sub("data.mdb"), std::ios::binary);
    for (int i = 0; i < 16384; ++i) out.put(static_cast<char>((i * 131 + 7) & 0xFF));
    out.close();
    mentions = dir + " is not an ashlar store: data.mdb is not an LMDB file";
  }
  SECTION("a file, not a directory") {
    dir = tmp.sub("file");
    std::ofstream(dir) << "x";
    mentions = dir + " is not an ashlar store";
  }
  for (const char* command : {"log", "stats"}) {
    INFO(command);
    require_one_line_error(run_cli({command, dir}), mentions);
  }
}

TEST_CASE("ashlar refuses a format version it does not know") {
  BlogStore store;
  poke(store.path, "meta", "format", std::string("\0\0\0\3", 4));
  for (const char* command : {"log", "stats"}) {
    INFO(command);
    require_one_line_error(run_cli({command, store.path}), "format version 3; this build reads versions 1 to 2");
  }
}

TEST_CASE("ashlar log reports an event that does not decode") {
  BlogStore store;
  poke(store.path, "events", be64(2), std::string(32, '\0') + std::string(24, '\xFF'));  // a hash, then the bytes

  SECTION("from the bad event: nothing printed, one line of error") {
    for (const char* json_flag : {"", "--json"}) {
      std::vector<std::string> args = {"log", store.path, "--from", "2"};
      if (*json_flag) args.push_back(json_flag);
      require_one_line_error(run_cli(args), "event at position 2 does not decode");
    }
  }
  SECTION("from the start: the good event is printed, then the error") {
    Run run = run_cli({"log", store.path, "--json"});
    CHECK(run.code != 0);
    REQUIRE(run.out_lines.size() == 1);
    CHECK(ordered_json::parse(run.out_lines[0])["position"] == 1);
    REQUIRE(run.err_lines.size() == 1);
    CHECK(run.err_lines[0] ==
          "ashlar: event at position 2 does not decode: its segment table claims more than its 24 bytes hold");
  }
  SECTION("an event of a size no message has") {
    poke(store.path, "events", be64(2), std::string(32, '\0') + "not an event");
    require_one_line_error(run_cli({"log", store.path, "--from", "2"}),
                           "event at position 2 does not decode: 12 bytes is not a whole message");
  }
}

TEST_CASE("ashlar reports usage errors in one line with exit code 2") {
  BlogStore store;
  std::vector<std::vector<std::string>> cases = {
      {},                                      // no command
      {"frobnicate", store.path},              // unknown command
      {"log"},                                 // no directory
      {"log", store.path, "--from", "0"},      // positions start at 1
      {"log", store.path, "--from", "-1"},     // not 2^64 - 1
      {"log", store.path, "--from", "0x10"},   // decimal only
      {"log", store.path, "--from", "99999999999999999999"},
      {"log", store.path, "--bogus"},
  };
  for (const auto& args : cases) {
    Run run = run_cli(args);
    INFO(run.err);
    CHECK(run.code == 2);
    CHECK(run.out.empty());
    CHECK(run.err_lines.size() == 1);
    CHECK(run.err.rfind("ashlar: ", 0) == 0);
  }
  Run help = run_cli({"log", "--help"});
  CHECK(help.code == 0);
  CHECK(help.out.find("--from") != std::string::npos);
}
