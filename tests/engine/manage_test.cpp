// manage_relationship: the guide's types and options, on each kind of relationship, the
// events each writes, and failures that keep nothing.
#include "support/log_contents.hpp"
#include "support/temp_dir.hpp"

#include <ashlar/ashlar.hpp>

#include <catch2/catch.hpp>

#include <fmt/format.h>

#include <algorithm>

using namespace ashlar;
using namespace ashlar::dsl;
using ashlar::test::TempDir;

namespace {

ActionStep managed(std::string argument, std::string relationship, manage::Options o) {
  return changes::manage_relationship(std::move(argument), std::move(relationship), std::move(o));
}

// Posts with an author (belongs_to), comments (has_many), a cover (has_one) and tags
// (many_to_many through PostTag, whose `added_by` is a join key). Each update action
// below manages one relationship one way.
Domain press() {
  auto defaults = std::vector<std::string>{"read", "destroy", "create:*", "update:*"};
  return domain("press")
      .resource(resource("Author")
                    .uuid_primary_key("id")
                    .attribute("name", type::string, {.allow_nil = false})
                    .identity("unique_name", {"name"})
                    .defaults(defaults))
      .resource(resource("Tag")
                    .uuid_primary_key("id")
                    .attribute("name", type::string, {.allow_nil = false, .constraints = {.max_length = 12}})
                    .attribute("color", type::string)
                    .identity("unique_name", {"name"})
                    .defaults(defaults))
      .resource(resource("PostTag")
                    .belongs_to("post", "Post", {.allow_nil = false, .primary_key = true})
                    .belongs_to("tag", "Tag", {.allow_nil = false, .primary_key = true})
                    .attribute("added_by", type::string)
                    .defaults(defaults))
      .resource(resource("Comment")
                    .uuid_primary_key("id")
                    .attribute("body", type::string, {.allow_nil = false})
                    .attribute("score", type::integer, {.default_value = 0})
                    .belongs_to("post", "Post")
                    .defaults(defaults)
                    .update("rate", {.accept = {"score"}})
                    .destroy("purge"))
      .resource(resource("Cover")
                    .uuid_primary_key("id")
                    .attribute("url", type::string, {.allow_nil = false})
                    .belongs_to("post", "Post")
                    .defaults(defaults))
      .resource(
          resource("Post")
              .uuid_primary_key("id")
              .attribute("title", type::string, {.allow_nil = false})
              .belongs_to("author", "Author")
              .has_many("comments", "Comment")
              .has_one("cover", "Cover")
              .many_to_many("tags", "Tag", {.through = "PostTag"})
              .defaults(defaults)
              .create("publish", {.accept = {"title"},
                                  .arguments = {argument("tags", type::array(type::string)),
                                                argument("comments", type::array(type::map)),
                                                argument("author", type::map)},
                                  .steps = {managed("tags", "tags", {.type = manage::Type::append_and_remove,
                                                                    .value_is_key = "name",
                                                                    .on_lookup = manage::Lookup::relate,
                                                                    .on_no_match = manage::NoMatch::create}),
                                            managed("comments", "comments", {.type = manage::Type::direct_control}),
                                            managed("author", "author", {.type = manage::Type::create})}})
              .update("retag", {.arguments = {argument("tags", type::array(type::string))},
                                .steps = {managed("tags", "tags", {.type = manage::Type::append_and_remove,
                                                                  .value_is_key = "name",
                                                                  .on_lookup = manage::Lookup::relate,
                                                                  .on_no_match = manage::NoMatch::create})}})
              .update("add_tags", {.arguments = {argument("tags", type::array(type::map))},
                                   .steps = {managed("tags", "tags", {.type = manage::Type::append,
                                                                     .use_identities = {"_primary_key", "unique_name"},
                                                                     .join_keys = {"added_by"}})}})
              .update("remove_tags", {.arguments = {argument("tags", type::array(type::string))},
                                      .steps = {managed("tags", "tags", {.type = manage::Type::remove, .value_is_key = "name"})}})
              .update("edit_comments", {.arguments = {argument("comments", type::array(type::map))},
                                        .steps = {managed("comments", "comments", {.type = manage::Type::direct_control})}})
              .update("add_comment", {.arguments = {argument("add_comment", type::map, {.allow_nil = false})},
                                      .steps = {managed("add_comment", "comments", {.type = manage::Type::create})}})
              .update("adopt_comments", {.arguments = {argument("comments", type::array(type::uuid))},
                                         .steps = {managed("comments", "comments", {.type = manage::Type::append_and_remove})}})
              .update("set_author", {.arguments = {argument("writer_id", type::uuid)},
                                     .steps = {managed("writer_id", "author", {.type = manage::Type::append_and_remove})}})
              .update("set_cover", {.arguments = {argument("cover", type::map)},
                                    .steps = {managed("cover", "cover", {.type = manage::Type::direct_control})}})
              // A destroy action takes no inputs: a custom change manages the comments,
              // none given, so each is missing and destroyed through Comment.purge.
              .destroy("retract", {.steps = {changes::change([](Changeset& cs) {
                         return cs.manage_relationship("comments", Value(Array{}),
                                                       {.type = manage::Type::direct_control,
                                                        .on_missing = manage::OnMissing{manage::Missing::destroy, "purge"}});
                       })}}))
      .build()
      .value();
}

struct Press {
  TempDir dir;
  Engine engine = Engine::open(dir.path(), press(), {.durability = Durability::no_sync}).value();

  std::uint64_t head() const { return test::log_length(engine.log()); }
  Record post(const char* title = "Hello") { return engine.create("Post", {{"title", title}}).value(); }
  Record tag(const char* name) { return engine.create("Tag", {{"name", name}}).value(); }
  Result<Record> update(const Record& post, const char* action, Fields inputs) {
    return engine.update("Post", post.id(), inputs, {.action = action});
  }
  std::vector<std::string> names(const Record& post, const char* rel, const char* field = "name") {
    auto got = engine.get("Post", post.id(), {.load = {Load(rel)}}).value();
    std::vector<std::string> out;
    for (const auto& r : got.related(rel)) out.push_back(*r[field].as_string());
    std::sort(out.begin(), out.end());
    return out;
  }
  std::size_t count(const char* resource) { return engine.read(resource).value().size(); }
};

// The records' ids and versions, in order: what a caller sees of a loaded relationship.
std::vector<std::string> shown(const std::vector<Record>& records) {
  std::vector<std::string> out;
  for (const auto& r : records) out.push_back(r.id().str() + "@" + std::to_string(r.version()));
  return out;
}

Value strings(std::initializer_list<const char*> xs) {
  Array out;
  for (const char* x : xs) out.emplace_back(x);
  return out;
}

}  // namespace

TEST_CASE("manage_relationship append_and_remove by name relates, creates and unrelates tags") {
  Press p;
  Record post = p.post();
  p.tag("ash");
  auto retagged = p.update(post, "retag", {{"tags", strings({"ash", "elixir"})}});
  REQUIRE(retagged);
  CHECK(p.names(post, "tags") == std::vector<std::string>{"ash", "elixir"});
  CHECK(p.count("Tag") == 2);  // "ash" related, "elixir" created
  // The result carries the relationship as it now stands: as a load reads it.
  CHECK(shown(retagged->related("tags")) ==
        shown(p.engine.get("Post", post.id(), {.load = {Load("tags")}}).value().related("tags")));

  REQUIRE(p.update(post, "retag", {{"tags", strings({"elixir", "phoenix"})}}));
  CHECK(p.names(post, "tags") == std::vector<std::string>{"elixir", "phoenix"});
  CHECK(p.count("Tag") == 3);      // unrelating "ash" leaves the tag itself
  CHECK(p.count("PostTag") == 2);  // its join record is destroyed

  SECTION("an empty list unrelates them all") {
    REQUIRE(p.update(post, "retag", {{"tags", Array{}}}));
    CHECK(p.names(post, "tags").empty());
    CHECK(p.count("PostTag") == 0);
  }
  SECTION("an action not given the argument manages nothing") {
    REQUIRE(p.update(post, "retag", {}));
    CHECK(p.names(post, "tags") == std::vector<std::string>{"elixir", "phoenix"});
  }
}

TEST_CASE("manage_relationship writes each nested action as its own event in the parent's transaction") {
  Press p;
  Record post = p.post();
  p.tag("ash");
  std::uint64_t before = p.head();
  REQUIRE(p.update(post, "retag", {{"tags", strings({"ash", "elixir"})}}));
  auto events = test::all_events(p.engine.log(), before + 1);
  std::vector<std::string> kinds;
  for (const auto& e : events) kinds.push_back(e.event.resource + "." + e.event.action);
  // The parent first (its after_action manages), then: relate "ash" (a join record),
  // create "elixir" and relate it.
  CHECK(kinds == std::vector<std::string>{"Post.retag", "PostTag.create", "Tag.create", "PostTag.create"});
  for (const auto& e : events) {
    CHECK(e.event.tx == events.front().event.position);
    CHECK(e.event.correlation_id == events.front().event.correlation_id);
  }
}

TEST_CASE("manage_relationship lookups are batched and the related records are loaded once") {
  Press p;
  Record post = p.post();
  for (int i = 0; i < 20; ++i) p.tag(fmt::format("t{}", i).c_str());
  Array names;
  for (int i = 0; i < 40; ++i) names.emplace_back(fmt::format("t{}", i % 30));  // 30 distinct, 20 existing
  auto done = p.update(post, "retag", {{"tags", Value(names)}});
  REQUIRE(done);
  // Duplicates in the input name the same record: related once, created once.
  CHECK(p.names(post, "tags").size() == 30);
  CHECK(p.count("Tag") == 30);
}

TEST_CASE("manage_relationship on_no_match error and on_lookup relate: every unknown name at once, nothing kept") {
  Press p;
  Record post = p.post();
  p.tag("ash");
  std::uint64_t before = p.head();
  auto r = p.update(post, "remove_tags", {{"tags", strings({"ash", "nope"})}});
  REQUIRE_FALSE(r);
  CHECK(r.error().cls == ErrorClass::invalid);
  // remove: "ash" is not related to the post, nor "nope": neither matches.
  REQUIRE(r.error().fields.size() == 2);
  CHECK(r.error().fields[0].field == "tags[0]");
  CHECK(r.error().fields[0].code == "no_match");
  CHECK(r.error().fields[0].message == "matches no Tag related through tags");
  CHECK(p.head() == before);

  auto added = p.update(post, "add_tags", {{"tags", Value(Array{Value(Map{{"name", "ash"}}), Value(Map{{"name", "zzz"}}),
                                                               Value(Map{{"name", "yyy"}})})}});
  REQUIRE_FALSE(added);
  REQUIRE(added.error().fields.size() == 2);
  CHECK(added.error().fields[0] == FieldError{"tags[1]", "not_found", "no Tag with name \"zzz\""});
  CHECK(added.error().fields[1].field == "tags[2]");
  CHECK(p.head() == before);  // "ash" was not related either
  CHECK(p.count("PostTag") == 0);
}

TEST_CASE("manage_relationship append relates by any identity and writes join keys on the join record") {
  Press p;
  Record post = p.post();
  Record ash = p.tag("ash");
  Record elixir = p.tag("elixir");
  REQUIRE(p.update(post, "add_tags", {{"tags", Value(Array{Value(Map{{"id", ash.id()}, {"added_by", "ann"}}),
                                                            Value(Map{{"name", "elixir"}, {"added_by", "bob"}})})}}));
  auto joins = p.engine.read("PostTag").value();
  REQUIRE(joins.size() == 2);
  for (const auto& j : joins)
    CHECK(*j["added_by"].as_string() == (j["tag_id"] == ash.id() ? "ann" : "bob"));
  // append ignores what is already related (on_match ignore), and never unrelates.
  std::uint64_t before = p.head();
  REQUIRE(p.update(post, "add_tags", {{"tags", Value(Array{Value(Map{{"name", "ash"}})})}}));
  CHECK(p.head() == before + 1);  // the Post.add_tags event alone
  CHECK(p.names(post, "tags") == std::vector<std::string>{"ash", "elixir"});
  (void)elixir;
}

TEST_CASE("manage_relationship remove unrelates the named tags only") {
  Press p;
  Record post = p.post();
  REQUIRE(p.update(post, "retag", {{"tags", strings({"a", "b", "c"})}}));
  REQUIRE(p.update(post, "remove_tags", {{"tags", strings({"b"})}}));
  CHECK(p.names(post, "tags") == std::vector<std::string>{"a", "c"});
}

TEST_CASE("manage_relationship direct_control creates, updates and destroys has_many records") {
  Press p;
  auto made = p.engine.create("Post", {{"title", "T"},
                                       {"comments", Value(Array{Value(Map{{"body", "first"}}), Value(Map{{"body", "second"}})})}},
                              {.action = "publish"});
  REQUIRE(made);
  Record post = *made;
  CHECK(p.names(post, "comments", "body") == std::vector<std::string>{"first", "second"});
  auto comments = p.engine.read("Comment").value();
  REQUIRE(comments.size() == 2);
  const Record& first = *std::find_if(comments.begin(), comments.end(), [](const Record& c) { return c["body"] == Value("first"); });
  CHECK(first["post_id"] == post.id());

  // The input names "first" by id (updated), adds a third, and leaves out "second" (destroyed).
  REQUIRE(p.update(post, "edit_comments", {{"comments", Value(Array{Value(Map{{"id", first.id()}, {"body", "first, edited"}}),
                                                                      Value(Map{{"body", "third"}})})}}));
  CHECK(p.names(post, "comments", "body") == std::vector<std::string>{"first, edited", "third"});
  CHECK(p.count("Comment") == 2);
  auto edited = p.update(post, "edit_comments", {{"comments", Value(Array{Value(Map{{"id", first.id()}, {"body", "again"}})})}});
  REQUIRE(edited);
  CHECK(shown(edited->related("comments")) ==
        shown(p.engine.get("Post", post.id(), {.load = {Load("comments")}}).value().related("comments")));
  auto got = p.engine.get("Comment", first.id()).value();
  CHECK(got.version() == 3);
}

TEST_CASE("manage_relationship direct_control refuses an id it cannot create under, rather than creating another record") {
  Press p;
  Record mine = p.engine.create("Post", {{"title", "mine"}, {"comments", Value(Array{Value(Map{{"body", "kept"}})})}},
                                {.action = "publish"})
                    .value();
  Record theirs = p.engine.create("Post", {{"title", "theirs"}, {"comments", Value(Array{Value(Map{{"body", "theirs"}})})}},
                                  {.action = "publish"})
                      .value();
  Value their_comment = p.engine.read("Comment", {.filter = dsl::ref("body") == "theirs"}).value().at(0).id();
  std::uint64_t before = p.head();
  // Another post's comment, and an id nobody holds: neither is related to this post, so
  // each would be created — under an id Comment.create does not take.
  for (const Value& id : {their_comment, Value(Uuid::v4())}) {
    auto hijack = p.update(mine, "edit_comments", {{"comments", Value(Array{Value(Map{{"id", id}, {"body", "hijack"}})})}});
    REQUIRE_FALSE(hijack);
    CHECK(hijack.error().describe() ==
          "invalid: Post.edit_comments: invalid input: comments[0].id: is not accepted by Comment.create");
  }
  CHECK(p.head() == before);
  CHECK(p.names(mine, "comments", "body") == std::vector<std::string>{"kept"});
  CHECK(p.engine.get("Comment", their_comment).value()["body"] == Value("theirs"));
  CHECK(p.engine.get("Comment", their_comment).value()["post_id"] == theirs.id());
}

TEST_CASE("manage_relationship errors name the path into the input, and a failure keeps nothing") {
  Press p;
  std::uint64_t before = p.head();
  auto made = p.engine.create("Post", {{"title", "T"},
                                       {"comments", Value(Array{Value(Map{{"body", "ok"}}), Value(Map{{"score", 3}}),
                                                                Value(Map{{"body", "fine"}, {"colour", "red"}})})},
                                       {"tags", strings({"fine", "much-too-long-a-name"})}},
                              {.action = "publish"});
  REQUIRE_FALSE(made);
  CHECK(made.error().cls == ErrorClass::invalid);
  CHECK(made.error().resource == "Post");
  CHECK(made.error().action == "publish");
  // Every bad item of the first manage_relationship that fails is reported at once.
  const FieldError* tag = made.error().field("tags[1].name");
  REQUIRE(tag != nullptr);
  CHECK(tag->code == "max_length");
  CHECK(p.head() == before);
  CHECK(p.count("Post") == 0);
  CHECK(p.count("Tag") == 0);
  CHECK(p.count("Comment") == 0);

  auto comments = p.engine.create("Post", {{"title", "T"},
                                           {"comments", Value(Array{Value(Map{{"body", "ok"}}), Value(Map{{"score", 3}}),
                                                                    Value(Map{{"body", "fine"}, {"colour", "red"}})})}},
                                  {.action = "publish"});
  REQUIRE_FALSE(comments);
  REQUIRE(comments.error().fields.size() == 2);
  CHECK(comments.error().fields[0] == FieldError{"comments[1].body", "required", "is required"});
  CHECK(comments.error().fields[1].field == "comments[2].colour");
  CHECK(comments.error().fields[1].code == "unknown_input");
  CHECK(p.head() == before);
  CHECK(p.count("Comment") == 0);
}

TEST_CASE("manage_relationship create: a single map through a differently named argument") {
  Press p;
  Record post = p.post();
  auto r = p.update(post, "add_comment", {{"add_comment", Value(Map{{"body", "nice"}})}});
  REQUIRE(r);
  REQUIRE(p.update(post, "add_comment", {{"add_comment", Value(Map{{"body", "again"}})}}));
  CHECK(p.names(post, "comments", "body") == std::vector<std::string>{"again", "nice"});
  auto bad = p.update(post, "add_comment", {{"add_comment", Value(Map{{"body", Value()}})}});
  REQUIRE_FALSE(bad);
  CHECK(bad.error().fields.at(0) == FieldError{"add_comment.body", "required", "is required"});
}

TEST_CASE("manage_relationship has_many append_and_remove by primary key moves and unrelates records") {
  Press p;
  Record a = p.post("A");
  Record b = p.post("B");
  Record c1 = p.engine.create("Comment", {{"body", "one"}, {"post_id", a.id()}}).value();
  Record c2 = p.engine.create("Comment", {{"body", "two"}, {"post_id", a.id()}}).value();
  REQUIRE(p.update(b, "adopt_comments", {{"comments", Value(Array{c1.id()})}}));
  CHECK(p.names(b, "comments", "body") == std::vector<std::string>{"one"});
  CHECK(p.names(a, "comments", "body") == std::vector<std::string>{"two"});
  REQUIRE(p.update(b, "adopt_comments", {{"comments", Value(Array{c2.id()})}}));
  CHECK(p.names(b, "comments", "body") == std::vector<std::string>{"two"});
  CHECK(p.engine.get("Comment", c1.id()).value()["post_id"].is_null());  // unrelated, not destroyed

  auto unknown = p.update(b, "adopt_comments", {{"comments", Value(Array{Value(Uuid::v4())})}});
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().fields.at(0).code == "not_found");
  CHECK(unknown.error().fields.at(0).field == "comments[0]");
}

TEST_CASE("manage_relationship belongs_to sets and clears the source attribute") {
  Press p;
  Record post = p.post();
  Record ann = p.engine.create("Author", {{"name", "Ann"}}).value();
  auto set = p.update(post, "set_author", {{"writer_id", ann.id()}});
  REQUIRE(set);
  CHECK((*set)["author_id"] == ann.id());
  REQUIRE(set->one("author") != nullptr);
  CHECK((*set->one("author"))["name"] == Value("Ann"));
  auto cleared = p.update(post, "set_author", {{"writer_id", Value()}});
  REQUIRE(cleared);
  CHECK((*cleared)["author_id"].is_null());
  CHECK(p.count("Author") == 1);  // unrelating leaves the author

  auto nobody = p.update(post, "set_author", {{"writer_id", Value(Uuid::v4())}});
  REQUIRE_FALSE(nobody);
  CHECK(nobody.error().fields.at(0).field == "writer_id");
  CHECK(nobody.error().fields.at(0).code == "not_found");

  // create: the author is created first, then the post points at it.
  auto made = p.engine.create("Post", {{"title", "New"}, {"author", Value(Map{{"name", "Bob"}})}}, {.action = "publish"});
  REQUIRE(made);
  REQUIRE(made->one("author") != nullptr);
  CHECK((*made->one("author"))["name"] == Value("Bob"));
}

TEST_CASE("manage_relationship has_one direct_control replaces the record it relates") {
  Press p;
  Record post = p.post();
  REQUIRE(p.update(post, "set_cover", {{"cover", Value(Map{{"url", "a.png"}})}}));
  auto covers = p.engine.read("Cover").value();
  REQUIRE(covers.size() == 1);
  // Without its id the input is a new cover: the old one is destroyed (on_missing destroy).
  REQUIRE(p.update(post, "set_cover", {{"cover", Value(Map{{"url", "b.png"}})}}));
  covers = p.engine.read("Cover").value();
  REQUIRE(covers.size() == 1);
  CHECK(covers[0]["url"] == Value("b.png"));
  // With it, it is updated in place.
  REQUIRE(p.update(post, "set_cover", {{"cover", Value(Map{{"id", covers[0].id()}, {"url", "c.png"}})}}));
  CHECK(p.engine.get("Cover", covers[0].id()).value()["url"] == Value("c.png"));
  // nil: nothing is related, the cover is destroyed.
  REQUIRE(p.update(post, "set_cover", {{"cover", Value()}}));
  CHECK(p.count("Cover") == 0);
  // A list of two for a to-one relationship is refused.
  auto two = p.update(post, "set_cover", {{"cover", Value(Array{Value(Map{{"url", "x"}}), Value(Map{{"url", "y"}})})}});
  REQUIRE_FALSE(two);
}

TEST_CASE("manage_relationship in a destroy action runs after the main action, through named actions") {
  Press p;
  Record post = p.post();
  p.engine.create("Comment", {{"body", "one"}, {"post_id", post.id()}}).value();
  std::uint64_t before = p.head();
  REQUIRE(p.engine.destroy("Post", post.id(), {.action = "retract"}).has_value());
  auto events = test::all_events(p.engine.log(), before + 1);
  REQUIRE(events.size() == 2);
  CHECK(events[0].event.resource == "Post");   // the post first
  CHECK(events[1].event.action == "purge");    // then its comment, by the named destroy action
  CHECK(p.count("Comment") == 0);
}

TEST_CASE("manage_relationship from a custom change, with Records, and options that do not fit") {
  Press p;
  Record post = p.post();
  Record ash = p.tag("ash");
  auto cs = p.engine.for_update("Post", post.id(), {}, {.action = "update"}).value();
  REQUIRE(cs.manage_relationship("tags", std::vector<Record>{ash}, {.type = manage::Type::append}));
  REQUIRE(p.engine.run(std::move(cs)));
  CHECK(p.names(post, "tags") == std::vector<std::string>{"ash"});

  auto again = p.engine.for_update("Post", post.id(), {}, {.action = "update"}).value();
  auto misfit = again.manage_relationship("labels", Value(), {});
  REQUIRE_FALSE(misfit);
  CHECK(misfit.error().cls == ErrorClass::framework);
  CHECK(misfit.error().message == "manage_relationship(labels) on Post.update: Post has no relationship named labels");
  auto not_key = again.manage_relationship("tags", Value(), {.value_is_key = "colour"});
  REQUIRE_FALSE(not_key);
  CHECK(not_key.error().message == "manage_relationship(tags) on Post.update: value_is_key names colour, which Tag does not have");
  auto join_fk = again.manage_relationship("tags", Value(), {.join_keys = {"tag_id"}});
  REQUIRE_FALSE(join_fk);
  CHECK(join_fk.error().message ==
        "manage_relationship(tags) on Post.update: join key tag_id is what relates PostTag records: relating sets it");
  auto join_keys = again.manage_relationship("comments", Value(), {.join_keys = {"x"}});
  REQUIRE_FALSE(join_keys);
  CHECK(join_keys.error().message == "manage_relationship(comments) on Post.update: join_keys are for many_to_many relationships");
}

TEST_CASE("several manage_relationship changes on one action run in order") {
  auto defaults = std::vector<std::string>{"read", "destroy", "create:*", "update:*"};
  TempDir dir;
  auto d = domain("d")
               .resource(resource("Tag").uuid_primary_key("id").attribute("name", type::string).identity("n", {"name"}).defaults(defaults))
               .resource(resource("PostTag")
                             .belongs_to("post", "Post", {.allow_nil = false, .primary_key = true})
                             .belongs_to("tag", "Tag", {.allow_nil = false, .primary_key = true})
                             .defaults(defaults))
               .resource(resource("Post")
                             .uuid_primary_key("id")
                             .many_to_many("tags", "Tag", {.through = "PostTag"})
                             .defaults(defaults)
                             .update("complex", {.arguments = {argument("add_tags", type::array(type::string)),
                                                               argument("remove_tags", type::array(type::string))},
                                                 .steps = {managed("add_tags", "tags", {.type = manage::Type::append, .value_is_key = "name",
                                                                                       .on_no_match = manage::NoMatch::create}),
                                                           managed("remove_tags", "tags", {.type = manage::Type::remove,
                                                                                          .value_is_key = "name"})}}))
               .build()
               .value();
  Engine engine = Engine::open(dir.path(), d, {.durability = Durability::no_sync}).value();
  Record post = engine.create("Post", {}).value();
  // Added, then removed in the same action: the second change sees what the first did.
  auto r = engine.update("Post", post.id(), {{"add_tags", strings({"a", "b"})}, {"remove_tags", strings({"a"})}},
                         {.action = "complex"});
  REQUIRE(r);
  auto got = engine.get("Post", post.id(), {.load = {Load("tags")}}).value();
  REQUIRE(got.related("tags").size() == 1);
  CHECK(got.related("tags")[0]["name"] == Value("b"));
}

TEST_CASE("manage_relationship in a bulk create: each record's relationships managed, a failed one rolled back alone") {
  Press p;
  p.tag("ash");
  std::vector<Fields> inputs;
  for (int i = 0; i < 5; ++i)
    inputs.push_back({{"title", fmt::format("post {}", i)}, {"tags", i == 3 ? strings({"ash", "much-too-long-a-name"}) : strings({"ash", "bulk"})}});
  auto r = p.engine.bulk_create("Post", inputs, {.action = "publish", .batch_size = 2});
  REQUIRE(r);
  CHECK(r->errors.size() == 1);
  CHECK(r->errors.at(0).index == 3);
  CHECK(p.count("Post") == 4);
  CHECK(p.count("Tag") == 2);       // "bulk" created once, then related by the others
  CHECK(p.count("PostTag") == 8);   // nothing of the failed post's tags kept
}

TEST_CASE("manage_relationship: items reaching one record through different keys, and Records already related, relate it once") {
  Press p;
  Record post = p.post();
  Record ash = p.tag("ash");
  REQUIRE(p.update(post, "add_tags", {{"tags", Value(Array{Value(Map{{"id", ash.id()}}), Value(Map{{"name", "ash"}})})}}));
  CHECK(p.count("PostTag") == 1);
  // A Record already related is matched by its primary key, whatever use_identities says.
  auto cs = p.engine.for_update("Post", post.id(), {}, {.action = "update"}).value();
  REQUIRE(cs.manage_relationship("tags", std::vector<Record>{ash, ash}, {.type = manage::Type::append, .use_identities = {"unique_name"}}));
  REQUIRE(p.engine.run(std::move(cs)));
  CHECK(p.count("PostTag") == 1);
}

TEST_CASE("manage_relationship: a conflict in a nested action is an error on the item's path, with every other bad item") {
  Press p;
  Record post = p.post();
  p.tag("ash");
  std::uint64_t before = p.head();
  auto cs = p.engine.for_update("Post", post.id(), {}, {.action = "update"}).value();
  // create never looks up: a second "ash" takes the identity of the first.
  REQUIRE(cs.manage_relationship("tags", strings({"ash", "x", "much-too-long-a-name"}),
                                 {.type = manage::Type::create, .value_is_key = "name"}));
  auto r = p.engine.run(std::move(cs));
  REQUIRE_FALSE(r);
  CHECK(r.error().cls == ErrorClass::invalid);
  REQUIRE(r.error().fields.size() == 2);
  CHECK(r.error().fields[0].field == "tags[0].name");
  CHECK(r.error().fields[0].code == "identity_taken");
  CHECK(r.error().fields[1].field == "tags[2].name");
  CHECK(r.error().fields[1].code == "max_length");
  CHECK(p.head() == before);
}

TEST_CASE("manage_relationship: join keys are updated on the join record of a match") {
  Press p;
  Record post = p.post();
  Record ash = p.tag("ash");
  REQUIRE(p.update(post, "add_tags", {{"tags", Value(Array{Value(Map{{"name", "ash"}, {"added_by", "ann"}})})}}));
  auto cs = p.engine.for_update("Post", post.id(), {}, {.action = "update"}).value();
  REQUIRE(cs.manage_relationship("tags", Value(Array{Value(Map{{"name", "ash"}, {"added_by", "bob"}})}),
                                 {.use_identities = {"unique_name"}, .on_match = manage::Match::update, .join_keys = {"added_by"}}));
  REQUIRE(p.engine.run(std::move(cs)));
  auto joins = p.engine.read("PostTag").value();
  REQUIRE(joins.size() == 1);
  CHECK(joins[0]["added_by"] == Value("bob"));
  (void)ash;
}

TEST_CASE("manage_relationship: a has_one given a new record unrelates the one it had, even under append") {
  Press p;
  Record post = p.post();
  Record old_cover = p.engine.create("Cover", {{"url", "old.png"}, {"post_id", post.id()}}).value();
  auto cs = p.engine.for_update("Post", post.id(), {}, {.action = "update"}).value();
  REQUIRE(cs.manage_relationship("cover", Value(Map{{"url", "new.png"}}), {.type = manage::Type::create}));
  auto r = p.engine.run(std::move(cs));
  REQUIRE(r);
  REQUIRE(r->one("cover") != nullptr);
  CHECK((*r->one("cover"))["url"] == Value("new.png"));
  CHECK(p.engine.get("Cover", old_cover.id()).value()["post_id"].is_null());
  CHECK(p.count("Cover") == 2);
}

TEST_CASE("manage_relationship: a nil item and a nested list name their path") {
  Press p;
  Record post = p.post();
  // An argument's type refuses them when it is cast ...
  auto typed = p.update(post, "edit_comments", {{"comments", Value(Array{Value(Map{{"body", "ok"}}), Value(), Value(Array{})})}});
  REQUIRE_FALSE(typed);
  CHECK(typed.error().fields.at(0).field == "comments");
  // ... and manage_relationship itself, given any value by a change.
  auto cs = p.engine.for_update("Post", post.id(), {}, {.action = "update"}).value();
  REQUIRE(cs.manage_relationship("comments", Value(Array{Value(Map{{"body", "ok"}}), Value(), Value(Array{})}),
                                 {.type = manage::Type::direct_control}));
  auto r = p.engine.run(std::move(cs));
  REQUIRE_FALSE(r);
  REQUIRE(r.error().fields.size() == 2);
  CHECK(r.error().fields[0] == FieldError{"comments[1]", "invalid_type", "is nil; give a map or a simple value"});
  CHECK(r.error().fields[1] == FieldError{"comments[2]", "invalid_type", "is a list inside the list; give a map or a simple value"});
}

TEST_CASE("manage_relationship: a sensitive argument is managed, and kept out of the event") {
  auto defaults = std::vector<std::string>{"read", "destroy", "create:*", "update:*"};
  TempDir dir;
  auto d = domain("d")
               .resource(resource("Secret").uuid_primary_key("id").attribute("value", type::string).belongs_to("vault", "Vault").defaults(defaults))
               .resource(resource("Vault")
                             .uuid_primary_key("id")
                             .has_many("secrets", "Secret")
                             .defaults(defaults)
                             .update("store", {.arguments = {argument("secrets", type::array(type::map), {.sensitive = true})},
                                               .steps = {changes::manage_relationship("secrets", {.type = manage::Type::create})}}))
               .build()
               .value();
  Engine engine = Engine::open(dir.path(), d, {.durability = Durability::no_sync}).value();
  Record vault = engine.create("Vault", {}).value();
  std::uint64_t before = test::log_length(engine.log());
  REQUIRE(engine.update("Vault", vault.id(), {{"secrets", Value(Array{Value(Map{{"value", "hunter2"}})})}}, {.action = "store"}));
  auto events = test::all_events(engine.log(), before + 1);
  REQUIRE(events.size() == 2);
  CHECK(events[0].event.inputs.empty());  // the Vault's event does not carry the argument
  CHECK(engine.read("Secret").value().size() == 1);
}

TEST_CASE("manage_relationship: options that do not fit fail the action even when the argument is not given") {
  auto defaults = std::vector<std::string>{"read", "destroy", "create:*", "update:*"};
  TempDir dir;
  auto d = domain("d")
               .resource(resource("Post")
                             .uuid_primary_key("id")
                             .defaults(defaults)
                             .update("retag", {.arguments = {argument("tags", type::array(type::string))},
                                               .steps = {changes::manage_relationship("tags", {.type = manage::Type::append})}}))
               .build()
               .value();
  Engine engine = Engine::open(dir.path(), d, {.durability = Durability::no_sync}).value();
  Record post = engine.create("Post", {}).value();
  auto r = engine.update("Post", post.id(), {}, {.action = "retag"});
  REQUIRE_FALSE(r);
  REQUIRE(r.error().fields.size() == 1);
  CHECK(r.error().fields[0].message == "manage_relationship(tags) on Post.retag: Post has no relationship named tags");
}

TEST_CASE("manage_relationship: a required belongs_to is checked after every before_action hook") {
  auto defaults = std::vector<std::string>{"read", "destroy", "create:*", "update:*"};
  TempDir dir;
  auto d = domain("d")
               .resource(resource("Author").uuid_primary_key("id").attribute("name", type::string).defaults(defaults))
               .resource(resource("Book")
                             .uuid_primary_key("id")
                             .belongs_to("author", "Author", {.allow_nil = false})
                             .defaults(defaults)
                             .create("write", {.arguments = {argument("author", type::map)},
                                               .steps = {changes::manage_relationship("author", {.type = manage::Type::create})}}))
               .build()
               .value();
  Engine engine = Engine::open(dir.path(), d, {.durability = Durability::no_sync}).value();
  // The author is created in before_action, then the book points at it.
  auto made = engine.create("Book", {{"author", Value(Map{{"name", "Ann"}})}}, {.action = "write"});
  REQUIRE(made);
  CHECK_FALSE((*made)["author_id"].is_null());
  // Without one, author_id stays nil: required, and nothing is written.
  std::uint64_t before = test::log_length(engine.log());
  auto none = engine.create("Book", {}, {.action = "write"});
  REQUIRE_FALSE(none);
  CHECK(none.error().fields.at(0) == FieldError{"author_id", "required", "is required"});
  CHECK(test::log_length(engine.log()) == before);
}
