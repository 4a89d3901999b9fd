#pragma once
// Everything libstore offers, in one include.
#include "store/connection.hpp"
#include "store/database.hpp"
#include "store/error.hpp"
#include "store/migration.hpp"
#include "store/statement.hpp"
#include "store/time.hpp"
