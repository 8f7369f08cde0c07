#pragma once
// Running a test's code on a thread with a small stack, where recursion that grows with its
// input's size fails.

#include <catch2/catch.hpp>

#include <pthread.h>

#include <functional>

namespace ashlar::test {

// Runs `fn` on a thread with a 256 KiB stack: the recursion a few thousand terms would
// need (a few hundred bytes a term) does not fit, while a bounded one does.
inline void on_small_stack(const std::function<void()>& fn) {
  pthread_attr_t attr;
  REQUIRE(pthread_attr_init(&attr) == 0);
  REQUIRE(pthread_attr_setstacksize(&attr, 256 * 1024) == 0);
  pthread_t thread;
  auto run = [](void* arg) -> void* {
    (*static_cast<const std::function<void()>*>(arg))();
    return nullptr;
  };
  REQUIRE(pthread_create(&thread, &attr, run, const_cast<std::function<void()>*>(&fn)) == 0);
  pthread_attr_destroy(&attr);
  REQUIRE(pthread_join(thread, nullptr) == 0);
}

}  // namespace ashlar::test
