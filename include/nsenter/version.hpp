// SPDX-License-Identifier: Apache-2.0
// nsenter: version and namespace macros shared by every header.
#pragma once

#define NSENTER_VERSION_MAJOR 0
#define NSENTER_VERSION_MINOR 1
#define NSENTER_VERSION_PATCH 0
#define NSENTER_VERSION_STRING "0.1.0"

// An inline namespace lets a future ABI-breaking release coexist with this
// one in a program that links two embedders (same trick as fmt's v12).
#define NSENTER_BEGIN_NAMESPACE \
  namespace nsenter {           \
  inline namespace v0 {
#define NSENTER_END_NAMESPACE \
  }                           \
  }
