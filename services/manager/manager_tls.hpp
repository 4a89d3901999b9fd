#pragma once
// The manager's transport security: TLS on by default with a self-signed certificate kept in
// DATA_DIR/tls/, certificate files from configuration, or off behind a TLS proxy; and the
// rule that without MANAGER_AUTH_TOKEN only loopback addresses may be bound.
#include "common/service.hpp"
#include "settings.hpp"

namespace manager {

// Applies MANAGER_TLS and MANAGER_AUTH_TOKEN; throws ConfigError on invalid combinations.
void configure_tls(common::Service& service, const Settings& settings);

}  // namespace manager
