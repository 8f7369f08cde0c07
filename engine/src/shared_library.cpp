// libashlar.so's own translation unit. Its code is the five static libraries, linked
// whole (engine/CMakeLists.txt); their ASHLAR_API declarations are what it exports.
#include <ashlar/ashlar.hpp>
