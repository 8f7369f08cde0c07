#include <ashlar/model/dsl.hpp>
#include <ashlar/model/json.hpp>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <tuple>

using namespace ashlar::dsl;
using ashlar::ActionType;
using ashlar::ErrorClass;

namespace {

std::vector<std::string> codes_for(const ashlar::Error& e, const std::string& field) {
  std::vector<std::string> out;
  for (const auto& f : e.fields)
    if (f.field == field) out.push_back(f.code);
  return out;
}

}  // namespace

TEST_CASE("defaults declares primary actions and * accepts public writable attributes") {
  auto d = domain("blog")
               .resource(resource("User")
                             .uuid_primary_key("id")
                             .attribute("name", type::string)
                             .attribute("secret", type::string, {.is_public = false})
                             .attribute("score", type::integer, {.writable = false})
                             .create_timestamp("inserted_at")
                             .defaults({"read", "destroy", "create:*", "update:*"}))
               .build();
  REQUIRE(d.has_value());
  const auto* user = d->resource("User");
  REQUIRE(user != nullptr);
  REQUIRE(user->actions().size() == 4);
  for (auto type : {ActionType::read, ActionType::destroy, ActionType::create, ActionType::update}) {
    const auto* a = user->primary_action(type);
    REQUIRE(a != nullptr);
    CHECK(a->name == ashlar::to_string(type));
  }
  // Not the primary key (not writable), not the private or unwritable attributes.
  CHECK(user->primary_action(ActionType::create)->accept == std::vector<std::string>{"name"});
  CHECK(user->primary_action(ActionType::update)->accept == std::vector<std::string>{"name"});
  CHECK(user->primary_action(ActionType::read)->accept.empty());
}

TEST_CASE("default_accept applies to actions that give no accept list, as in the reference") {
  auto d = domain("shop")
               .resource(resource("Item")
                             .uuid_primary_key("id")
                             .attribute("name", type::string)
                             .attribute("description", type::string)
                             .attribute("something_else", type::string)
                             .default_accept({"name", "description"})
                             .create("create")
                             .update("update")
                             .update("special_update", {.accept = {"something_else"}})
                             .update("touch", {.accept = ashlar::AcceptList::none()}))
               .build()
               .value();
  const auto* item = d.resource("Item");
  std::vector<std::string> both{"name", "description"};
  CHECK(item->action("create")->accept == both);
  CHECK(item->action("update")->accept == both);
  CHECK(item->action("special_update")->accept == std::vector<std::string>{"something_else"});
  CHECK(item->action("touch")->accept.empty());
  // Named actions without defaults are not primary.
  CHECK(item->primary_action(ActionType::create) == nullptr);
}

TEST_CASE("create:a,b accepts exactly the listed attributes") {
  auto d = domain("d")
               .resource(resource("R").uuid_primary_key("id").attribute("a", type::string).attribute("b", type::string)
                             .attribute("c", type::string).defaults({"create:a,b"}))
               .build()
               .value();
  CHECK(d.resource("R")->action("create")->accept == std::vector<std::string>{"a", "b"});
}

TEST_CASE("build reports every mistake at once, naming resource and field") {
  auto d = domain("broken")
               .resource(resource("User")
                             .uuid_primary_key("id")
                             .attribute("name", type::string)
                             .attribute("name", type::integer)
                             .attribute("code", type::string, {.constraints = {.match = "([a-z"}})
                             .attribute("count", type::integer, {.constraints = {.min_length = 2}})
                             .attribute("level", type::integer, {.default_value = "high"})
                             .create("create", {.accept = {"nickname", "id"}, .primary = true})
                             .create("register", {.primary = true})
                             .update("rename", {.accept = {"id"}})
                             .read("all", {.accept = {"name"}})
                             .defaults({"upsert"}))
               .resource(resource("Comment").attribute("content", type::string).defaults({"read"}))
               .resource(resource("Comment").uuid_primary_key("id"))
               .resource(resource("Bad-Name").uuid_primary_key("id"))
               .build();
  REQUIRE_FALSE(d.has_value());
  const auto& e = d.error();
  CHECK(e.cls == ErrorClass::framework);
  CHECK(codes_for(e, "User.name") == std::vector<std::string>{"duplicate_attribute"});
  CHECK(codes_for(e, "User.code") == std::vector<std::string>{"invalid_constraint"});
  CHECK(codes_for(e, "User.count") == std::vector<std::string>{"invalid_constraint"});
  CHECK(codes_for(e, "User.level") == std::vector<std::string>{"invalid_default"});
  CHECK(codes_for(e, "User.actions.create") == std::vector<std::string>{"unknown_attribute", "not_writable"});
  CHECK(codes_for(e, "User.actions.register") == std::vector<std::string>{"multiple_primary_actions"});
  CHECK(codes_for(e, "User.actions.rename") == std::vector<std::string>{"not_writable"});
  CHECK(codes_for(e, "User.actions.all") == std::vector<std::string>{"accept_not_allowed"});
  CHECK(codes_for(e, "User.actions") == std::vector<std::string>{"invalid_default_action"});
  CHECK(codes_for(e, "Comment") == std::vector<std::string>{"no_primary_key", "duplicate_resource"});
  CHECK(codes_for(e, "Bad-Name") == std::vector<std::string>{"invalid_name"});
  CHECK(e.message == "domain broken has 13 mistakes");
  const auto* unknown = e.field("User.actions.create");
  REQUIRE(unknown != nullptr);
  CHECK(unknown->message == "accepts \"nickname\", which is not an attribute of User");
  CHECK_THAT(e.describe(), Catch::Contains("User.actions.create: accepts \"nickname\", which is not an attribute of User"));
}

TEST_CASE("an update cannot accept a primary key attribute") {
  auto d = domain("d")
               .resource(resource("Tag")
                             .attribute("name", type::string, {.primary_key = true})
                             .defaults({"create:*", "update:*"})
                             .update("rekey", {.accept = {"name"}}))
               .build();
  REQUIRE_FALSE(d.has_value());
  REQUIRE(d.error().fields.size() == 1);
  CHECK(d.error().fields[0].field == "Tag.actions.rekey");
  CHECK(d.error().fields[0].code == "primary_key_not_updatable");
}

TEST_CASE("primary keys are never nil, and maps cannot be keys") {
  auto ok = domain("d").resource(resource("Tag").attribute("name", type::string, {.primary_key = true})).build().value();
  CHECK_FALSE(ok.resource("Tag")->attribute("name")->allow_nil);
  auto bad = domain("d").resource(resource("Doc").attribute("body", type::map, {.primary_key = true})).build();
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().fields.at(0).code == "invalid_primary_key");
  CHECK(bad.error().fields.at(0).message == "a primary key cannot be of type map");
}

TEST_CASE("the stored model round-trips through JSON without its functions") {
  auto d = domain("shop")
               .resource(resource("Item")
                             .uuid_primary_key("id")
                             .attribute("name", type::string, {.allow_nil = false, .constraints = {.max_length = 10}})
                             .attribute("tags", type::array(type::atom), {.constraints = {.one_of = {"a", "b"}}})
                             .attribute("price", type::floating, {.default_value = 1.5, .sensitive = true})
                             .update_timestamp("updated_at")
                             .defaults({"read", "create:*"}))
               .build()
               .value();
  auto json = ashlar::domain_to_json(d);
  auto back = ashlar::domain_from_json(json).value();
  CHECK(ashlar::domain_to_json(back) != "");
  const auto* item = back.resource("Item");
  REQUIRE(item != nullptr);
  CHECK(item->attribute("tags")->type == type::array(type::atom));
  CHECK(item->attribute("tags")->constraints.one_of == std::vector<std::string>{"a", "b"});
  CHECK(item->attribute("name")->constraints.max_length == 10u);
  CHECK(item->attribute("price")->default_value == ashlar::Value(1.5));
  CHECK(item->attribute("price")->sensitive);
  CHECK(item->attribute("updated_at")->timestamp == ashlar::Timestamp::update);
  CHECK(item->action("create")->accept == std::vector<std::string>{"name", "tags", "price"});
  CHECK(ashlar::incompatibilities(d, back).empty());

  auto garbage = ashlar::domain_from_json("{\"format\": 99}");
  REQUIRE_FALSE(garbage.has_value());
  CHECK(garbage.error().message == "the stored model does not decode: model format 99 is not 1");

  // Numbers of the wrong kind are refused, never converted: a float far past any integer's
  // range, a negative length or limit.
  auto huge = ashlar::domain_from_json(R"({"format": 3.3e60, "domain": "d", "resources": []})");
  REQUIRE_FALSE(huge.has_value());
  CHECK(huge.error().message == "the stored model does not decode: model format 3.3e+60 is not 1");
  for (auto [from, to, expected] :
       {std::tuple{std::string(R"("max_length":10)"), std::string(R"("max_length":1e300)"), std::string("max_length must be a non-negative integer, not 1e+300")},
        std::tuple{std::string(R"("max_length":10)"), std::string(R"("max_length":-1)"), std::string("max_length must be a non-negative integer, not -1")}}) {
    std::string bad = json;
    REQUIRE(bad.find(from) != std::string::npos);
    bad.replace(bad.find(from), from.size(), to);
    auto refused = ashlar::domain_from_json(bad);
    REQUIRE_FALSE(refused.has_value());
    CHECK(refused.error().message.find(expected) != std::string::npos);
    CHECK(refused.error().message.rfind("the stored model does not decode: ", 0) == 0);
  }
}

TEST_CASE("a stored model whose names repeat or whose references lead nowhere is refused") {
  auto d = domain("shop")
               .resource(resource("Item")
                             .uuid_primary_key("id")
                             .attribute("name", type::string)
                             .belongs_to("shop", "Shop")
                             .identity("unique_name", {"name"})
                             .defaults({"read", "create:*"}))
               .resource(resource("Shop").uuid_primary_key("id").has_many("items", "Item").defaults({"read"}))
               .build()
               .value();
  const auto good = nlohmann::json::parse(ashlar::domain_to_json(d));
  REQUIRE(ashlar::domain_from_json(good.dump()).has_value());
  auto refused = [&](auto&& damage) {
    nlohmann::json j = good;
    damage(j["resources"][0]);
    auto back = ashlar::domain_from_json(j.dump());
    REQUIRE_FALSE(back.has_value());
    CHECK(back.error().code == "framework");
    return back.error().message;
  };
  CHECK(refused([](auto& item) {
    auto copy = item["attributes"][1];
    copy["type"] = "integer";
    item["attributes"].push_back(copy);
  }) == "the stored model does not decode: Item.name: is declared more than once");
  CHECK(refused([](auto& item) { item["relationships"][0]["destination"] = "Store"; }) ==
        "the stored model does not decode: Item.shop: relates to Store, which is not a resource of domain shop");
  CHECK(refused([](auto& item) { item["identities"][0]["attributes"] = {"title"}; }) ==
        "the stored model does not decode: Item.identities.unique_name: title is not an attribute of Item");
  CHECK(refused([](auto& item) { item["actions"][1]["accept"].push_back("price"); }) ==
        "the stored model does not decode: Item.actions.create: price is not an attribute of Item");
  CHECK(refused([](auto& item) { item["actions"].push_back(item["actions"][0]); }) ==
        "the stored model does not decode: Item.actions.read: is declared more than once");
  CHECK(refused([](auto& item) {
    for (auto& a : item["attributes"]) a["primary_key"] = false;
  }) == "the stored model does not decode: Item: has no primary key");
}

TEST_CASE("allow_empty is stored with the model only where set and applies to strings only") {
  auto d = domain("shop")
               .resource(resource("Item")
                             .uuid_primary_key("id")
                             .attribute("name", type::string, {.allow_nil = false, .allow_empty = true})
                             .attribute("note", type::string)
                             .create("create", {.accept = {"name", "note"},
                                                .arguments = {argument("code", type::string, {.allow_empty = true}),
                                                              argument("memo", type::string)}}))
               .build()
               .value();
  auto json = ashlar::domain_to_json(d);
  auto back = ashlar::domain_from_json(json).value();
  const auto* item = back.resource("Item");
  REQUIRE(item != nullptr);
  CHECK(item->attribute("name")->allow_empty);
  CHECK_FALSE(item->attribute("note")->allow_empty);
  CHECK(item->action("create")->argument("code")->allow_empty);
  CHECK_FALSE(item->action("create")->argument("memo")->allow_empty);
  // Written only where set: a model without it is stored as before, and reads as false.
  CHECK(json.find("\"allow_empty\":true") != std::string::npos);
  auto plain = domain("shop").resource(resource("Item").uuid_primary_key("id").attribute("note", type::string)).build();
  CHECK(ashlar::domain_to_json(plain.value()).find("allow_empty") == std::string::npos);

  auto wrong = domain("shop")
                   .resource(resource("Item")
                                 .uuid_primary_key("id")
                                 .attribute("count", type::integer, {.allow_empty = true})
                                 .create("create", {.arguments = {argument("n", type::integer, {.allow_empty = true})}}))
                   .build();
  REQUIRE_FALSE(wrong.has_value());
  CHECK(wrong.error().cls == ErrorClass::framework);
  CHECK(codes_for(wrong.error(), "Item.count") == std::vector<std::string>{"invalid_option"});
  CHECK(codes_for(wrong.error(), "Item.actions.create.arguments.n") == std::vector<std::string>{"invalid_option"});
  const auto* problem = wrong.error().field("Item.count");
  REQUIRE(problem != nullptr);
  CHECK(problem->message == "allow_empty applies to strings only");
}

TEST_CASE("default relationship attributes are named as Ash names them, abbreviations as one word") {
  CHECK(ashlar::snake_case("Post") == "post");
  CHECK(ashlar::snake_case("BlogPost") == "blog_post");
  CHECK(ashlar::snake_case("HTTPClient") == "http_client");
  CHECK(ashlar::snake_case("APIKey") == "api_key");
  CHECK(ashlar::snake_case("SKU") == "sku");
  CHECK(ashlar::snake_case("OAuth2Token") == "o_auth2_token");
  CHECK(ashlar::snake_case("Already_Snake") == "already_snake");

  auto d = domain("net")
               .resource(resource("HTTPClient").uuid_primary_key("id").has_many("requests", "Request").defaults({"read"}))
               .resource(resource("Request").uuid_primary_key("id").belongs_to("http_client", "HTTPClient").defaults({"read"}))
               .build();
  REQUIRE(d.has_value());
  CHECK(d->resource("HTTPClient")->relationship("requests")->destination_attribute == "http_client_id");
}
