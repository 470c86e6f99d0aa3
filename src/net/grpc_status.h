// The one converter between gRPC statuses and absl::Status (same code, same
// message). Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include <grpcpp/support/status.h>

#include "common/status.h"

namespace swarm::net {

// "UNAVAILABLE", "PERMISSION_DENIED", ... ("CODE_<n>" for unknown codes).
std::string GrpcCodeName(grpc::StatusCode code);
// "UNAVAILABLE: failed to connect ..." (gRPC status as text).
std::string GrpcStatusText(const grpc::Status& s);
// Same code and message; OK stays OK.
absl::Status FromGrpc(const grpc::Status& s);
// Same code; the message becomes "<context>: <message>" (e.g. "JobStatus at 127.0.0.1:7000").
absl::Status FromGrpc(const grpc::Status& s, std::string_view context);
// Same code and message; OK stays OK.
grpc::Status ToGrpc(const absl::Status& s);

}  // namespace swarm::net
