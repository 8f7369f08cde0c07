#pragma once

// ashlar's libraries are compiled with -fvisibility=hidden: only what a public header
// marks ASHLAR_API (classes, with all their members, and free functions) is exported from
// a shared build, so internal symbols cannot clash with a host program's or be reached
// by it.
#if defined(_WIN32)
#define ASHLAR_API
#else
#define ASHLAR_API __attribute__((visibility("default")))
#endif
