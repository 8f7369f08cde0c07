#pragma once
// Validating a resource's topic templates (ResourceBuilder::publish) when the domain is built.

#include <ashlar/model/resource.hpp>

#include <vector>

namespace ashlar {

// The templates that are valid for `resource` (whose attributes and actions are resolved);
// one problem for each mistake: an unknown or read action, an empty topic or part, a
// literal with "." or white space, an unknown, sensitive, map or array attribute.
std::vector<TopicTemplate> check_topics(const Resource& resource, const std::vector<TopicTemplate>& declared,
                                        std::vector<FieldError>& problems);

}  // namespace ashlar
