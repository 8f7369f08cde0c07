// The blog example: the User/Comment story from "Ash from an Ecto user's view", run
// against an ashlar store.
//
//   build/bin/blog ./blog-data
//
// Every action below appends an event to the log in that directory; `ashlar log DIR`
// shows who did what, when, and through which action.

#include <ashlar/ashlar.hpp>

#include <algorithm>
#include <iostream>
#include <string>
#include <vector>

namespace {

ashlar::ActionStep manage_tags() {
  using namespace ashlar;
  return changes::manage_relationship("tags", {.type = manage::Type::append_and_remove,
                                               .value_is_key = "name",
                                               .on_lookup = manage::Lookup::relate,
                                               .on_no_match = manage::NoMatch::create});
}

ashlar::ActionStep manage_comments() {
  using namespace ashlar;
  return changes::manage_relationship("comments", {.type = manage::Type::direct_control});
}

ashlar::Domain blog_domain() {
  using namespace ashlar::dsl;
  return domain("blog")
      .resource(resource("User")
                    .uuid_primary_key("id")
                    .attribute("name", type::string, {.allow_nil = false})
                    .create_timestamp("inserted_at")
                    .has_many("comments", "Comment")
                    // A calculation: derived when read, from the user's comments in the same snapshot.
                    .calculate("standing", type::string,
                               ashlar::parse_expr("cond(count(comments) == 0, \"lurker\", count(comments) == 1, "
                                          "\"commenter\", \"regular\")")
                                   .value())
                    .defaults({"read", "destroy", "create:*", "update:*"}))
      .resource(resource("Comment")
                    .uuid_primary_key("id")
                    .attribute("content", type::string, {.allow_nil = false})
                    .belongs_to("user", "User")  // defines user_id : uuid
                    .belongs_to("post", "Post")
                    .defaults({"read", "destroy", "create:*", "update:*"}))
      .resource(resource("Tag")
                    .uuid_primary_key("id")
                    .attribute("name", type::string, {.allow_nil = false})
                    .identity("unique_name", {"name"})
                    .defaults({"read", "destroy", "create:*", "update:*"}))
      .resource(resource("PostTag")
                    .belongs_to("post", "Post", {.allow_nil = false, .primary_key = true})
                    .belongs_to("tag", "Tag", {.allow_nil = false, .primary_key = true})
                    .defaults({"read", "destroy", "create:*", "update:*"}))
      .resource(resource("Post")
                    .uuid_primary_key("id")
                    .attribute("title", type::string, {.allow_nil = false})
                    .has_many("comments", "Comment")
                    .many_to_many("tags", "Tag", {.through = "PostTag"})
                    .defaults({"read", "destroy", "create:*", "update:*"})
                    // Tags by name: existing ones related, new ones created, left-out ones
                    // unrelated. Comments as maps: those with an id updated, those without
                    // created, left-out ones destroyed.
                    .create("publish", {.accept = {"title"},
                                        .arguments = {argument("tags", type::array(type::string)),
                                                      argument("comments", type::array(type::map))},
                                        .steps = {manage_tags(), manage_comments()}})
                    .update("revise", {.accept = {"title"},
                                       .arguments = {argument("tags", type::array(type::string)),
                                                     argument("comments", type::array(type::map))},
                                       .steps = {manage_tags(), manage_comments()}}))
      .build()
      .value();
}

// A string attribute as plain text; anything else in its canonical form.
std::string text(const ashlar::Value& value) {
  return value.as_string() ? *value.as_string() : value.str();
}

// The first block of a uuid: enough to tell records apart on screen.
std::string short_id(const ashlar::Record& record) { return record.id().str().substr(0, 8); }

// Prints every user, oldest first, each with its standing and comments: one read, one
// snapshot, the comments of all users loaded in one batch.
void print_users_with_comments(const ashlar::Engine& engine) {
  auto users =
      engine.read("User", {.sort = {ashlar::SortKey::asc("inserted_at")}, .load = {"comments", "standing"}}).value();
  for (const auto& user : users) {
    std::cout << "  " << text(user["name"]) << " (" << short_id(user) << ", joined "
              << user["inserted_at"].str() << ", " << text(user["standing"]) << ")\n";
    for (const auto& comment : user.related("comments"))
      std::cout << "    - \"" << text(comment["content"]) << "\" (version " << comment.version() << ")\n";
    if (user.related("comments").empty()) std::cout << "    (no comments)\n";
  }
}

// A post with the tags and comments its action left it with.
void print_post(const char* what, const ashlar::Record& post) {
  std::cout << what << " Post \"" << text(post["title"]) << "\" tagged";
  std::vector<std::string> tags;
  for (const auto& tag : post.related("tags")) tags.push_back(text(tag["name"]));
  std::sort(tags.begin(), tags.end());
  for (const auto& t : tags) std::cout << " #" << t;
  std::cout << ", " << post.related("comments").size() << " comment(s)\n";
}

int run(const std::string& dir) {
  auto engine = ashlar::Engine::open(dir, blog_domain()).value();
  // Recorded in every event this program appends, for the audit trail.
  const ashlar::CallOptions as_blog{.actor = "blog-example"};
  std::cout << "acting as " << as_blog.actor.str() << " on the store in " << dir << "\n\n";

  auto alice = engine.create("User", {{"name", "Alice"}}, as_blog).value();
  auto bob = engine.create("User", {{"name", "Bob"}}, as_blog).value();
  auto carol = engine.create("User", {{"name", "Carol"}}, as_blog).value();
  for (const auto& user : {alice, bob, carol})
    std::cout << "created User " << text(user["name"]) << " (" << short_id(user) << ")\n";

  auto nice = engine.create("Comment", {{"content", "Nice post!"}, {"user_id", alice.id()}}, as_blog).value();
  auto agree = engine.create("Comment", {{"content", "Agreed."}, {"user_id", bob.id()}}, as_blog).value();
  auto spam = engine.create("Comment", {{"content", "Buy cheap watches"}, {"user_id", bob.id()}}, as_blog).value();
  for (const auto& comment : {nice, agree, spam})
    std::cout << "created Comment \"" << text(comment["content"]) << "\" (" << short_id(comment) << ")\n";

  auto edited = engine.update("Comment", nice.id(), {{"content", "Nice post! Thanks, Bob."}}, as_blog).value();
  std::cout << "updated Comment " << short_id(edited) << ": \"" << text(nice["content"]) << "\" -> \""
            << text(edited["content"]) << "\" (version " << edited.version() << ")\n";

  engine.destroy("Comment", spam.id(), as_blog).value();
  std::cout << "destroyed Comment " << short_id(spam) << " (\"" << text(spam["content"]) << "\")\n";

  // A comment without content breaks allow_nil = false: an error value, nothing appended.
  auto rejected = engine.create("Comment", {{"user_id", carol.id()}}, as_blog);
  if (rejected) throw std::runtime_error("a comment without content was accepted");
  std::cout << "rejected Comment without content: " << rejected.error().describe() << "\n";

  // A post with its tags given by name and its comments as maps, in one action: one
  // transaction holds the post, the tags it creates, the join records and the comments.
  using ashlar::Array, ashlar::Map, ashlar::Value;
  auto post = engine.create("Post", {{"title", "Hello, ashlar"},
                                     {"tags", Value(Array{"cpp", "events"})},
                                     {"comments", Value(Array{Value(Map{{"content", "First!"}, {"user_id", carol.id()}})})}},
                            {.action = "publish", .actor = as_blog.actor}).value();
  print_post("published", post);
  // Revised: "events" stays, "cpp" is unrelated, "lmdb" created; the comment is edited
  // (named by its id) and a second one added.
  const auto& first = post.related("comments").at(0);
  auto revised = engine.update("Post", post.id(),
                               {{"tags", Value(Array{"events", "lmdb"})},
                                {"comments", Value(Array{Value(Map{{"id", first.id()}, {"content", "First! (edited)"}}),
                                                         Value(Map{{"content", "Nice tags."}, {"user_id", alice.id()}})})}},
                               {.action = "revise", .actor = as_blog.actor}).value();
  print_post("revised", revised);

  std::cout << "\nusers and their comments, read back from " << dir << ":\n";
  print_users_with_comments(engine);

  auto head = engine.log().head().value();
  std::cout << "\nthe log holds " << head.position << " events; `ashlar log " << dir
            << "` shows them\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: " << argv[0] << " DIR\n"
              << "  runs the User/Comment story against the ashlar store in DIR (created if missing)\n";
    return 2;
  }
  // The .value() calls above throw on an error; any of them is a failure of the example.
  try {
    return run(argv[1]);
  } catch (const std::exception& e) {
    std::cerr << "blog: " << e.what() << "\n";
    return 1;
  }
}
