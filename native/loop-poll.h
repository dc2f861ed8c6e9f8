// The uv_poll watches of one JavaScript environment (see loop-poll.cc).
#pragma once

#include <cstdint>
#include <unordered_map>

#include "common.h"

namespace shmring {

struct Watch;

struct PollSet {
  std::unordered_map<uint32_t, Watch*> watches;
  uint32_t nextId = 1;
  int sender = -1;  // an unbound datagram socket for ringing other doorbells
};

}  // namespace shmring
