// Errors are values at module boundaries: absl::Status / absl::StatusOr.
// This header adds the two propagation macros and always-on assertions.
#pragma once

#include <cstdio>
#include <cstdlib>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

namespace swarm {
using absl::Status;
using absl::StatusOr;
}  // namespace swarm

#define SWARM_CONCAT_INNER_(a, b) a##b
#define SWARM_CONCAT_(a, b) SWARM_CONCAT_INNER_(a, b)

// Returns from the current function if `expr` (an absl::Status) is not OK.
#define SWARM_RETURN_IF_ERROR(expr)                 \
  do {                                              \
    ::absl::Status swarm_status_ = (expr);          \
    if (!swarm_status_.ok()) return swarm_status_;  \
  } while (0)

// `lhs = value of StatusOr expr`, or return its error.
#define SWARM_ASSIGN_OR_RETURN(lhs, expr) \
  SWARM_ASSIGN_OR_RETURN_IMPL_(SWARM_CONCAT_(swarm_sor_, __LINE__), lhs, expr)
#define SWARM_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) return tmp.status();                \
  lhs = std::move(tmp).value()

// Invariants that stay on in release builds (TigerBeetle style). A failed
// assertion is a bug in swarm, never a reaction to bad input: bad input gets a
// Status.
#define SWARM_ASSERT(cond)                                                       \
  do {                                                                           \
    if (!(cond)) {                                                               \
      std::fprintf(stderr, "swarm: assertion failed: %s at %s:%d\n", #cond,     \
                   __FILE__, __LINE__);                                          \
      std::abort();                                                              \
    }                                                                            \
  } while (0)
