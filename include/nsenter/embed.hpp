// nsenter: wiring a pipeline into the embedding program's constructor.
//
// The library never defines a constructor itself; the program does, in one
// translation unit, with this macro:
//
//   void on_init(nsenter::InitContext& ctx, int argc, char** argv) { ... }
//   NSENTER_INIT_CONSTRUCTOR(my_nsexec, 200, nsenter::RuncCompatNsexec, on_init)
//
// In a process that is not an init the constructor costs one getenv. In an
// init it runs the stages before main(), and `on_init` runs in stage 2 with
// the context; if it returns, the program continues into main() as the
// container's init (as runc's Go code does after nsexec).
//
// Priority: 101..65535, lower runs earlier; 0..100 are reserved. Run before
// any constructor that starts a thread, since the stages need a single
// thread (user namespaces refuse multithreaded callers).
//
// Bazel: if the constructor lives in a cc_library rather than in the
// binary's own sources, give that library `alwayslink = True`; nothing
// references the constructor, so the linker would otherwise drop it.
#pragma once

#include "nsenter/nsexec.hpp"

#define NSENTER_INIT_CONSTRUCTOR(name, priority, Pipeline, on_init)                       \
  __attribute__((constructor(priority))) static void name(int argc, char** argv, char**) { \
    if (auto nsenter_ctx_ = Pipeline{}.run()) on_init(*nsenter_ctx_, argc, argv);          \
  }

// The same, calling `before_pipeline(argc, argv)` first, in an init only
// (a process that is not one still pays one getenv): for what must happen
// before any stage exists, such as blocking signals that stage 2, pid 1 of
// a new pid namespace from birth, would otherwise drop (nsrun does).
#define NSENTER_INIT_CONSTRUCTOR_AFTER(name, priority, Pipeline, before_pipeline, on_init)  \
  __attribute__((constructor(priority))) static void name(int argc, char** argv, char**) { \
    Pipeline nsenter_pipeline_;                                                            \
    if (!nsenter_pipeline_.is_init()) return;                                              \
    before_pipeline(argc, argv);                                                           \
    if (auto nsenter_ctx_ = nsenter_pipeline_.run()) on_init(*nsenter_ctx_, argc, argv);   \
  }
