#pragma once
// The manager's transport security: TLS on by default with a self-signed certificate kept in
// DATA_DIR/tls/, certificate files from configuration, or off behind a TLS proxy; and the
// rule that without MANAGER_AUTH_TOKEN only loopback addresses may be bound.
#include <vector>

#include "common/config.hpp"
#include "common/service.hpp"

namespace manager {

std::vector<common::OptionSpec> tls_options();
// Applies MANAGER_TLS and MANAGER_AUTH_TOKEN; throws ConfigError on invalid combinations.
void configure_tls(common::Service& service);

}  // namespace manager
