// Reading a record's values: a name the resource does not have is an error the caller
// notices, never a silent nil.
#include "support/domains.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

using namespace ashlar;
using ashlar::test::social_domain;
using ashlar::test::TempDir;

namespace {

struct Social {
  TempDir dir;
  Engine engine = Engine::open(dir.path(), social_domain()).value();
  Record ada = engine.create("User", {{"name", "Ada"}}).value();
};

// The error operator[] throws for `name`, or a note that it threw none.
Error thrown_by_index(const Record& record, std::string_view name) {
  try {
    (void)record[name];
  } catch (const Exception& e) {
    return e.error();
  }
  return Error::unknown("operator[] threw nothing");
}

}  // namespace

TEST_CASE_METHOD(Social, "operator[] on a name the resource does not have throws a Framework error naming it") {
  Error e = thrown_by_index(ada, "nmae");
  CHECK(e.cls == ErrorClass::framework);
  CHECK(e.code == codes::kFramework);
  CHECK(e.message == "User has no attribute or load named \"nmae\"");
  CHECK_THROWS_WITH(ada["nmae"], "framework: User has no attribute or load named \"nmae\"");
  // Known attributes read as before, nil ones included.
  CHECK(ada["name"] == Value("Ada"));
  CHECK(ada["follower_count"] == Value(0));
}

TEST_CASE_METHOD(Social, "field() returns the same error as a value, get() is the tolerant form") {
  auto missing = ada.field("nmae");
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.error().cls == ErrorClass::framework);
  CHECK(missing.error().message == "User has no attribute or load named \"nmae\"");
  CHECK(ada.field("name").value() == Value("Ada"));

  CHECK_FALSE(ada.get("nmae").has_value());
  REQUIRE(ada.get("name").has_value());
  CHECK(*ada.get("name") == Value("Ada"));
  Record tweet = engine.create("Tweet", {{"body", "hi"}, {"user_id", ada.id()}}).value();
  REQUIRE(tweet.get("likes").has_value());
  CHECK(*tweet.get("likes") == Value(0));
}

TEST_CASE_METHOD(Social, "an aggregate is read once loaded, before that and for relationships the error says what to do") {
  engine.create("Tweet", {{"body", "hi"}, {"user_id", ada.id()}}).value();
  Error unloaded = thrown_by_index(ada, "tweet_count");
  CHECK(unloaded.cls == ErrorClass::framework);
  CHECK(unloaded.message == "User.tweet_count is an aggregate this record was read without: load it (Query::load) to read it");
  CHECK_FALSE(ada.get("tweet_count").has_value());

  Record loaded = engine.get("User", ada.id(), {.load = {"tweet_count", "tweets"}}).value();
  CHECK(loaded["tweet_count"] == Value(1));
  CHECK(loaded.field("tweet_count").value() == Value(1));

  Error relationship = thrown_by_index(loaded, "tweets");
  CHECK(relationship.message == "User.tweets is a relationship: read it with related(\"tweets\") or one(\"tweets\")");
  CHECK(loaded.related("tweets").size() == 1);
}
