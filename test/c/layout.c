/* Prints the offsets and constants of the C mirror of the ring layout as JSON, for
 * test/layout.test.ts. */
#include <stdio.h>
#include "shmring_layout.h"

#define FIELD(name, value) printf("%s\"%s\":%lld", first ? "" : ",", name, (long long)(value)), first = 0

int main(void) {
  int first = 1;
  printf("{");
  FIELD("RING_MAGIC", SHMRING_MAGIC);
  FIELD("RING_VERSION", SHMRING_VERSION);
  FIELD("KIND_SPSC", SHMRING_KIND_SPSC);
  FIELD("KIND_MPMC", SHMRING_KIND_MPMC);
  FIELD("STATE_FORMATTING", SHMRING_STATE_FORMATTING);
  FIELD("STATE_READY", SHMRING_STATE_READY);
  FIELD("MAGIC_OFFSET", offsetof(struct shmring_header, magic));
  FIELD("VERSION_OFFSET", offsetof(struct shmring_header, version));
  FIELD("KIND_OFFSET", offsetof(struct shmring_header, kind));
  FIELD("STATE_OFFSET", offsetof(struct shmring_header, state));
  FIELD("PARAM_A_OFFSET", offsetof(struct shmring_header, param_a));
  FIELD("PARAM_B_OFFSET", offsetof(struct shmring_header, param_b));
  FIELD("HEADER_SIZE_OFFSET", offsetof(struct shmring_header, header_size));
  FIELD("TOTAL_SIZE_OFFSET", offsetof(struct shmring_header, total_size));
  FIELD("PRODUCER_OWNER_OFFSET", offsetof(struct shmring_header, producer_owner));
  FIELD("CONSUMER_OWNER_OFFSET", offsetof(struct shmring_header, consumer_owner));
  FIELD("PRODUCER_CLOSED_OFFSET", offsetof(struct shmring_header, producer_closed));
  FIELD("PARAM_C_OFFSET", offsetof(struct shmring_header, param_c));
  FIELD("LOST_OFFSET", offsetof(struct shmring_header, lost));
  FIELD("TAIL_OFFSET", offsetof(struct shmring_header, tail));
  FIELD("HEAD_OFFSET", offsetof(struct shmring_header, head));
  FIELD("CONSUMER_WAITERS_OFFSET", offsetof(struct shmring_header, consumer_waiters));
  FIELD("PRODUCER_WAITERS_OFFSET", offsetof(struct shmring_header, producer_waiters));
  FIELD("CONSUMER_EVENT_OFFSET", offsetof(struct shmring_header, consumer_event));
  FIELD("PRODUCER_EVENT_OFFSET", offsetof(struct shmring_header, producer_event));
  FIELD("HEADER_SIZE", SHMRING_HEADER_SIZE);
  FIELD("DATA_OFFSET", sizeof(struct shmring_header));
  FIELD("RECORD_HEADER_SIZE", SHMRING_RECORD_HEADER_SIZE);
  FIELD("RECORD_ALIGN", SHMRING_RECORD_ALIGN);
  FIELD("TYPE_MESSAGE", SHMRING_TYPE_MESSAGE);
  FIELD("TYPE_PADDING", SHMRING_TYPE_PADDING);
  FIELD("TAG_SHIFT", SHMRING_TAG_SHIFT);
  FIELD("MAX_TAG", SHMRING_MAX_TAG);
  FIELD("MIN_CAPACITY", SHMRING_MIN_CAPACITY);
  FIELD("MAX_CAPACITY", SHMRING_MAX_CAPACITY);
  FIELD("ENTRY_SIZE", sizeof(struct shmring_entry));
  FIELD("ENTRY_STATE_OFFSET", offsetof(struct shmring_entry, state));
  FIELD("ENTRY_POSITION_OFFSET", offsetof(struct shmring_entry, position));
  FIELD("ENTRY_ROLES_OFFSET", offsetof(struct shmring_entry, roles));
  FIELD("SLOT_LENGTH_OFFSET", offsetof(struct shmring_slot, length));
  FIELD("SLOT_HEADER_SIZE", SHMRING_SLOT_HEADER_SIZE);
  FIELD("TOMBSTONE", SHMRING_TOMBSTONE);
  FIELD("ROLE_PRODUCER", SHMRING_ROLE_PRODUCER);
  FIELD("ROLE_CONSUMER", SHMRING_ROLE_CONSUMER);
  FIELD("STATE_IDLE", SHMRING_ENTRY_IDLE);
  FIELD("STATE_PRODUCING", SHMRING_ENTRY_PRODUCING);
  FIELD("STATE_CONSUMING", SHMRING_ENTRY_CONSUMING);
  FIELD("MIN_SLOT_SIZE", SHMRING_MIN_SLOT_SIZE);
  FIELD("MAX_SLOT_SIZE", SHMRING_MAX_SLOT_SIZE);
  FIELD("MIN_SLOTS", SHMRING_MIN_SLOTS);
  FIELD("MAX_SLOTS", SHMRING_MAX_SLOTS);
  FIELD("MAX_PARTICIPANTS", SHMRING_MAX_PARTICIPANTS);
  FIELD("REGISTRY_OFFSET", shmring_slots_offset(0));
  FIELD("SLOTS_OFFSET_16", shmring_slots_offset(16));
  FIELD("MPMC_SIZE_8_64_4", shmring_mpmc_size(8, 64, 4));
  printf("}\n");
  return 0;
}
