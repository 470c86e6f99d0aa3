// A strict checker of the Prometheus text exposition format (0.0.4), for tests.
#pragma once

#include <string>

namespace swarm::e2e {

// "" if `text` is valid; otherwise "line N: what is wrong".
std::string CheckPrometheusText(const std::string& text);

}  // namespace swarm::e2e
