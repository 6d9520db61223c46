// The effective configuration as YAML (`shoal -T`): every key with its value after loading,
// defaults filled in, paths absolute, `workers: auto` resolved. Loading the output gives the
// same configuration again.
#pragma once

#include <string>

#include "config/config.hpp"

namespace shoal {

std::string dump_config(const Config& config);

}  // namespace shoal
