// The one translation unit that compiles nsenter's C entry point.
#include "nsenter/c_api_impl.hpp"
