// libzmq's public API; every constant pairs uses is a plain integer macro that Swift imports directly.
#include <zmq.h>
