#include "e2e/prometheus_text.h"

#include <map>
#include <regex>
#include <set>
#include <sstream>

namespace swarm::e2e {

std::string CheckPrometheusText(const std::string& text) {
  static const std::regex kHelp(R"(^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) .*$)");
  static const std::regex kType(
      R"(^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$)");
  static const std::regex kSample(
      R"(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\[\\"n])*")(,[a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\[\\"n])*")*,?\})? (\S+)( -?[0-9]+)?$)");
  std::istringstream in(text);
  std::string line;
  int n = 0;
  std::map<std::string, std::string> types;
  int samples = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty()) continue;
    std::smatch m;
    if (line.rfind("# HELP ", 0) == 0) {
      if (!std::regex_match(line, m, kHelp)) return "line " + std::to_string(n) + ": bad HELP";
      continue;
    }
    if (line.rfind("# TYPE ", 0) == 0) {
      if (!std::regex_match(line, m, kType)) return "line " + std::to_string(n) + ": bad TYPE";
      if (types.count(m[1])) return "line " + std::to_string(n) + ": duplicate TYPE for " + m[1].str();
      types[m[1]] = m[2];
      continue;
    }
    if (line[0] == '#') continue;  // other comments are allowed
    if (!std::regex_match(line, m, kSample)) {
      return "line " + std::to_string(n) + ": not a sample: " + line;
    }
    const std::string value = m[7];
    if (value != "+Inf" && value != "-Inf" && value != "NaN") {
      char* end = nullptr;
      std::strtod(value.c_str(), &end);
      if (end == value.c_str() || *end != '\0') {
        return "line " + std::to_string(n) + ": bad value '" + value + "'";
      }
    }
    ++samples;
  }
  if (samples == 0) return "no samples";
  return "";
}

}  // namespace swarm::e2e
