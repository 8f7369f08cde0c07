#pragma once
// Everything an embedder needs: the model DSL and the engine.

#include <ashlar/calculation.hpp>
#include <ashlar/changes.hpp>
#include <ashlar/engine.hpp>
#include <ashlar/generic.hpp>
#include <ashlar/interface.hpp>
#include <ashlar/manage.hpp>
#include <ashlar/manual.hpp>
#include <ashlar/model/dsl.hpp>
#include <ashlar/model/json.hpp>
#include <ashlar/record.hpp>
#include <ashlar/replica.hpp>
