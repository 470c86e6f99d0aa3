#include "common/log.h"

#include <spdlog/sinks/stdout_color_sinks.h>

namespace swarm {

StatusOr<LogFormat> ParseLogFormat(const std::string& s) {
  if (s == "text") return LogFormat::kText;
  if (s == "json") return LogFormat::kJson;
  return absl::InvalidArgumentError(
      absl::StrCat("--log-format '", s, "' is not one of: text, json"));
}

Status InitLogging(LogFormat format, const std::string& level, const std::string& component) {
  const auto lvl = spdlog::level::from_str(level);
  if (lvl == spdlog::level::off && level != "off") {
    return absl::InvalidArgumentError(absl::StrCat(
        "--log-level '", level, "' is not one of: trace, debug, info, warn, error, off"));
  }
  auto logger = spdlog::stderr_color_mt("swarm:" + component);
  spdlog::set_default_logger(logger);
  spdlog::set_level(lvl);
  if (format == LogFormat::kJson) {
    // Message text is escaped by callers that log user data; component and
    // level never need escaping.
    spdlog::set_pattern(R"({"ts":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l","component":")" +
                            component + R"(","msg":"%v"})",
                        spdlog::pattern_time_type::utc);
  } else {
    spdlog::set_pattern("%H:%M:%S.%e %^%-5l%$ [" + component + "] %v");
  }
  return absl::OkStatus();
}

}  // namespace swarm
