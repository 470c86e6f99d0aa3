// Structured logging through spdlog. Human-readable text by default; one JSON
// object per line with `--log-format json`.
#pragma once

#include <string>

#include <spdlog/spdlog.h>

#include "common/status.h"

namespace swarm {

enum class LogFormat { kText, kJson };

// Configures the default spdlog logger (stderr). `level` is one of
// trace, debug, info, warn, error, off. `component` is included in every line
// (e.g. the node id).
Status InitLogging(LogFormat format, const std::string& level, const std::string& component);
StatusOr<LogFormat> ParseLogFormat(const std::string& s);

}  // namespace swarm
