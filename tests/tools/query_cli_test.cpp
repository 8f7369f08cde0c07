// `ashlar query` as users script against it: stores the engine wrote, read by the binary
// with the stored model; exact JSON lines, readable text, and one-line errors.
#include "support/domains.hpp"
#include "support/run_cli.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>


#include <algorithm>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

namespace {

using namespace ashlar;
using nlohmann::ordered_json;
using test::TempDir;

using Run = test::CliRun;

// Runs `ashlar query ARGS...` with stdout and stderr captured (support/run_cli.hpp).
Run query(std::vector<std::string> args) {
  args.insert(args.begin(), "query");
  return test::run_ashlar(args);
}

std::vector<std::string> ok_lines(const Run& run) {
  INFO("stderr: " << run.err);
  REQUIRE(run.code == 0);
  REQUIRE(run.err.empty());
  return run.out_lines;
}

// One line on stderr, "ashlar: <message>", nothing on stdout, the exit code given.
void require_error(const Run& run, int code, const std::string& message) {
  INFO("stdout: " << run.out << "\nstderr: " << run.err);
  CHECK(run.code == code);
  CHECK(run.out.empty());
  REQUIRE(run.err_lines.size() == 1);
  CHECK(run.err_lines[0] == "ashlar: " + message);
}

// The JSON a record prints as: its attributes in declaration order, then `extra` (loaded
// aggregates and relationships, in load order).
ordered_json record_json(const Record& r, const ordered_json& extra = ordered_json::object()) {
  ordered_json out = ordered_json::object();
  for (const auto& a : r.resource().attributes())
    out[a.name] = a.sensitive ? ordered_json("**redacted**") : ordered_json(value_to_json(r[a.name]));
  for (const auto& [k, v] : extra.items()) out[k] = v;
  return out;
}

std::string line(const Record& r, const ordered_json& extra = ordered_json::object()) {
  return record_json(r, extra).dump();
}

// A to-many load as the runtime returns it: in the destination's primary key order
// (index entries are sorted), which for uuids is the order of their text.
ordered_json many(std::vector<Record> records, const std::function<ordered_json(const Record&)>& extra = {}) {
  std::sort(records.begin(), records.end(), [](const Record& a, const Record& b) { return a.id().str() < b.id().str(); });
  ordered_json out = ordered_json::array();
  for (const auto& r : records) out.push_back(record_json(r, extra ? extra(r) : ordered_json::object()));
  return out;
}

// The reference's helpdesk: two representatives, five tickets (one closed, one with no
// representative), written by the engine, which is closed before the binary reads.
struct HelpdeskStore {
  TempDir tmp;
  std::string path = tmp.sub("store");
  std::optional<Record> rita, sam, fire, reset, vpn, laptop, stray;

  HelpdeskStore() {
    auto engine = Engine::open(path, test::helpdesk_domain(), {.durability = Durability::no_sync}).value();
    rita = engine.create("Representative", {{"name", "Rita"}}).value();  // threshold 2
    sam = engine.create("Representative", {{"name", "Sam"}, {"severity_threshold", 5}}).value();
    auto ticket = [&](const char* ref, const char* subject, const char* priority, int severity, const Record* rep) {
      std::this_thread::sleep_for(std::chrono::microseconds(20));  // distinct opened_at
      Fields inputs{{"reference", ref}, {"subject", subject}, {"priority", priority}, {"severity", severity}};
      if (rep) inputs.emplace_back("representative_id", rep->id());
      return engine.create("Ticket", inputs).value();
    };
    fire = ticket("HD-1", "Printer on fire", "high", 4, &*rita);
    reset = ticket("HD-2", "Password reset", "low", 1, &*rita);
    vpn = ticket("HD-3", "VPN drops", "medium", 3, &*rita);
    laptop = ticket("HD-4", "Laptop will not boot", "high", 3, &*sam);
    stray = ticket("HD-5", "Who owns this?", "medium", 2, nullptr);
    reset = engine.update("Ticket", reset->id(), {{"status", "closed"}}).value();
  }
};

}  // namespace

TEST_CASE("ashlar query filters in Ash's expression syntax and sorts by Ash's sort input") {
  HelpdeskStore s;
  CHECK(ok_lines(query({s.path, "Ticket", "--filter", "status == :open and priority in [:medium, :high]", "--sort",
                        "-severity,reference", "--json"})) ==
        std::vector<std::string>{line(*s.fire), line(*s.vpn), line(*s.laptop), line(*s.stray)});
  // Through a to-one relationship, and with not / is_nil.
  CHECK(ok_lines(query({s.path, "Ticket", "--filter", "representative.severity_threshold < severity", "--sort",
                        "reference", "--json"})) == std::vector<std::string>{line(*s.fire), line(*s.vpn)});
  CHECK(ok_lines(query({s.path, "Ticket", "--filter", "is_nil(representative_id) or not (status == :open)", "--sort",
                        "reference", "--json"})) == std::vector<std::string>{line(*s.reset), line(*s.stray)});
  // Several keys: priority's atoms sort by name (high, low, medium), ties by -opened_at.
  CHECK(ok_lines(query({s.path, "Ticket", "--sort", "priority,-opened_at", "--json"})) ==
        std::vector<std::string>{line(*s.laptop), line(*s.fire), line(*s.reset), line(*s.stray), line(*s.vpn)});
}

TEST_CASE("ashlar query pages with --limit and --offset") {
  HelpdeskStore s;
  auto page = [&](const char* limit, const char* offset) {
    return ok_lines(query({s.path, "Ticket", "--sort", "reference", "--limit", limit, "--offset", offset, "--json"}));
  };
  CHECK(page("2", "0") == std::vector<std::string>{line(*s.fire), line(*s.reset)});
  CHECK(page("2", "2") == std::vector<std::string>{line(*s.vpn), line(*s.laptop)});
  CHECK(page("2", "4") == std::vector<std::string>{line(*s.stray)});
  CHECK(page("2", "5").empty());
  CHECK(page("0", "0").empty());
  require_error(query({s.path, "Ticket", "--limit", "-1"}), 2,
                "--limit: must be a count: 0, 1, ... (got -1) (see ashlar --help)");
}

TEST_CASE("ashlar query pages by keyset cursors: --cursor prints them, --after and --before take them") {
  HelpdeskStore s;
  auto page = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = {s.path, "Ticket", "--sort", "reference", "--json"};
    args.insert(args.end(), extra.begin(), extra.end());
    return ok_lines(query(args));
  };
  // Each line leads with the record's cursor; the rest is the line without --cursor.
  auto first = page({"--limit", "2", "--cursor"});
  REQUIRE(first.size() == 2);
  std::vector<std::string> cursors;
  for (std::size_t i = 0; i < first.size(); ++i) {
    auto j = ordered_json::parse(first[i]);
    REQUIRE(j.begin().key() == "$cursor");
    cursors.push_back(j["$cursor"]);
    j.erase("$cursor");
    CHECK(j.dump() == line(i == 0 ? *s.fire : *s.reset));
  }
  // Forwards from the page's last record, backwards from its second.
  CHECK(page({"--limit", "2", "--after", cursors[1]}) == std::vector<std::string>{line(*s.vpn), line(*s.laptop)});
  CHECK(page({"--after", cursors[1]}) == std::vector<std::string>{line(*s.vpn), line(*s.laptop), line(*s.stray)});
  CHECK(page({"--before", cursors[1]}) == std::vector<std::string>{line(*s.fire)});
  CHECK(page({"--before", cursors[0]}).empty());

  require_error(query({s.path, "Ticket", "--after", "garbage"}), 2,
                "Ticket.read: invalid input: after: is not a cursor this query returned");
  // A cursor of another sort is not this query's either.
  require_error(query({s.path, "Ticket", "--sort", "-opened_at", "--before", cursors[0]}), 2,
                "Ticket.read: invalid input: before: is not a cursor this query returned");
  require_error(query({s.path, "Ticket", "--cursor"}), 2, "--cursor requires --json (see ashlar --help)");
  require_error(query({s.path, "Ticket", "--after", cursors[0], "--before", cursors[1]}), 2,
                "--after excludes --before (see ashlar --help)");
}

TEST_CASE("ashlar query runs a read action with typed arguments: the reference's Ticket.top") {
  HelpdeskStore s;
  std::string rita = "user_id=" + s.rita->id().str();
  // Open medium/high tickets of Rita, newest first (prepare build(sort: [opened_at: :desc])).
  CHECK(ok_lines(query({s.path, "Ticket", "--action", "top", "--arg", rita, "--json"})) ==
        std::vector<std::string>{line(*s.vpn), line(*s.fire)});
  // The caller's filter is and-ed with the action's; a caller's limit replaces its limit.
  CHECK(ok_lines(query({s.path, "Ticket", "--action", "top", "--arg", rita, "--filter", "severity > 3", "--json"})) ==
        std::vector<std::string>{line(*s.fire)});
  CHECK(ok_lines(query({s.path, "Ticket", "--action", "top", "--arg", rita, "--limit", "1", "--json"})) ==
        std::vector<std::string>{line(*s.vpn)});

  require_error(query({s.path, "Ticket", "--action", "top"}), 2, "Ticket.top: invalid input: user_id: is required");
  require_error(query({s.path, "Ticket", "--action", "top", "--arg", "user_id=nope", "--arg", "colour=red"}), 2,
                "Ticket.top: 2 invalid inputs: colour: is not an argument of Ticket.top; user_id: \"nope\" is not a uuid");
  require_error(query({s.path, "Ticket", "--action", "top", "--arg", rita, "--arg", rita}), 2,
                "--arg: user_id is given twice");
  require_error(query({s.path, "Ticket", "--arg", "user_id"}), 2,
                "--arg: must be NAME=VALUE (got user_id) (see ashlar --help)");
  require_error(query({s.path, "Ticket", "--action", "lowest"}), 2, "Ticket has no action named lowest");
  require_error(query({s.path, "Ticket", "--action", "create"}), 2, "Ticket.create is a create action, not a read action");
}

TEST_CASE("ashlar query casts --arg values by the read action's argument types") {
  TempDir tmp;
  std::string path = tmp.sub("store");
  std::optional<Record> cheap, dear;
  {
    using namespace ashlar::dsl;
    auto shop = domain("shop")
                    .resource(resource("Item")
                                  .uuid_primary_key("id")
                                  .attribute("stock", type::integer)
                                  .attribute("price", type::floating)
                                  .attribute("active", type::boolean)
                                  .defaults({"read", "create:*"})
                                  .read("pick", {.arguments = {argument("min_stock", type::integer, {.allow_nil = false}),
                                                               argument("max_price", type::floating, {.allow_nil = false}),
                                                               argument("enabled", type::boolean, {.allow_nil = false})},
                                                 .filter = ref("stock") >= arg("min_stock") &&
                                                           ref("price") <= arg("max_price") &&
                                                           ref("active") == arg("enabled")}))
                    .build()
                    .value();
    auto engine = Engine::open(path, shop, {.durability = Durability::no_sync}).value();
    cheap = engine.create("Item", {{"stock", 5}, {"price", 2.5}, {"active", true}}).value();
    dear = engine.create("Item", {{"stock", 9}, {"price", 99.0}, {"active", true}}).value();
  }
  // "3" is an integer, cast to the float argument; "2.75" a float.
  CHECK(ok_lines(query({path, "Item", "--action", "pick", "--arg", "min_stock=1", "--arg", "max_price=3", "--arg",
                        "enabled=true", "--json"})) == std::vector<std::string>{line(*cheap)});
  CHECK(ok_lines(query({path, "Item", "--action", "pick", "--arg", "min_stock=6", "--arg", "max_price=100.25", "--arg",
                        "enabled=true", "--json"})) == std::vector<std::string>{line(*dear)});
  CHECK(ok_lines(query({path, "Item", "--action", "pick", "--arg", "min_stock=1", "--arg", "max_price=2.75", "--arg",
                        "enabled=false"}))
            .empty());
  require_error(query({path, "Item", "--action", "pick", "--arg", "min_stock=many", "--arg", "max_price=1.5", "--arg",
                       "enabled=yes"}),
                2, "Item.pick: 2 invalid inputs: min_stock: expected integer, got string; enabled: expected boolean, got string");
}

TEST_CASE("ashlar query nests loaded relationships and aggregates under their names") {
  HelpdeskStore s;
  // belongs_to: an object, or null where nothing is related.
  auto rep = [&](const Record& r) { return ordered_json{{"representative", record_json(r)}}; };
  CHECK(ok_lines(query({s.path, "Ticket", "--filter", "severity >= 3 or is_nil(representative_id)", "--sort", "reference",
                        "--load", "representative", "--json"})) ==
        std::vector<std::string>{line(*s.fire, rep(*s.rita)), line(*s.vpn, rep(*s.rita)), line(*s.laptop, rep(*s.sam)),
                                 line(*s.stray, {{"representative", nullptr}})});
  // has_many, nested back to the parent (comments.user style), and an aggregate.
  auto back = [&](const Record& t) { return ordered_json{{"representative", record_json(t["representative_id"] == s.rita->id() ? *s.rita : *s.sam)}}; };
  ordered_json rita{{"ticket_count", 3}, {"tickets", many({*s.fire, *s.reset, *s.vpn}, back)}};
  ordered_json sam{{"ticket_count", 1}, {"tickets", many({*s.laptop}, back)}};
  CHECK(ok_lines(query({s.path, "Representative", "--sort", "name", "--load", "ticket_count,tickets.representative",
                        "--json"})) == std::vector<std::string>{line(*s.rita, rita), line(*s.sam, sam)});
  // A filter and sort by an aggregate.
  CHECK(ok_lines(query({s.path, "Representative", "--filter", "ticket_count < 2", "--json"})) ==
        std::vector<std::string>{line(*s.sam)});
}

TEST_CASE("ashlar query prints one readable line per record, related records indented") {
  HelpdeskStore s;
  auto lines = ok_lines(query({s.path, "Ticket", "--filter", "reference in [\"HD-4\", \"HD-5\"]", "--sort", "reference",
                               "--load", "representative.tickets"}));
  auto ticket = [](const Record& t) {
    return "Ticket {id: " + t.id().str() + ", subject: \"" + *t["subject"].as_string() + "\", reference: \"" +
           *t["reference"].as_string() + "\", status: " + t["status"].str() + ", priority: " + t["priority"].str() +
           ", severity: " + t["severity"].str() + ", opened_at: " + t["opened_at"].str() +
           ", closed_at: nil, representative_id: " + t["representative_id"].str() + "}";
  };
  CHECK(lines == std::vector<std::string>{
                     ticket(*s.laptop),
                     "  representative: Representative {id: " + s.sam->id().str() + ", name: \"Sam\", severity_threshold: 5}",
                     "    tickets: " + ticket(*s.laptop),
                     ticket(*s.stray),
                     "  representative: nil",
                 });
  // An empty to-many load; a loaded aggregate inside the braces.
  CHECK(ok_lines(query({s.path, "Ticket", "--filter", "reference == \"HD-1\"", "--load", "more_severe_tickets"})) ==
        std::vector<std::string>{ticket(*s.fire), "  more_severe_tickets: []"});
  CHECK(ok_lines(query({s.path, "Representative", "--filter", "name == \"Sam\"", "--load", "ticket_count"})) ==
        std::vector<std::string>{"Representative {id: " + s.sam->id().str() +
                                 ", name: \"Sam\", severity_threshold: 5, ticket_count: 1}"});
}

TEST_CASE("ashlar query loads many-to-many through the join resource") {
  TempDir tmp;
  std::string path = tmp.sub("store");
  std::optional<Record> alice, bob, t1, t2, cpp, ash;
  {
    auto engine = Engine::open(path, test::social_domain(), {.durability = Durability::no_sync}).value();
    alice = engine.create("User", {{"name", "alice"}}).value();
    bob = engine.create("User", {{"name", "bob"}}).value();
    t1 = engine.create("Tweet", {{"body", "batched loads"}, {"likes", 5}, {"user_id", alice->id()}}).value();
    t2 = engine.create("Tweet", {{"body", "hello"}, {"user_id", bob->id()}}).value();
    cpp = engine.create("Hashtag", {{"name", "cpp"}}).value();
    ash = engine.create("Hashtag", {{"name", "ash"}}).value();
    for (const auto& [t, h] : {std::pair{*t1, *cpp}, std::pair{*t1, *ash}, std::pair{*t2, *cpp}})
      engine.create("TweetHashtag", {{"tweet_id", t.id()}, {"hashtag_id", h.id()}}).value();
    engine.create("Follow", {{"follower_id", bob->id()}, {"followee_id", alice->id()}}).value();
  }
  CHECK(ok_lines(query({path, "Tweet", "--sort", "body", "--load", "hashtags", "--json"})) ==
        std::vector<std::string>{line(*t1, {{"hashtags", many({*cpp, *ash})}}), line(*t2, {{"hashtags", many({*cpp})}})});
  // The other way, nested: each tweet of #cpp with its author.
  auto author = [&](const Record& t) { return ordered_json{{"user", record_json(t["user_id"] == alice->id() ? *alice : *bob)}}; };
  CHECK(ok_lines(query({path, "Hashtag", "--filter", "name == \"cpp\"", "--load", "tweets.user", "--json"})) ==
        std::vector<std::string>{line(*cpp, {{"tweets", many({*t1, *t2}, author)}})});
  // A self-referencing many-to-many, a has_one and two aggregates at once.
  // Aggregates print after the attributes, relationships after them.
  ordered_json a{{"tweet_count", 1}, {"total_likes", 5}, {"followers", many({*bob})}, {"latest_tweet", record_json(*t1)}};
  CHECK(ok_lines(query({path, "User", "--filter", "name == \"alice\"", "--load",
                        "followers,latest_tweet,tweet_count,total_likes", "--json"})) ==
        std::vector<std::string>{line(*alice, a)});
  CHECK(ok_lines(query({path, "Tweet", "--filter", "exists(hashtags, name == \"ash\")", "--json"})) ==
        std::vector<std::string>{line(*t1)});
}

TEST_CASE("ashlar query redacts sensitive attributes, loaded ones too") {
  TempDir tmp;
  std::string path = tmp.sub("store");
  std::optional<Record> alice;
  {
    auto engine = Engine::open(path, test::blog_domain(), {.durability = Durability::no_sync}).value();
    alice = engine.create("User", {{"name", "Alice"}, {"password", "hunter2"}}).value();
  }
  auto lines = ok_lines(query({path, "User", "--json"}));
  REQUIRE(lines == std::vector<std::string>{line(*alice)});
  CHECK(nlohmann::json::parse(lines[0])["password"] == "**redacted**");
  auto text = ok_lines(query({path, "User"}));
  REQUIRE(text.size() == 1);
  CHECK(text[0].find("password: **redacted**") != std::string::npos);
  CHECK(text[0].find("hunter2") == std::string::npos);

  // A cursor carries its record's sort values: none is printed for a sort on a sensitive
  // attribute.
  require_error(query({path, "User", "--sort", "password", "--json", "--cursor"}), 2,
                "--cursor: the sort has password, which is sensitive; a cursor would carry its values");
  auto with_cursor = ok_lines(query({path, "User", "--sort", "name", "--json", "--cursor"}));
  REQUIRE(with_cursor.size() == 1);
  CHECK(base64_decode(nlohmann::json::parse(with_cursor[0])["$cursor"].get<std::string>())->find("hunter2") ==
        std::string::npos);
}

TEST_CASE("ashlar query refuses --cursor for a sort through a relationship to a sensitive attribute") {
  TempDir tmp;
  std::string path = tmp.sub("store");
  {
    using namespace ashlar::dsl;
    auto d = domain("vault")
                 .resource(resource("Owner")
                               .uuid_primary_key("id")
                               .attribute("secret", type::string, {.sensitive = true})
                               .defaults({"read", "create:*"}))
                 .resource(resource("Item")
                               .uuid_primary_key("id")
                               .attribute("label", type::string)
                               .belongs_to("owner", "Owner")
                               .defaults({"read", "create:*"}))
                 .build()
                 .value();
    auto engine = Engine::open(path, d, {.durability = Durability::no_sync}).value();
    auto owner = engine.create("Owner", {{"secret", "s3cret"}}).value();
    engine.create("Item", {{"label", "one"}, {"owner_id", owner.id()}}).value();
  }
  require_error(query({path, "Item", "--sort", "label,-owner.secret", "--json", "--cursor"}), 2,
                "--cursor: the sort has owner.secret, which is sensitive; a cursor would carry its values");
  CHECK(ok_lines(query({path, "Item", "--sort", "label", "--json", "--cursor"})).size() == 1);
}

TEST_CASE("ashlar query reports bad queries in one line, with the parser's column") {
  HelpdeskStore s;
  require_error(query({s.path, "Ticket", "--filter", "status == "}), 2,
                "--filter: at column 11: expected a value after \"==\", found end of input");
  require_error(query({s.path, "Ticket", "--filter", "colour == \"red\""}), 2,
                "Ticket.read: invalid input: filter: Ticket has no attribute colour");
  require_error(query({s.path, "Ticket", "--filter", "representative.age > 3"}), 2,
                "Ticket.read: invalid input: filter: Representative has no attribute age");
  require_error(query({s.path, "Ticket", "--sort", "-opened_at,,priority"}), 2,
                "--sort: at column 12: expected a field name, found \",\"");
  require_error(query({s.path, "Ticket", "--sort", "size"}), 2,
                "Ticket.read: invalid input: sort: Ticket has no attribute size");
  require_error(query({s.path, "Tiket"}), 2, "domain helpdesk has no resource named Tiket");
  require_error(query({s.path, "Ticket", "--load", "representative.friends"}), 2,
                "Ticket.read: invalid input: load: Representative has no relationship, aggregate or calculation "
                "named friends");
  require_error(query({s.path, "Ticket", "--load", "representative..tickets"}), 2,
                "--load: \"representative..tickets\" has an empty name");
  // The manual relationship's code is not in the store: said, not silently empty.
  require_error(query({s.path, "Representative", "--load", "tickets_above_threshold"}), 2,
                "Representative.read: invalid input: load: Representative.tickets_above_threshold is a manual "
                "relationship: its code is in the program that declared it, not in the stored model, so a read-only "
                "store cannot load it");
  // Not a store at all: the store's fault, exit 1.
  TempDir empty;
  auto missing = query({empty.sub("nothing-here"), "Ticket"});
  CHECK(missing.code == 1);
  REQUIRE(missing.err_lines.size() == 1);
  CHECK(missing.err_lines[0].rfind("ashlar: ", 0) == 0);
  CHECK(missing.err_lines[0].find("nothing-here") != std::string::npos);
}

// A filter of thousands of terms joined by one operator used to overflow the stack (a
// SIGSEGV): evaluating, printing and destroying it recursed once per term.
TEST_CASE("ashlar query answers a filter of thousands of terms and refuses one past the limits") {
  HelpdeskStore s;
  // 2000 alternatives, about 40 KB and 8000 nodes: within the limits, answered.
  std::string alternatives;
  for (int i = 2000; i >= 3; --i) alternatives += "severity == " + std::to_string(i) + " or ";
  alternatives += "severity == -1";
  CHECK(ok_lines(query({s.path, "Ticket", "--filter", alternatives, "--sort", "reference", "--json"})) ==
        std::vector<std::string>{line(*s.fire), line(*s.vpn), line(*s.laptop)});

  // 6000 terms (about 24 KB): the 5000th "+" (each "1 + " is 4 bytes) makes node 10001.
  std::string sum = "1";
  for (int i = 1; i < 6000; ++i) sum += " + 1";
  require_error(query({s.path, "Ticket", "--filter", sum + " > severity"}), 2,
                "--filter: at column 19999: too complex: more than the limit of 10000 nodes (values, "
                "names and operators)");

  // 25000 terms, 100 KB of text: past the length limit.
  std::string longer = "1";
  for (int i = 1; i < 25000; ++i) longer += " + 1";
  require_error(query({s.path, "Ticket", "--filter", longer + " > severity"}), 2,
                "--filter: too long: 100008 bytes, more than the limit of 65536");

  std::string sort = "reference";
  for (int i = 0; i < 64; ++i) sort += ",severity";
  require_error(query({s.path, "Ticket", "--sort", sort}), 2,
                "--sort: at column 578: too complex: more than the limit of 64 keys");
}

TEST_CASE("ashlar query reads beside a running writer and sees each committed action") {
  TempDir tmp;
  std::string path = tmp.sub("store");
  auto engine = Engine::open(path, test::helpdesk_domain(), {.durability = Durability::no_sync}).value();
  auto rita = engine.create("Representative", {{"name", "Rita"}}).value();
  CHECK(ok_lines(query({path, "Representative", "--json"})) == std::vector<std::string>{line(rita)});
  auto renamed = engine.update("Representative", rita.id(), {{"name", "Rita M."}}).value();
  CHECK(ok_lines(query({path, "Representative", "--json"})) == std::vector<std::string>{line(renamed)});
}

TEST_CASE("ashlar query loads, filters and sorts by calculations the stored model holds") {
  TempDir tmp;
  std::string path = tmp.sub("store");
  std::optional<Record> ada, alan;
  {
    using namespace ashlar::dsl;
    auto code = calculation([](const std::vector<Record>& rs, const CalculationContext&) -> Result<std::vector<Value>> {
      return std::vector<Value>(rs.size(), Value("x"));
    });
    auto d = domain("people")
                 .resource(resource("Person")
                               .uuid_primary_key("id")
                               .attribute("first", type::string)
                               .attribute("last", type::string)
                               .calculate("full_name", type::string, concat(concat(ref("first"), " "), ref("last")))
                               .calculate("badge", type::string, code)
                               .defaults({"read", "create:*"}))
                 .build()
                 .value();
    auto engine = Engine::open(path, d, {.durability = Durability::no_sync}).value();
    ada = engine.create("Person", {{"first", "Ada"}, {"last", "Lovelace"}}).value();
    alan = engine.create("Person", {{"first", "Alan"}, {"last", "Turing"}}).value();
  }
  CHECK(ok_lines(query({path, "Person", "--sort", "-full_name", "--load", "full_name", "--json"})) ==
        std::vector<std::string>{line(*alan, {{"full_name", "Alan Turing"}}), line(*ada, {{"full_name", "Ada Lovelace"}})});
  CHECK(ok_lines(query({path, "Person", "--filter", "string_length(full_name) > 11", "--load", "full_name"})) ==
        std::vector<std::string>{"Person {id: " + ada->id().str() +
                                 ", first: \"Ada\", last: \"Lovelace\", full_name: \"Ada Lovelace\"}"});
  // A calculation in C++ code is listed in the stored model, but only its program computes it.
  require_error(query({path, "Person", "--load", "badge"}), 2,
                "Person.read: Person.badge is a calculation in C++ code, which a stored model does not hold; compute "
                "it in the program that declares it");
}

TEST_CASE("ashlar query, state, history and log take --tenant: another tenant's records are not there") {
  using namespace ashlar::dsl;
  TempDir dir;
  std::string path = dir.path() + "/store";
  std::optional<Record> apollo, vostok;
  {
    auto saas = domain("saas")
                    .resource(resource("Project")
                                  .uuid_primary_key("id")
                                  .attribute("org_id", type::string)
                                  .attribute("name", type::string)
                                  .multitenancy({.strategy = Multitenancy::attribute, .attribute = "org_id"})
                                  .defaults({"read", "create:*"}))
                    .build()
                    .value();
    auto engine = Engine::open(path, saas, {.durability = Durability::no_sync}).value();
    apollo = engine.create("Project", {{"name", "Apollo"}}, {.tenant = "acme"}).value();
    vostok = engine.create("Project", {{"name", "Vostok"}}, {.tenant = "globex"}).value();
  }
  CHECK(ok_lines(query({path, "Project", "--tenant", "acme", "--json"})) == std::vector<std::string>{line(*apollo)});
  CHECK(ok_lines(query({path, "Project", "--tenant", "globex", "--json"})) == std::vector<std::string>{line(*vostok)});
  require_error(query({path, "Project"}), 2,
                "Project.read: tenant is required: tenant: Project is multitenant by org_id; every call on it gives a tenant");

  std::string acme_id = apollo->id().str();
  auto state = test::run_ashlar({"state", path, "Project", acme_id, "--tenant", "acme", "--json"});
  CHECK(state.code == 0);
  CHECK(state.out_lines == std::vector<std::string>{line(*apollo)});
  auto hidden = test::run_ashlar({"state", path, "Project", acme_id, "--tenant", "globex"});
  CHECK(hidden.code != 0);
  CHECK(hidden.out.empty());

  auto history = test::run_ashlar({"history", path, "Project", acme_id, "--tenant", "acme"});
  CHECK(history.code == 0);
  CHECK(history.out_lines.size() == 1);
  auto elsewhere = test::run_ashlar({"history", path, "Project", acme_id, "--tenant", "globex"});
  CHECK(elsewhere.code != 0);
  CHECK(elsewhere.out.empty());

  auto log = test::run_ashlar({"log", path, "--tenant", "globex", "--json"});
  REQUIRE(log.code == 0);
  REQUIRE(log.out_lines.size() == 1);
  CHECK(ordered_json::parse(log.out_lines[0])["position"] == 2);
  CHECK(test::run_ashlar({"log", path}).out_lines.size() == 2);
  // Each event's tenant, after its correlation id.
  auto all = test::run_ashlar({"log", path, "--json"});
  REQUIRE(all.out_lines.size() == 2);
  auto first = ordered_json::parse(all.out_lines[0]);
  CHECK(first["tenant"] == "acme");
  CHECK(ordered_json::parse(all.out_lines[1])["tenant"] == "globex");
  std::vector<std::string> keys;
  for (auto it = first.begin(); it != first.end(); ++it) keys.push_back(it.key());
  CHECK(keys == std::vector<std::string>{"position", "sequence", "tx", "time", "resource", "action", "type", "id",
                                         "version", "changes", "inputs", "actor", "correlation_id", "tenant", "hash"});
}
