// The tweets example: users who tweet and follow each other, and tweets tagged with
// hashtags through a join resource — every kind of relationship of the Ash guide
// "Relationships" (belongs_to, has_many, has_one sorted, many_to_many), loaded in
// batches, nested, filtered and aggregated.
//
//   build/bin/tweets ./tweets-data
//   build/bin/ashlar query ./tweets-data Tweet --load hashtags,user --json

#include <ashlar/ashlar.hpp>

#include <iostream>
#include <string>
#include <vector>

namespace {

using namespace ashlar;
using namespace ashlar::dsl;

Domain social_domain() {
  return domain("social")
      .resource(resource("User")
                    .uuid_primary_key("id")
                    .attribute("name", type::string, {.allow_nil = false})
                    .has_many("tweets", "Tweet")                              // Tweet.user_id
                    .has_one("latest_tweet", "Tweet", {.sort = "-inserted_at"})  // the newest of them
                    // Follow(follower_id, followee_id): my followers are the rows that follow me.
                    .many_to_many("followers", "User",
                                  {.through = "Follow",
                                   .source_attribute_on_join_resource = "followee_id",
                                   .destination_attribute_on_join_resource = "follower_id"})
                    .aggregate("tweet_count", AggregateKind::count, "tweets")
                    .aggregate("total_likes", AggregateKind::sum, "tweets", "likes")
                    .identity("unique_name", {"name"})
                    .defaults({"read", "destroy", "create:*", "update:*"}))
      .resource(resource("Tweet")
                    .uuid_primary_key("id")
                    .attribute("body", type::string, {.allow_nil = false, .constraints = {.max_length = 280}})
                    .attribute("likes", type::integer, {.default_value = 0})
                    .create_timestamp("inserted_at")
                    .belongs_to("user", "User", {.allow_nil = false})
                    // Through TweetHashtag(tweet_id, hashtag_id): the join attributes default
                    // to "<side in snake case>_id".
                    .many_to_many("hashtags", "Hashtag", {.through = "TweetHashtag"})
                    .defaults({"read", "destroy", "create:*", "update:*"}))
      .resource(resource("Hashtag")
                    .uuid_primary_key("id")
                    .attribute("name", type::string, {.allow_nil = false})
                    .many_to_many("tweets", "Tweet", {.through = "TweetHashtag"})
                    .identity("unique_name", {"name"})
                    .defaults({"read", "destroy", "create:*", "update:*"}))
      .resource(resource("TweetHashtag")  // the join resource: its key is both sides
                    .belongs_to("tweet", "Tweet", {.primary_key = true})
                    .belongs_to("hashtag", "Hashtag", {.primary_key = true})
                    .defaults({"read", "destroy", "create:*"}))
      .resource(resource("Follow")
                    .belongs_to("follower", "User", {.primary_key = true})
                    .belongs_to("followee", "User", {.primary_key = true})
                    .defaults({"read", "destroy", "create:*"}))
      .build()
      .value();
}

// Strings and atoms as plain text; anything else in its canonical form.
std::string text(const Value& value) {
  if (const auto* s = value.as_string()) return *s;
  if (const auto* a = value.as_atom()) return a->name;
  return value.str();
}

std::string names(const std::vector<Record>& records, const char* attribute = "name") {
  std::string out;
  for (const auto& r : records) out += (out.empty() ? "" : ", ") + text(r[attribute]);
  return out.empty() ? "(none)" : out;
}

class Story {
 public:
  explicit Story(Engine& engine) : engine_(engine) {}

  Record user(const char* name) {
    auto u = engine_.create("User", {{"name", name}}, as_).value();
    std::cout << "joined: " << name << "\n";
    return u;
  }
  Record tweet(const Record& by, const char* body, int likes, std::vector<const char*> tags) {
    auto t = engine_.create("Tweet", {{"body", body}, {"likes", likes}, {"user_id", by.id()}}, as_).value();
    for (const char* tag : tags) {
      // One hashtag per name (its identity), created the first time it is used.
      auto found = engine_.get_by("Hashtag", "unique_name", {{"name", tag}});
      Record hashtag = found ? *found : engine_.create("Hashtag", {{"name", tag}}, as_).value();
      engine_.create("TweetHashtag", {{"tweet_id", t.id()}, {"hashtag_id", hashtag.id()}}, as_).value();
    }
    std::cout << text(by["name"]) << " tweeted \"" << body << "\" (" << likes << " likes)\n";
    return t;
  }
  void follow(const Record& follower, const Record& followee) {
    engine_.create("Follow", {{"follower_id", follower.id()}, {"followee_id", followee.id()}}, as_).value();
    std::cout << text(follower["name"]) << " follows " << text(followee["name"]) << "\n";
  }

 private:
  Engine& engine_;
  const CallOptions as_{.actor = "tweets-example"};
};

void read_tweets(const Engine& engine) {
  // belongs_to and many_to_many at once; the hashtags sorted by a customized load query.
  auto tweets = engine.read("Tweet", {.sort = {SortKey::desc("likes")},
                                      .load = {"user", Load("hashtags", {.sort = {SortKey::asc("name")}})}})
                    .value();
  std::cout << "\ntweets, most liked first (loaded: user, hashtags):\n";
  for (const auto& t : tweets)
    std::cout << "  " << text(t["likes"]) << "  \"" << text(t["body"]) << "\" by " << text((*t.one("user"))["name"])
              << "  #" << names(t.related("hashtags")) << "\n";

  // The other way through the join resource, nested: each #cpp tweet with its author.
  auto cpp = engine.get_by("Hashtag", "unique_name", {{"name", "cpp"}},
                           {.load = {Load("tweets", {.sort = {SortKey::asc("body")}, .load = {"user"}})}})
                 .value();
  std::cout << "\n#cpp (get_by unique_name; loaded: tweets.user):\n";
  for (const auto& t : cpp.related("tweets"))
    std::cout << "  \"" << text(t["body"]) << "\" by " << text((*t.one("user"))["name"]) << "\n";

  // A filter through the many-to-many: tweets with a hashtag named "ash".
  auto tagged = engine.read("Tweet", {.filter = parse_expr("exists(hashtags, name == \"ash\")").value(),
                                      .sort = {SortKey::asc("body")}})
                    .value();
  std::cout << "\ntweets tagged #ash (filter exists(hashtags, name == \"ash\")): " << names(tagged, "body") << "\n";
}

void read_users(const Engine& engine) {
  // Aggregates sort and load; has_one takes the newest tweet; followers: [tweets].
  auto users = engine.read("User", {.sort = {SortKey::desc("total_likes"), SortKey::asc("name")},
                                    .load = {"tweet_count", "total_likes", "latest_tweet",
                                             Load("followers", {.sort = {SortKey::asc("name")}, .load = {"tweets"}})}})
                   .value();
  std::cout << "\nusers by total likes (loaded: tweet_count, total_likes, latest_tweet, followers.tweets):\n";
  for (const auto& u : users) {
    const Record* latest = u.one("latest_tweet");
    std::cout << "  " << text(u["name"]) << ": " << text(u["tweet_count"]) << " tweets, " << text(u["total_likes"])
              << " likes, latest " << (latest ? "\"" + text((*latest)["body"]) + "\"" : std::string("(none)")) << "\n";
    for (const auto& f : u.related("followers"))
      std::cout << "    followed by " << text(f["name"]) << " (" << f.related("tweets").size() << " tweets)\n";
  }

  // Users with more than one tweet, by an aggregate in a filter.
  auto busy = engine.read("User", {.filter = count("tweets") > 1}).value();
  std::cout << "\nusers with more than one tweet (filter count(tweets) > 1): " << names(busy) << "\n";
}

int run(const std::string& dir) {
  auto engine = Engine::open(dir, social_domain()).value();
  std::cout << "the tweets in " << dir << "\n\n";
  Story story(engine);
  auto alice = story.user("alice"), bob = story.user("bob"), carol = story.user("carol");
  story.tweet(alice, "Loading relationships in batches", 12, {"cpp", "ash"});
  story.tweet(bob, "Event sourcing is just a log", 3, {"cpp"});
  story.tweet(alice, "Filters read like Ash expressions", 7, {"ash"});
  story.tweet(bob, "Coffee first", 1, {});
  story.follow(bob, alice);
  story.follow(carol, alice);
  story.follow(alice, bob);

  read_tweets(engine);
  read_users(engine);
  std::cout << "\nfrom the shell, with the model stored in the log:\n"
            << "  ashlar query " << dir << " User --sort -total_likes --load total_likes,followers,tweets.hashtags\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: " << argv[0] << " DIR\n"
              << "  runs the tweets story against the ashlar store in DIR (created if missing)\n";
    return 2;
  }
  try {
    return run(argv[1]);
  } catch (const std::exception& e) {  // a .value() on an error: a failure of the example
    std::cerr << "tweets: " << e.what() << "\n";
    return 1;
  }
}
