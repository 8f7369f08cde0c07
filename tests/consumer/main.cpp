// Opens a store in DIR, declares a resource, creates a record and reads it back: what a
// program built against an installed ashlar does first. Exits 0 and prints the record.
#include <ashlar/ashlar.hpp>

#include <iostream>

int main(int argc, char** argv) {
  using namespace ashlar::dsl;
  if (argc != 2) {
    std::cerr << "usage: " << argv[0] << " DIR\n";
    return 2;
  }
  auto model = domain("consumer")
                   .resource(resource("Note")
                                 .uuid_primary_key("id")
                                 .attribute("title", type::string, {.allow_nil = false})
                                 .defaults({"read", "destroy", "create:*", "update:*"}))
                   .build();
  if (!model) {
    std::cerr << model.error().describe() << "\n";
    return 1;
  }
  auto engine = ashlar::Engine::open(argv[1], *model);
  if (!engine) {
    std::cerr << engine.error().describe() << "\n";
    return 1;
  }
  auto created = engine->create("Note", {{"title", "built against the installed package"}});
  if (!created) {
    std::cerr << created.error().describe() << "\n";
    return 1;
  }
  auto read = engine->get("Note", created->id());
  if (!read || (*read)["title"] != ashlar::Value("built against the installed package")) {
    std::cerr << "the note did not read back\n";
    return 1;
  }
  std::cout << "consumer: Note " << read->id().as_uuid()->str() << " \"" << *(*read)["title"].as_string()
            << "\" at version " << read->version() << "\n";
  return 0;
}
