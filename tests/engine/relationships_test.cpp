// Relationships: Ash's defaults, build-time checks, and loads served in batches.
#include "support/domains.hpp"
#include "support/engine_helpers.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <fmt/format.h>

#include <thread>

using namespace ashlar;
using namespace ashlar::dsl;
using ashlar::test::TempDir;

namespace {

std::vector<std::string> names_of(const std::vector<Record>& records, const char* field = "name") {
  std::vector<std::string> out;
  for (const auto& r : records) out.push_back(r[field].as_string() ? *r[field].as_string() : r[field].str());
  return out;
}

struct Social {
  TempDir dir;
  Engine engine = Engine::open(dir.path(), test::social_domain(), {.durability = Durability::no_sync}).value();

  Record user(const char* name) { return engine.create("User", {{"name", name}}).value(); }
  Record tweet(const Record& by, const char* body, int likes = 0) {
    std::this_thread::sleep_for(std::chrono::microseconds(5));  // distinct inserted_at
    return engine.create("Tweet", {{"body", body}, {"user_id", by.id()}, {"likes", likes}}).value();
  }
  void follow(const Record& follower, const Record& followee) {
    engine.create("Follow", {{"follower_id", follower.id()}, {"followee_id", followee.id()}}).value();
  }
  Record tag(const Record& t, const char* name) {
    auto found = engine.get_by("Hashtag", "unique_name", {{"name", name}});
    Record h = found ? *found : engine.create("Hashtag", {{"name", name}}).value();
    engine.create("TweetHashtag", {{"tweet_id", t.id()}, {"hashtag_id", h.id()}}).value();
    return h;
  }
};

}  // namespace

TEST_CASE("relationship attributes default as in Ash") {
  auto d = test::social_domain();
  const Resource* tweet = d.resource("Tweet");
  const Relationship* user = tweet->relationship("user");
  REQUIRE(user != nullptr);
  CHECK(user->source_attribute == "user_id");
  CHECK(user->destination_attribute == "id");
  CHECK(tweet->attribute("user_id")->type == type::uuid);
  CHECK_FALSE(tweet->attribute("user_id")->allow_nil);
  const Relationship* tweets = d.resource("User")->relationship("tweets");
  CHECK(tweets->source_attribute == "id");
  CHECK(tweets->destination_attribute == "user_id");  // <source in snake case>_id
  const Relationship* hashtags = tweet->relationship("hashtags");
  CHECK(hashtags->source_attribute_on_join_resource == "tweet_id");
  CHECK(hashtags->destination_attribute_on_join_resource == "hashtag_id");
  // The join resource's key is its two belongs_to attributes.
  CHECK(d.resource("TweetHashtag")->primary_key().size() == 2);
  // Loads look related records up by these indexes.
  CHECK(d.resource("Tweet")->indexed_attributes() == std::vector<std::string>{"user_id"});
  CHECK(d.resource("TweetHashtag")->indexed_attributes() == std::vector<std::string>{"tweet_id", "hashtag_id"});

  auto custom = domain("d")
                    .resource(resource("Owner").attribute("code", type::integer, {.primary_key = true}))
                    .resource(resource("Pet")
                                  .uuid_primary_key("id")
                                  .belongs_to("owner", "Owner", {.destination_attribute = "code", .attribute_type = type::integer})
                                  .attribute("keeper_code", type::integer)
                                  .belongs_to("keeper", "Owner",
                                              {.source_attribute = "keeper_code", .destination_attribute = "code",
                                               .define_attribute = false}))
                    .build()
                    .value();
  CHECK(custom.resource("Pet")->attribute("owner_id")->type == type::integer);
  CHECK(custom.resource("Pet")->relationship("keeper")->source_attribute == "keeper_code");
}

TEST_CASE("build rejects a relationship whose resource or attributes do not exist, naming both") {
  auto d = domain("d")
               .resource(resource("Post")
                             .uuid_primary_key("id")
                             .has_many("comments", "Comment")
                             .belongs_to("author", "Person")
                             .belongs_to("editor", "Post", {.source_attribute = "editor_ref", .define_attribute = false})
                             .many_to_many("tags", "Post", {.through = "Tagging"})
                             .has_many("drafts", "Post", {.filter = ref("colour") == "red", .no_attributes = true}))
               .resource(resource("Comment").uuid_primary_key("id"))
               .build();
  REQUIRE_FALSE(d.has_value());
  std::vector<std::string> problems;
  for (const auto& f : d.error().fields) problems.push_back(f.field + ": " + f.message);
  CHECK(problems == std::vector<std::string>{
                        "Post.comments: destination attribute post_id does not exist on Comment",
                        "Post.author: relates to Person, which is not a resource of domain d",
                        "Post.editor: source attribute editor_ref does not exist on Post",
                        "Post.tags: goes through Tagging, which is not a resource of domain d",
                        "Post.drafts: filter: Post has no attribute colour",
                    });
}

TEST_CASE("belongs_to, has_many, has_one and many_to_many load as the reference describes") {
  Social s;
  auto alice = s.user("alice"), bob = s.user("bob"), carol = s.user("carol");
  auto t1 = s.tweet(alice, "first", 3), t2 = s.tweet(alice, "second", 5), t3 = s.tweet(bob, "hello");
  s.follow(bob, alice);
  s.follow(carol, alice);
  s.tag(t1, "cpp");
  s.tag(t1, "ash");
  s.tag(t3, "cpp");

  auto a = s.engine.get("User", alice.id(), {.load = {"tweets", "latest_tweet", "followers"}}).value();
  auto bodies = names_of(a.related("tweets"), "body");
  std::sort(bodies.begin(), bodies.end());
  CHECK(bodies == std::vector<std::string>{"first", "second"});
  REQUIRE(a.one("latest_tweet") != nullptr);
  CHECK((*a.one("latest_tweet"))["body"] == Value("second"));
  auto followers = names_of(a.related("followers"));
  std::sort(followers.begin(), followers.end());
  CHECK(followers == std::vector<std::string>{"bob", "carol"});

  auto tweet = s.engine.get("Tweet", t1.id(), {.load = {"user", Load("hashtags", {.sort = {SortKey::asc("name")}})}}).value();
  REQUIRE(tweet.one("user") != nullptr);
  CHECK((*tweet.one("user"))["name"] == Value("alice"));
  CHECK(names_of(tweet.related("hashtags")) == std::vector<std::string>{"ash", "cpp"});

  // Loaded but empty is distinguishable from not loaded.
  auto c = s.engine.get("User", carol.id(), {.load = {"latest_tweet"}}).value();
  CHECK(c.loaded("latest_tweet"));
  CHECK(c.one("latest_tweet") == nullptr);
  CHECK_FALSE(c.loaded("tweets"));
}

TEST_CASE("nested loads and customized load queries: sorted, filtered, limited per parent") {
  Social s;
  auto alice = s.user("alice"), bob = s.user("bob"), carol = s.user("carol");
  s.follow(bob, alice);
  s.follow(carol, alice);
  s.follow(alice, bob);
  s.tweet(bob, "b1", 1);
  s.tweet(bob, "b2", 9);
  s.tweet(carol, "c1", 4);

  // followers: [tweets, followers]
  auto a = s.engine.get("User", alice.id(), {.load = {Load("followers", {.sort = {SortKey::asc("name")}, .load = {"tweets", "followers"}})}}).value();
  const auto& followers = a.related("followers");
  REQUIRE(names_of(followers) == std::vector<std::string>{"bob", "carol"});
  CHECK(followers[0].related("tweets").size() == 2);
  CHECK(names_of(followers[0].related("followers")) == std::vector<std::string>{"alice"});
  CHECK(followers[1].related("followers").empty());

  // The best tweet of each user, and only tweets with likes, by a customized query.
  auto users = s.engine.read("User", {.sort = {SortKey::asc("name")},
                                      .load = {Load("tweets", {.filter = ref("likes") > 2, .sort = {SortKey::desc("likes")}, .limit = 1})}})
                   .value();
  REQUIRE(users.size() == 3);
  CHECK(users[0].related("tweets").empty());                              // alice: none
  CHECK(names_of(users[1].related("tweets"), "body") == std::vector<std::string>{"b2"});  // bob: best of two
  CHECK(names_of(users[2].related("tweets"), "body") == std::vector<std::string>{"c1"});

  // A strict load selects only the named fields (the key stays).
  auto strict = s.engine.get("User", bob.id(), {.load = {Load("tweets", {.select = {"likes"}})}}).value();
  for (const auto& t : strict.related("tweets")) {
    CHECK(t["body"].is_null());
    CHECK_FALSE(t["likes"].is_null());
    CHECK_FALSE(t.id().is_null());
  }
  // Paths as the command line takes them.
  auto paths = parse_load_paths("followers.tweets,followers.followers,tweets");
  REQUIRE(paths.size() == 2);
  CHECK(paths[0].name == "followers");
  CHECK(paths[0].query.load.size() == 2);
}

TEST_CASE("no_attributes relationships use parent(...) in their filter") {
  TempDir dir;
  auto engine = Engine::open(dir.path(), test::helpdesk_domain()).value();
  auto rep = engine.create("Representative", {{"name", "Rita"}}).value();
  for (int severity : {1, 2, 3})
    engine.create("Ticket", {{"subject", fmt::format("s{}", severity)}, {"severity", severity}, {"representative_id", rep.id()}}).value();
  auto tickets = engine.read("Ticket", {.sort = {SortKey::asc("severity")}, .load = {"more_severe_tickets"}}).value();
  REQUIRE(tickets.size() == 3);
  CHECK(tickets[0].related("more_severe_tickets").size() == 2);
  CHECK(tickets[1].related("more_severe_tickets").size() == 1);
  CHECK(tickets[2].related("more_severe_tickets").empty());
}

TEST_CASE("a manual relationship loads the reference's tickets above threshold") {
  TempDir dir;
  auto engine = Engine::open(dir.path(), test::helpdesk_domain()).value();
  auto low = engine.create("Representative", {{"name", "Lou"}, {"severity_threshold", 1}}).value();
  auto high = engine.create("Representative", {{"name", "Hal"}, {"severity_threshold", 3}}).value();
  for (const auto& rep : {low, high})
    for (int severity : {1, 2, 3, 4})
      engine.create("Ticket", {{"subject", "t"}, {"severity", severity}, {"representative_id", rep.id()}}).value();
  auto reps = engine.read("Representative", {.sort = {SortKey::asc("name")},
                                             .load = {Load("tickets_above_threshold", {.select = {"severity"}})}})
                  .value();
  REQUIRE(reps.size() == 2);
  auto severities = [](const Record& rep) {
    std::vector<std::int64_t> out;
    for (const auto& t : rep.related("tickets_above_threshold")) out.push_back(*t["severity"].as_int());
    std::sort(out.begin(), out.end());
    return out;
  };
  CHECK(severities(reps[0]) == std::vector<std::int64_t>{4});        // Hal: above 3
  CHECK(severities(reps[1]) == std::vector<std::int64_t>{2, 3, 4});  // Lou: above 1
  // Strict: only severity (and the key) selected.
  CHECK(reps[1].related("tickets_above_threshold").front()["subject"].is_null());
}

TEST_CASE("loading a relationship costs one lookup per distinct key, never one query per record") {
  Social s;
  std::vector<Record> users;
  for (int i = 0; i < 10; ++i) users.push_back(s.user(fmt::format("u{}", i).c_str()));
  for (int i = 0; i < 200; ++i) s.tweet(users[i % 10], "t");
  const auto& counter = s.engine.log().counters().lookups;

  // 200 tweets by 10 users: their users are 10 distinct keys.
  auto tweets = s.engine.read("Tweet").value();
  auto before = counter.load();
  auto loaded = s.engine.load(tweets, {"user"}).value();
  CHECK(counter.load() - before == 10);
  for (const auto& t : loaded) REQUIRE(t.one("user") != nullptr);

  // has_many for 10 users: one index lookup each, then one get per tweet found.
  before = counter.load();
  auto with_tweets = s.engine.load(s.engine.read("User").value(), {"tweets"}).value();
  auto scans = 1;  // the read of User
  CHECK(counter.load() - before == static_cast<std::uint64_t>(scans + 10 + 200));
  std::size_t total = 0;
  for (const auto& u : with_tweets) total += u.related("tweets").size();
  CHECK(total == 200);

  // Nested: level by level, so the users of all tweets of all users are 10 lookups.
  before = counter.load();
  s.engine.read("User", {.load = {Load("tweets", {.load = {"user"}})}}).value();
  CHECK(counter.load() - before == static_cast<std::uint64_t>(1 + 10 + 200 + 10));
}

TEST_CASE("aggregates load, filter and sort") {
  Social s;
  auto alice = s.user("alice"), bob = s.user("bob"), carol = s.user("carol");
  s.tweet(alice, "a1", 3);
  s.tweet(alice, "a2", 4);
  s.tweet(bob, "b1", 10);
  auto users = s.engine.read("User", {.sort = {SortKey::desc("total_likes")}, .load = {"tweet_count", "total_likes"}}).value();
  CHECK(names_of(users) == std::vector<std::string>{"bob", "alice", "carol"});
  CHECK(users[0]["tweet_count"] == Value(1));
  CHECK(users[1]["total_likes"] == Value(7));
  CHECK(users[2]["total_likes"] == Value(0));

  auto busy = s.engine.read("User", {.filter = count("tweets") > 1}).value();
  CHECK(names_of(busy) == std::vector<std::string>{"alice"});
  auto by_name = s.engine.read("User", {.filter = ref("tweet_count") == 0}).value();
  CHECK(names_of(by_name) == std::vector<std::string>{"carol"});
  auto text = s.engine.read("User", {.filter = parse_expr("exists(tweets, likes > 5)").value()}).value();
  CHECK(names_of(text) == std::vector<std::string>{"bob"});
  auto best = s.engine.read("User", {.filter = max("tweets", "likes") >= 4, .sort = {SortKey::asc("name")}}).value();
  CHECK(names_of(best) == std::vector<std::string>{"alice", "bob"});
  auto listed = s.engine.read("User", {.filter = contains(list("tweets", "body"), "a2")}).value();
  CHECK(names_of(listed) == std::vector<std::string>{"alice"});
  auto firsts = s.engine.read("User", {.filter = first("tweets", "likes") == 10}).value();
  CHECK(names_of(firsts) == std::vector<std::string>{"bob"});
  auto least = s.engine.read("User", {.filter = min("tweets", "likes") == 3}).value();
  CHECK(names_of(least) == std::vector<std::string>{"alice"});
}

TEST_CASE("loading an unknown relationship is Invalid naming it") {
  Social s;
  auto u = s.user("u");
  auto r = s.engine.get("User", u.id(), {.load = {"friends"}});
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().fields.at(0) == FieldError{"load", "unknown_relationship", "User has no relationship, aggregate or calculation named friends"});
}

TEST_CASE("first and list skip nil values, in the relationship's order, as Ash's do without include_nil?") {
  TempDir dir;
  auto d = domain("d")
               .resource(resource("User")
                             .uuid_primary_key("id")
                             .attribute("name", type::string)
                             .has_many("notes", "Note", {.sort = "rank"})
                             .aggregate("first_mood", AggregateKind::first, "notes", "mood")
                             .aggregate("moods", AggregateKind::list, "notes", "mood")
                             .defaults({"read", "create:*"}))
               .resource(resource("Note")
                             .uuid_primary_key("id")
                             .attribute("rank", type::integer)
                             .attribute("mood", type::string)
                             .belongs_to("user", "User")
                             .defaults({"read", "create:*"}))
               .build()
               .value();
  Engine e = Engine::open(dir.path(), d, {.durability = Durability::no_sync}).value();
  auto u = e.create("User", {{"name", "u"}}).value();
  auto quiet = e.create("User", {{"name", "quiet"}}).value();
  e.create("Note", {{"rank", 3}, {"mood", "glad"}, {"user_id", u.id()}}).value();
  e.create("Note", {{"rank", 1}, {"user_id", u.id()}}).value();
  e.create("Note", {{"rank", 2}, {"mood", "calm"}, {"user_id", u.id()}}).value();
  e.create("Note", {{"rank", 1}, {"user_id", quiet.id()}}).value();

  auto loaded = e.get("User", u.id(), {.load = {"first_mood", "moods"}}).value();
  CHECK(loaded["first_mood"] == Value("calm"));
  CHECK(loaded["moods"] == Value(Array{"calm", "glad"}));
  CHECK(e.get("User", quiet.id(), {.load = {"first_mood"}}).value()["first_mood"].is_null());
  CHECK(e.read("User", {.filter = first("notes", "mood") == "calm"}).value().size() == 1);
  // With a filter: the first matching note that has a mood.
  Expr ranked = aggregate(Aggregate{AggregateKind::first, {"notes"}, "mood", ref("rank") >= 1});
  CHECK(e.read("User", {.filter = ranked == "calm"}).value().size() == 1);
  Expr late = aggregate(Aggregate{AggregateKind::first, {"notes"}, "mood", ref("rank") >= 3});
  CHECK(e.read("User", {.filter = late == "glad"}).value().size() == 1);
}
