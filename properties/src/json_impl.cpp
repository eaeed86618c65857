// Boost.JSON in header-only mode: its implementation is compiled once, here.
#include <boost/json/src.hpp>
