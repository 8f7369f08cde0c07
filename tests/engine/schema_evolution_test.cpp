// Schema evolution: the stored model is versioned; compatible changes migrate the
// projections; incompatible ones are refused unless an upcaster reshapes old events.
#include "support/engine_helpers.hpp"
#include "support/temp_dir.hpp"

#include <ashlar/ashlar.hpp>

#include <catch2/catch.hpp>

using namespace ashlar;
using namespace ashlar::dsl;
using ashlar::test::TempDir;

namespace {

ResourceBuilder item_v1() {
  return resource("Item")
      .uuid_primary_key("id")
      .attribute("name", type::string, {.allow_nil = false})
      .attribute("price", type::integer)
      .defaults({"read", "destroy", "create:*", "update:*"});
}

Domain shop(ResourceBuilder item) { return domain("shop").resource(std::move(item)).build().value(); }

// v2: a currency with a default, a new resource and a new action.
Domain shop_v2() {
  return domain("shop")
      .resource(item_v1()
                    .attribute("currency", type::atom, {.default_value = Atom{"EUR"}})
                    .update("reprice", {.accept = {"price"}}))
      .resource(resource("Shelf").uuid_primary_key("id").attribute("label", type::string).defaults({"read", "create:*"}))
      .build()
      .value();
}

std::vector<StoredModel> stored_models(const std::string& path) {
  auto log = Log::open_read_only(path).value();
  auto txn = log->read().value();
  return log->models(txn).value();
}

std::vector<std::string> messages(const Error& e) {
  std::vector<std::string> out;
  for (const auto& f : e.fields) out.push_back(f.message);
  return out;
}

}  // namespace

TEST_CASE("the stored model is versioned: a change makes a new version and the old ones are kept") {
  TempDir dir;
  Value id;
  {
    auto engine = Engine::open(dir.path(), shop(item_v1())).value();
    CHECK(engine.model_version() == 1);
    id = engine.create("Item", {{"name", "lamp"}, {"price", 30}}).value().id();
    engine.create("Item", {{"name", "desk"}}).value();
  }
  CHECK(Engine::open(dir.path(), shop(item_v1())).value().model_version() == 1);
  {
    auto engine = Engine::open(dir.path(), shop_v2()).value();
    CHECK(engine.model_version() == 2);
    // Existing records got the new attribute's default; the history sees it too.
    CHECK(engine.get("Item", id).value()["currency"] == Value(Atom{"EUR"}));
    auto history = engine.history("Item", id).value();
    CHECK(*find_field(history[0].event.changes, "currency") == Value(Atom{"EUR"}));
    auto shelf = engine.create("Shelf", {{"label", "A"}}).value();
    engine.update("Item", id, {{"price", 35}}, {.action = "reprice"}).value();
    CHECK(engine.verify().value().ok());
  }
  auto models = stored_models(dir.path());
  REQUIRE(models.size() == 2);
  CHECK(models[0].version == 1);
  CHECK(models[0].since == 1);
  CHECK(models[0].json == domain_to_json(shop(item_v1())));
  CHECK(models[1].version == 2);
  CHECK(models[1].since == 3);
  CHECK(models[1].json == domain_to_json(shop_v2()));
  // The same model again keeps its version.
  CHECK(Engine::open(dir.path(), shop_v2()).value().model_version() == 2);
}

TEST_CASE("a new identity is built over the stored records, or refused while they share its values") {
  TempDir dir;
  auto with_identity = shop(item_v1().identity("unique_name", {"name"}));
  {
    auto engine = Engine::open(dir.path(), shop(item_v1())).value();
    engine.create("Item", {{"name", "lamp"}}).value();
    engine.create("Item", {{"name", "desk"}}).value();
  }
  {
    auto engine = Engine::open(dir.path(), with_identity).value();
    CHECK(engine.model_version() == 2);
    CHECK(engine.get_by("Item", "unique_name", {{"name", "desk"}}).value()["name"] == Value("desk"));
    auto taken = engine.create("Item", {{"name", "lamp"}});
    REQUIRE_FALSE(taken.has_value());
    CHECK(taken.error().cls == ErrorClass::conflict);
  }

  TempDir shared;
  {
    auto engine = Engine::open(shared.path(), shop(item_v1())).value();
    engine.create("Item", {{"name", "lamp"}}).value();
    engine.create("Item", {{"name", "lamp"}}).value();
  }
  auto refused = Engine::open(shared.path(), with_identity);
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().message.rfind("the projections do not rebuild for model version 2, so the store keeps its "
                                      "model: event 2 does not fold into state: ",
                                      0) == 0);
  CHECK(refused.error().message.find("identity unique_name of Item is already taken") != std::string::npos);
  auto engine = Engine::open(shared.path(), shop(item_v1())).value();
  CHECK(engine.model_version() == 1);
  CHECK(engine.read("Item").value().size() == 2);
}

TEST_CASE("a type change is refused unless an upcaster reshapes the old events") {
  TempDir dir;
  Value id;
  {
    auto engine = Engine::open(dir.path(), shop(item_v1())).value();
    id = engine.create("Item", {{"name", "lamp"}, {"price", 30}}).value().id();
    engine.update("Item", id, {{"price", 32}}).value();
  }
  // price becomes a float; `name` is renamed to `title`.
  auto v2 = shop(resource("Item")
                     .uuid_primary_key("id")
                     .attribute("title", type::string)
                     .attribute("price", type::floating)
                     .defaults({"read", "destroy", "create:*", "update:*"}));
  auto refused = Engine::open(dir.path(), v2);
  REQUIRE_FALSE(refused.has_value());
  CHECK(messages(refused.error()) == std::vector<std::string>{"Item.name: attribute removed, but the log has its values",
                                                              "Item.price: type changed from integer to float"});

  auto reshape = [](Event& e) -> Result<void> {
    for (Fields* fields : {&e.changes, &e.inputs}) {
      for (auto& [name, value] : *fields) {
        if (name == "name") name = "title";
        if (name == "price" && value.as_int()) value = Value(static_cast<double>(*value.as_int()));
      }
    }
    return {};
  };
  Upcaster upcaster{.name = "item_v2", .resource = "Item", .model_version = 1, .reshape = reshape};
  {
    auto engine = Engine::open(dir.path(), v2, {.upcasters = {upcaster}}).value();
    CHECK(engine.model_version() == 2);
    auto item = engine.get("Item", id).value();
    CHECK(item["price"] == Value(32.0));
    CHECK(item["title"] == Value("lamp"));
    auto history = engine.history("Item", id).value();
    CHECK(*find_field(history[0].event.changes, "title") == Value("lamp"));
    CHECK(*find_field(history[0].event.inputs, "price") == Value(30.0));
    CHECK(engine.get("Item", id, {.as_of = AsOf{.position = 1}}).value()["price"] == Value(30.0));
    engine.update("Item", id, {{"price", 33.5}}).value();
    CHECK(engine.verify().value().ok());
  }
  // The projections were folded through the upcaster: every later open declares it.
  auto forgotten = Engine::open(dir.path(), v2);
  REQUIRE_FALSE(forgotten.has_value());
  CHECK(messages(forgotten.error()) ==
        std::vector<std::string>{"the projections were folded with upcaster item_v2 (Item, up to model version 1); "
                                 "declare it in Options::upcasters"});
  auto again = Engine::open(dir.path(), v2, {.upcasters = {upcaster}}).value();
  CHECK(again.get("Item", id).value()["price"] == Value(33.5));
}

TEST_CASE("an upcaster must reshape events of an earlier model version") {
  TempDir dir;
  Upcaster now{.name = "now", .resource = "Item", .model_version = 1, .reshape = [](Event&) { return Result<void>{}; }};
  auto refused = Engine::open(dir.path(), shop(item_v1()), {.upcasters = {now}});
  REQUIRE_FALSE(refused.has_value());
  CHECK(messages(refused.error()) ==
        std::vector<std::string>{"upcaster now must have a name and code, and reshape events of a model version "
                                 "before this one (1), not 1"});
}
