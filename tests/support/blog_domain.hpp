#pragma once
// The blog domain the tests share, built with the model alone, so that tests of the
// libraries below the runtime (notifiers) use it too.

#include <ashlar/model/dsl.hpp>

namespace ashlar::test {

// The reference's User/Comment story (Comment.user_id is a plain uuid until
// relationships exist), plus a Tag resource with a natural, composite key and every
// attribute type.
inline Domain blog_domain() {
  using namespace ashlar::dsl;
  return domain("blog")
      .resource(resource("User")
                    .uuid_primary_key("id")
                    .attribute("name", type::string, {.allow_nil = false, .constraints = {.min_length = 1, .max_length = 40}})
                    .attribute("email", type::string,
                               {.constraints = {.match = "[^@ ]+@[^@ ]+"}})
                    .attribute("age", type::integer, {.constraints = {.min = 0, .max = 150}})
                    .attribute("password", type::string, {.sensitive = true})
                    .attribute("role", type::atom,
                               {.default_value = Atom{"member"}, .constraints = {.one_of = {"member", "admin"}}})
                    .create_timestamp("inserted_at")
                    .update_timestamp("updated_at")
                    .defaults({"read", "destroy", "create:*", "update:*"}))
      .resource(resource("Comment")
                    .uuid_primary_key("id")
                    .attribute("content", type::string, {.allow_nil = false})
                    .attribute("user_id", type::uuid, {.allow_nil = false})
                    .defaults({"read", "destroy", "create:*", "update:*"})
                    .update("edit", {.accept = {"content"}}))
      .resource(resource("Tag")
                    .attribute("scope", type::string, {.primary_key = true})
                    .attribute("name", type::string, {.primary_key = true})
                    .attribute("score", type::floating, {.default_value = 0.5})
                    .attribute("active", type::boolean, {.default_value = true})
                    .attribute("since", type::date)
                    .attribute("seen_at", type::utc_datetime)
                    .attribute("blob", type::binary)
                    .attribute("meta", type::map)
                    .attribute("aliases", type::array(type::string))
                    .attribute("owner", type::uuid)
                    .defaults({"read", "destroy", "create:*", "update:*"}))
      .build()
      .value();
}

}  // namespace ashlar::test
