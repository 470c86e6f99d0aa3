#include "common/config.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "absl/strings/str_join.h"
#include <toml++/toml.h>

namespace swarm {
namespace {
// Int bounds are kept as doubles; INT64_MAX rounds up to 2^63 there, and a
// plain cast back would overflow. Saturate instead.
int64_t IntBound(double d) {
  if (d >= 9223372036854775807.0) return INT64_MAX;
  if (d <= -9223372036854775808.0) return INT64_MIN;
  return static_cast<int64_t>(d);
}
}  // namespace
namespace {

std::string TypeName(ConfigKey::Type t) {
  switch (t) {
    case ConfigKey::Type::kBool: return "a boolean";
    case ConfigKey::Type::kInt: return "an integer";
    case ConfigKey::Type::kDouble: return "a number";
    case ConfigKey::Type::kString: return "a string";
    case ConfigKey::Type::kStringList: return "an array of strings";
  }
  return "?";
}

std::string FormatNumber(double d) {
  std::ostringstream os;
  os << d;
  return os.str();
}

std::string ValueText(const ConfigValue& v) {
  struct V {
    std::string operator()(bool b) const { return b ? "true" : "false"; }
    std::string operator()(int64_t i) const { return std::to_string(i); }
    std::string operator()(double d) const { return FormatNumber(d); }
    std::string operator()(const std::string& s) const { return "\"" + s + "\""; }
    std::string operator()(const std::vector<std::string>& l) const {
      std::vector<std::string> q;
      for (const auto& s : l) q.push_back("\"" + s + "\"");
      return "[" + absl::StrJoin(q, ", ") + "]";
    }
  };
  return std::visit(V{}, v);
}

// Converts a TOML leaf into the key's type, or explains why it cannot.
StatusOr<ConfigValue> FromToml(const ConfigKey& k, const toml::node& n, const std::string& where) {
  auto mismatch = [&](const std::string& got) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": key '", k.name, "' = ", got,
                                                   " must be ", TypeName(k.type)));
  };
  std::ostringstream shown;
  if (auto v = n.value_exact<std::string>()) shown << '"' << *v << '"';
  else if (auto b = n.value_exact<bool>()) shown << (*b ? "true" : "false");
  else if (auto i = n.value_exact<int64_t>()) shown << *i;
  else if (auto d = n.value_exact<double>()) shown << *d;
  else if (n.is_array()) shown << "an array";
  else if (n.is_table()) shown << "a table";
  else shown << "a date/time";
  switch (k.type) {
    case ConfigKey::Type::kBool:
      if (auto b = n.value_exact<bool>()) return ConfigValue(*b);
      return mismatch(shown.str());
    case ConfigKey::Type::kInt:
      if (auto i = n.value_exact<int64_t>()) return ConfigValue(*i);
      return mismatch(shown.str());
    case ConfigKey::Type::kDouble:
      if (n.is_floating_point() || n.is_integer()) return ConfigValue(*n.value<double>());
      return mismatch(shown.str());
    case ConfigKey::Type::kString:
      if (auto s = n.value_exact<std::string>()) return ConfigValue(*s);
      return mismatch(shown.str());
    case ConfigKey::Type::kStringList: {
      const toml::array* arr = n.as_array();
      if (!arr) return mismatch(shown.str());
      std::vector<std::string> out;
      for (const auto& e : *arr) {
        auto s = e.value_exact<std::string>();
        if (!s) return mismatch(shown.str());
        out.push_back(*s);
      }
      return ConfigValue(std::move(out));
    }
  }
  return mismatch(shown.str());
}

}  // namespace

size_t EditDistance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

bool Config::GetBool(const std::string& key) const { return std::get<bool>(values_.at(key)); }
int64_t Config::GetInt(const std::string& key) const { return std::get<int64_t>(values_.at(key)); }
double Config::GetDouble(const std::string& key) const {
  return std::get<double>(values_.at(key));
}
const std::string& Config::GetString(const std::string& key) const {
  return std::get<std::string>(values_.at(key));
}
const std::vector<std::string>& Config::GetStringList(const std::string& key) const {
  return std::get<std::vector<std::string>>(values_.at(key));
}

ConfigSchema& ConfigSchema::Bool(std::string key, bool def, std::string help) {
  keys_.push_back({std::move(key), ConfigKey::Type::kBool, def, 0, 0, {}, std::move(help)});
  return *this;
}
ConfigSchema& ConfigSchema::Int(std::string key, int64_t def, int64_t min, int64_t max,
                                std::string help) {
  SWARM_ASSERT(min <= def && def <= max);
  keys_.push_back({std::move(key), ConfigKey::Type::kInt, def, static_cast<double>(min),
                   static_cast<double>(max), {}, std::move(help)});
  return *this;
}
ConfigSchema& ConfigSchema::Double(std::string key, double def, double min, double max,
                                   std::string help) {
  SWARM_ASSERT(min <= def && def <= max);
  keys_.push_back({std::move(key), ConfigKey::Type::kDouble, def, min, max, {}, std::move(help)});
  return *this;
}
ConfigSchema& ConfigSchema::String(std::string key, std::string def,
                                   std::vector<std::string> allowed, std::string help) {
  keys_.push_back({std::move(key), ConfigKey::Type::kString, std::move(def), 0, 0,
                   std::move(allowed), std::move(help)});
  return *this;
}
ConfigSchema& ConfigSchema::StringList(std::string key, std::vector<std::string> def,
                                       std::string help) {
  keys_.push_back(
      {std::move(key), ConfigKey::Type::kStringList, std::move(def), 0, 0, {}, std::move(help)});
  return *this;
}

const ConfigKey* ConfigSchema::Find(const std::string& key) const {
  for (const auto& k : keys_) {
    if (k.name == key) return &k;
  }
  return nullptr;
}

std::string ConfigSchema::ClosestKey(const std::string& key) const {
  std::string best;
  size_t best_d = SIZE_MAX;
  for (const auto& k : keys_) {
    size_t d = EditDistance(key, k.name);
    // Also compare the last component alone, so "max_mesage_bytes" in the
    // wrong section still finds "net.max_message_bytes".
    const auto dot = k.name.rfind('.');
    if (dot != std::string::npos) {
      const auto kd = key.rfind('.');
      const std::string tail = kd == std::string::npos ? key : key.substr(kd + 1);
      d = std::min(d, EditDistance(tail, k.name.substr(dot + 1)));
    }
    if (d < best_d) {
      best_d = d;
      best = k.name;
    }
  }
  // Only suggest when it is plausibly a typo.
  if (best_d <= std::max<size_t>(2, key.size() / 3)) return best;
  return "";
}

Status ConfigSchema::Validate(const ConfigKey& k, const ConfigValue& v,
                              const std::string& where) const {
  if (k.type == ConfigKey::Type::kInt) {
    const int64_t i = std::get<int64_t>(v);
    if (i < IntBound(k.min) || i > IntBound(k.max)) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, ": key '", k.name, "' = ", i, " is out of range [",
          IntBound(k.min), ", ", IntBound(k.max), "]"));
    }
  } else if (k.type == ConfigKey::Type::kDouble) {
    const double d = std::get<double>(v);
    if (!(d >= k.min && d <= k.max)) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": key '", k.name, "' = ",
                                                     FormatNumber(d), " is out of range [",
                                                     FormatNumber(k.min), ", ",
                                                     FormatNumber(k.max), "]"));
    }
  } else if (k.type == ConfigKey::Type::kString && !k.allowed.empty()) {
    const auto& s = std::get<std::string>(v);
    if (std::find(k.allowed.begin(), k.allowed.end(), s) == k.allowed.end()) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": key '", k.name, "' = \"", s,
                                                     "\" is not one of: ",
                                                     absl::StrJoin(k.allowed, ", ")));
    }
  }
  return absl::OkStatus();
}

Config ConfigSchema::Defaults() const {
  Config c;
  for (const auto& k : keys_) c.values_[k.name] = k.default_value;
  return c;
}

Status ConfigSchema::Set(Config& config, const std::string& key, ConfigValue value,
                         const std::string& where) const {
  const ConfigKey* k = Find(key);
  if (!k) {
    std::string hint = ClosestKey(key);
    return absl::InvalidArgumentError(absl::StrCat(
        where, ": unknown key '", key, "'",
        hint.empty() ? "" : absl::StrCat(" (did you mean '", hint, "'?)")));
  }
  // Promote an integer to a double where a number is expected.
  if (k->type == ConfigKey::Type::kDouble && std::holds_alternative<int64_t>(value)) {
    value = static_cast<double>(std::get<int64_t>(value));
  }
  if (value.index() != k->default_value.index()) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": key '", key, "' = ",
                                                   ValueText(value), " must be ",
                                                   TypeName(k->type)));
  }
  SWARM_RETURN_IF_ERROR(Validate(*k, value, where));
  config.values_[key] = std::move(value);
  config.explicitly_set_[key] = true;
  return absl::OkStatus();
}

StatusOr<Config> ConfigSchema::ParseString(const std::string& text,
                                           const std::string& source) const {
  toml::table root;
  try {
    root = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    return absl::InvalidArgumentError(absl::StrCat(source, ":", e.source().begin.line,
                                                   ": TOML syntax error: ",
                                                   std::string(e.description())));
  }
  Config config = Defaults();
  Status status = absl::OkStatus();
  // Walk tables recursively, flattening to dotted keys.
  std::function<void(const toml::table&, const std::string&)> walk =
      [&](const toml::table& t, const std::string& prefix) {
        for (const auto& [name, node] : t) {
          if (!status.ok()) return;
          const std::string key = prefix.empty() ? std::string(name.str())
                                                 : prefix + "." + std::string(name.str());
          const std::string where = absl::StrCat(source, ":", node.source().begin.line);
          const ConfigKey* k = Find(key);
          if (!k && node.is_table()) {
            walk(*node.as_table(), key);
            continue;
          }
          if (!k) {
            std::string hint = ClosestKey(key);
            status = absl::InvalidArgumentError(absl::StrCat(
                where, ": unknown key '", key, "'",
                hint.empty() ? "" : absl::StrCat(" (did you mean '", hint, "'?)")));
            return;
          }
          auto v = FromToml(*k, node, where);
          if (!v.ok()) {
            status = v.status();
            return;
          }
          status = Set(config, key, *std::move(v), where);
        }
      };
  walk(root, "");
  SWARM_RETURN_IF_ERROR(status);
  return config;
}

StatusOr<Config> ConfigSchema::ParseFile(const std::string& path) const {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("cannot read config file '", path, "'"));
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseString(ss.str(), path);
}

StatusOr<Config> ConfigSchema::ApplyOverrides(Config base,
                                              const std::vector<std::string>& overrides) const {
  for (const auto& o : overrides) {
    const auto eq = o.find('=');
    if (eq == std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("--set '", o, "': expected key=value"));
    }
    // Reuse the TOML parser for the value so quoting rules are the same.
    const std::string key = o.substr(0, eq);
    const ConfigKey* k = Find(key);
    if (!k) return Set(base, key, int64_t{0}, "--set");  // names the unknown key
    std::string value = o.substr(eq + 1);
    if (k && k->type == ConfigKey::Type::kString && (value.empty() || value[0] != '"')) {
      value = "\"" + value + "\"";
    }
    toml::table t;
    try {
      t = toml::parse("v = " + value);
    } catch (const toml::parse_error& e) {
      return absl::InvalidArgumentError(absl::StrCat("--set '", o, "': cannot parse value: ",
                                                     std::string(e.description())));
    }
    auto v = FromToml(*k, *t.get("v"), "--set");
    if (!v.ok()) return v.status();
    SWARM_RETURN_IF_ERROR(Set(base, key, *std::move(v), "--set"));
  }
  return base;
}

std::string ConfigSchema::ExampleToml() const {
  // Group keys by section, sections in order of first appearance.
  std::vector<std::string> sections;
  for (const auto& k : keys_) {
    const auto dot = k.name.rfind('.');
    const std::string sec = dot == std::string::npos ? "" : k.name.substr(0, dot);
    if (std::find(sections.begin(), sections.end(), sec) == sections.end()) {
      sections.push_back(sec);
    }
  }
  std::stable_partition(sections.begin(), sections.end(),
                        [](const std::string& s) { return s.empty(); });
  std::ostringstream os;
  for (const auto& sec : sections) {
    if (!sec.empty()) os << "\n[" << sec << "]\n";
    for (const auto& k : keys_) {
      const auto dot = k.name.rfind('.');
      const std::string ksec = dot == std::string::npos ? "" : k.name.substr(0, dot);
      if (ksec != sec) continue;
      os << "# " << k.help;
      if (k.type == ConfigKey::Type::kInt) {
        os << " Range [" << IntBound(k.min) << ", " << IntBound(k.max)
           << "].";
      } else if (k.type == ConfigKey::Type::kDouble) {
        os << " Range [" << FormatNumber(k.min) << ", " << FormatNumber(k.max) << "].";
      }
      if (!k.allowed.empty()) os << " One of: " << absl::StrJoin(k.allowed, ", ") << ".";
      std::string v = ValueText(k.default_value);
      if (k.type == ConfigKey::Type::kDouble && v.find_first_of(".eE") == std::string::npos) {
        v += ".0";
      }
      os << "\n" << (dot == std::string::npos ? k.name : k.name.substr(dot + 1)) << " = " << v
         << "\n";
    }
  }
  return os.str();
}

}  // namespace swarm
