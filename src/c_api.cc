// SPDX-License-Identifier: Apache-2.0
// The one translation unit that compiles nsenter's C entry point.
#include "nsenter/c_api_impl.hpp"
